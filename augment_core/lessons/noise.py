"""Lesson 4: noise adds random values; blur replaces each pixel by a weighted average.

Gaussian noise changes every pixel by a small amount drawn from N(0, σ²); salt-and-pepper
noise changes a few pixels all the way to white or black. Their *pixel-difference histograms*
(noisy − original) tell them apart at a glance. A blur is a convolution with a kernel whose
weights sum to 1; the lesson shows those weights.

All randomness comes from the ``seed`` argument (``numpy.random.default_rng``).
"""

from __future__ import annotations

import cv2
import numpy as np

from augment_core.lessons.base import PLAYGROUND, Block, Control, Lesson, LessonView, Link, fmt_range
from augment_core.lessons.figures import ACCENT, AFTER, heatmap_figure, histogram_figure


def gaussian_noise(image: np.ndarray, sigma: float, *, seed: int) -> np.ndarray:
    """Add independent N(0, σ²) noise to every value, then round and clip to 0…255."""
    rng = np.random.default_rng(seed)
    noisy = image.astype(np.float64) + rng.normal(0.0, sigma, image.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def salt_and_pepper(image: np.ndarray, amount: float, *, seed: int, salt_vs_pepper: float = 0.5) -> np.ndarray:
    """Set a share ``amount`` of pixels to white (salt) or black (pepper), all channels at once."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    hit = rng.random(image.shape[:2]) < amount
    salt = rng.random(image.shape[:2]) < salt_vs_pepper
    out[hit & salt] = 255
    out[hit & ~salt] = 0
    return out


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """The (size, size) Gaussian blur kernel OpenCV uses; its weights sum to 1."""
    k = cv2.getGaussianKernel(size, sigma)
    return k @ k.T


def box_kernel(size: int) -> np.ndarray:
    """The (size, size) mean-filter kernel of ``A.Blur``: every weight is 1/size²."""
    return np.full((size, size), 1.0 / size**2)


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each output pixel is the kernel-weighted sum of its neighbours (borders mirrored, as OpenCV does)."""
    return cv2.filter2D(image, -1, kernel.astype(np.float64), borderType=cv2.BORDER_REFLECT_101)


def difference(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Signed per-value change, ``after − before``, as int16."""
    return after.astype(np.int16) - before.astype(np.int16)


def _show_difference(diff: np.ndarray) -> np.ndarray:
    """A signed difference as a picture: mid-grey is 0, lighter is brighter."""
    return np.clip(128 + diff, 0, 255).astype(np.uint8)


def build(images: list[np.ndarray], *, sigma: float, amount: float, kernel: int, blur_sigma: float, seed: int,
          samples: tuple[str, ...] = ()) -> LessonView:
    """The noise lesson for one picture and one set of slider values."""
    image = images[0]
    gauss = gaussian_noise(image, sigma, seed=seed)
    pepper = salt_and_pepper(image, amount, seed=seed)
    d_gauss, d_pepper = difference(gauss, image), difference(pepper, image)
    weights = gaussian_kernel(kernel, blur_sigma)
    blurred = convolve(image, weights)
    hist = histogram_figure({"Gaussian noise": d_gauss, "salt and pepper": d_pepper},
                            "Pixel differences (noisy − original), log scale", colours=(ACCENT, AFTER), bins=129,
                            low=-258, high=258, x_title="change in value", log_y=True)
    changed_gauss = float(np.mean(np.any(d_gauss != 0, axis=-1)))
    changed_pepper = float(np.mean(np.any(d_pepper != 0, axis=-1)))
    picked = {"samples": ",".join(samples)} if samples else {}
    centre_weight = float(weights[kernel // 2, kernel // 2])
    rows = [
        [Block("image", gauss, caption=f"Gaussian noise, σ = {sigma:g}", key="gauss_image"),
         Block("image", pepper, caption=f"Salt and pepper, {amount:.0%} of pixels", key="pepper_image")],
        [Block("figure", hist, key="difference_figure"),
         Block("metrics", [
             ("Gaussian: pixels changed", f"{changed_gauss:.0%}", "Almost every pixel moves a little."),
             ("Gaussian: std of change", f"{d_gauss.std():.1f}", "Close to σ, except where clipping at 0 or 255 cuts it."),
             ("Salt and pepper: pixels changed", f"{changed_pepper:.1%}", "Few pixels, but each all the way to black or white."),
             ("Salt and pepper: mean |change|", f"{np.abs(d_pepper[d_pepper != 0]).mean() if (d_pepper != 0).any() else 0:.0f}",
              "How far a hit pixel moves."),
         ], key="noise_metrics")],
        [Block("image", _show_difference(d_gauss), caption="Gaussian difference (grey = 0)", key="gauss_difference"),
         Block("image", _show_difference(d_pepper), caption="Salt-and-pepper difference (grey = 0)", key="pepper_difference")],
        [Block("latex", rf"G(u, v) = \frac{{1}}{{2\pi\sigma^2}}e^{{-\frac{{u^2+v^2}}{{2\sigma^2}}}},\quad \sigma = {blur_sigma:g},"
                        rf"\ \text{{{kernel}×{kernel} weights summing to }} {weights.sum():.3f}", key="kernel_latex")],
        [Block("figure", heatmap_figure(weights, f"{kernel}×{kernel} Gaussian kernel (centre weight {centre_weight:.3f})"),
               key="kernel_figure"),
         Block("image", blurred, caption=f"Blurred: each pixel is the weighted average of its {kernel}×{kernel} neighbourhood",
               key="blurred_image")],
    ]
    links = [
        Link(PLAYGROUND, "Try Gaussian noise in the playground",
             {"transform": "GaussNoise", "std_range": fmt_range(round(sigma / 255, 3)), "per_channel": "true", **picked},
             ":material/grain:"),
        Link(PLAYGROUND, "Try salt and pepper in the playground",
             {"transform": "SaltAndPepper", "amount": fmt_range(round(amount, 3)), **picked}, ":material/scatter_plot:"),
        Link(PLAYGROUND, "Try this blur in the playground",
             {"transform": "GaussianBlur", "blur_limit": fmt_range(kernel), "sigma_limit": fmt_range(blur_sigma), **picked},
             ":material/blur_on:"),
    ]
    return LessonView(rows, links)


LESSON = Lesson(
    key="noise", number=4, title="Noise and blur", icon=":material/grain:",
    text=(
        "Cameras add noise, and a model trained only on clean pictures can be thrown by it. **Gaussian noise** "
        "nudges *every* pixel by a small random amount; **salt and pepper** leaves most pixels alone and sends "
        "a few all the way to white or black. The histogram of differences shows it: a bell around 0 for one, "
        "a spike at 0 with two far-away bumps for the other.\n\n"
        "A **blur** replaces each pixel by a weighted average of its neighbours. The weights form a small "
        "*kernel*; for a Gaussian blur they fall off with distance and add up to 1, so flat areas keep their "
        "brightness and only edges soften. A larger σ spreads the weight further."
    ),
    controls=(
        Control("sigma", "Gaussian noise σ", "slider", 20.0, "Standard deviation of the noise, in values out of 255.", 0.0, 80.0, 1.0),
        Control("amount", "Salt-and-pepper amount", "slider", 0.05, "Share of pixels set to black or white.", 0.0, 0.3, 0.01),
        Control("kernel", "Blur kernel size", "steps", 7, "Width of the neighbourhood averaged (odd).", options=(3, 5, 7, 9, 11, 15)),
        Control("blur_sigma", "Blur σ", "slider", 1.5, "How far the blur's weight spreads.", 0.3, 5.0, 0.1),
        Control("seed", "Seed", "slider", 0, "Same seed, same noise.", 0, 99, 1),
    ),
    images=1, default_samples=("Text card",), build=build,
)
