"""Lesson 3: colour transforms are per-pixel maps.

Each function here computes exactly what the albumentations transform of the same name does
to a uint8 image, written as the formula a teacher would put on the board:

* brightness and contrast: ``y = α·x + β`` (``RandomBrightnessContrast``, brightness by max);
* gamma: ``y = 255·(x/255)^γ`` (``RandomGamma``);
* hue and saturation: a rotation of the hue circle and a shift of saturation in HSV
  (``HueSaturationValue``; OpenCV stores hue in 0–179, so 1 unit is 2 degrees).
"""

from __future__ import annotations

import cv2
import numpy as np
import plotly.graph_objects as go

from augment_core.lessons.base import PLAYGROUND, Block, Control, Lesson, LessonView, Link, fmt_range, to_gray
from augment_core.lessons.figures import AFTER, BEFORE, curve_figure, finish, histogram_figure


def linear_lut(alpha: float, beta: float) -> np.ndarray:
    """The 256-entry table of ``clip(round(α·x + β), 0, 255)``."""
    levels = np.arange(256, dtype=np.float64)
    return np.clip(np.rint(alpha * levels + beta), 0, 255).astype(np.uint8)


def gamma_lut(gamma: float) -> np.ndarray:
    """The 256-entry table of ``255·(x/255)^γ``, rounded: γ < 1 lifts shadows, γ > 1 darkens."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    return np.clip(np.rint(255.0 * levels**gamma), 0, 255).astype(np.uint8)


def apply_lut(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every pixel value through ``lut`` (the same table for every channel)."""
    return cv2.LUT(image, lut)


def shift_hue_saturation(image: np.ndarray, hue_degrees: float, saturation: float) -> np.ndarray:
    """Rotate hue by ``hue_degrees`` and add ``saturation`` (−255..255) to saturation, in HSV.

    Grey pixels (saturation 0) stay grey, as in albumentations.
    """
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue, sat, val = cv2.split(hsv)
    if hue_degrees:
        hue_lut = np.mod(np.arange(256, dtype=np.int16) + hue_degrees / 2.0, 180).astype(np.uint8)
        hue = cv2.LUT(hue, hue_lut)
    if saturation:
        grey = sat == 0
        sat = np.clip(sat.astype(np.float64) + saturation, 0, 255).astype(np.uint8)
        sat[grey] = 0
    return cv2.cvtColor(cv2.merge((hue, sat, val)), cv2.COLOR_HSV2RGB)


def mapped_histogram(counts: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """The histogram after a per-pixel map, predicted from the histogram before.

    Every pixel at level ``v`` goes to ``lut[v]``, so its count moves there: no pixel is needed.
    """
    out = np.zeros(256, dtype=np.int64)
    np.add.at(out, lut.astype(np.int64), counts)
    return out


def hue_wheel_figure(before: np.ndarray, after: np.ndarray, *, n: int = 400, seed: int = 0) -> go.Figure:
    """The same seeded sample of pixels on the hue (angle) × saturation (radius) wheel, before and after."""
    rng = np.random.default_rng(seed)
    flat_b, flat_a = before.reshape(-1, 3), after.reshape(-1, 3)
    pick = rng.choice(len(flat_b), size=min(n, len(flat_b)), replace=False)
    fig = go.Figure()
    for name, pixels, symbol in (("before", flat_b[pick], "circle-open"), ("after", flat_a[pick], "circle")):
        hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(float)
        colours = [f"rgb({r},{g},{b})" for r, g, b in pixels]
        fig.add_trace(go.Scatterpolar(theta=hsv[:, 0] * 2, r=hsv[:, 1] / 255, mode="markers", name=name,
                                      marker={"color": colours, "size": 7 if name == "after" else 9, "symbol": symbol,
                                              "line": {"width": 1, "color": BEFORE if name == "before" else AFTER}}))
    fig.update_polars(radialaxis={"range": [0, 1], "title": {"text": "saturation"}}, angularaxis={"direction": "counterclockwise"})
    return finish(fig, "Hue is an angle: a hue shift turns every colour round the wheel", height=380)


def build(images: list[np.ndarray], *, alpha: float, beta: float, gamma: float, hue: float, saturation: float,
          samples: tuple[str, ...] = ()) -> LessonView:
    """The colour lesson for one picture and one set of slider values."""
    image = images[0]
    lut = linear_lut(alpha, beta)
    adjusted = apply_lut(image, lut)
    gray_before, gray_after = to_gray(image), to_gray(adjusted)
    levels = np.arange(256)
    gamma_image = apply_lut(image, gamma_lut(gamma))
    hued = shift_hue_saturation(image, hue, saturation)
    picked = {"samples": ",".join(samples)} if samples else {}
    map_fig = curve_figure(levels, {f"y = {alpha:.2f}·x {beta:+.0f}": lut.astype(float), "identity": levels.astype(float)},
                           "The map: each input level goes to one output level", x_title="input x", y_title="output y")
    gamma_fig = curve_figure(levels, {f"γ = {gamma:.2f}": gamma_lut(gamma).astype(float), "identity": levels.astype(float)},
                             "Gamma bends the curve, keeping black and white", x_title="input x", y_title="output y")
    clipped = float(np.mean((lut[image] == 0) | (lut[image] == 255)) - np.mean((image == 0) | (image == 255)))
    rows = [
        [Block("latex", rf"y = \alpha x + \beta = {alpha:.2f}\,x {beta:+.0f}\quad\text{{(clipped to 0…255)}}", key="linear_latex")],
        [Block("figure", map_fig, key="map_figure"),
         Block("figure", histogram_figure({"before": gray_before, "after": gray_after},
                                          "Intensity histogram: stretched by α, shifted by β"), key="histogram_figure")],
        [Block("image", image, caption="Original", key="original"),
         Block("image", adjusted, caption=f"α = {alpha:.2f}, β = {beta:+.0f}", key="adjusted"),
         Block("metrics", [("Mean intensity", f"{gray_before.mean():.0f} → {gray_after.mean():.0f}", "Brightness moves with β (and α)."),
                           ("Spread (std)", f"{gray_before.std():.0f} → {gray_after.std():.0f}", "Contrast: the spread is multiplied by α."),
                           ("Newly clipped values", f"{max(clipped, 0.0):.1%}", "Values pushed past 0 or 255 lose their detail for good.")],
               key="linear_metrics")],
        [Block("latex", rf"y = 255\left(\frac{{x}}{{255}}\right)^{{\gamma}},\quad \gamma = {gamma:.2f}", key="gamma_latex")],
        [Block("figure", gamma_fig, key="gamma_figure"), Block("image", gamma_image, caption=f"γ = {gamma:.2f}", key="gamma_image")],
        [Block("markdown", f"Hue turned by **{hue:+.0f}°**, saturation shifted by **{saturation:+.0f}** (of 255). "
                           "Grey pixels have no hue, so they stay grey.", key="hue_note")],
        [Block("figure", hue_wheel_figure(image, hued), key="hue_figure"),
         Block("image", hued, caption=f"hue {hue:+.0f}°, saturation {saturation:+.0f}", key="hue_image")],
    ]
    links = [
        Link(PLAYGROUND, "Try brightness and contrast in the playground",
             {"transform": "RandomBrightnessContrast", "brightness_limit": fmt_range(round(beta / 255, 3)),
              "contrast_limit": fmt_range(round(alpha - 1, 3)), **picked}, ":material/contrast:"),
        Link(PLAYGROUND, "Try gamma in the playground", {"transform": "RandomGamma", "gamma_limit": fmt_range(round(gamma * 100)), **picked},
             ":material/show_chart:"),
        Link(PLAYGROUND, "Try hue and saturation in the playground",
             {"transform": "HueSaturationValue", "hue_shift_limit": fmt_range(round(hue / 2)),
              "sat_shift_limit": fmt_range(round(saturation)), "val_shift_limit": "0,0", **picked}, ":material/palette:"),
    ]
    return LessonView(rows, links)


LESSON = Lesson(
    key="colour", number=3, title="Colour as per-pixel maps", icon=":material/palette:",
    text=(
        "Colour transforms never move a pixel; they **replace each value by a function of itself**. "
        "Brightness adds β and contrast multiplies by α: y = αx + β. So the histogram of intensities is "
        "*stretched* by α and *shifted* by β, and anything pushed past 0 or 255 is clipped: those details "
        "are gone, which is why strong settings can hurt.\n\n"
        "Gamma bends the same line into a curve that keeps black and white where they are. Hue and saturation "
        "work in another coordinate system (HSV): hue is an angle on the colour wheel, so a hue shift *turns* "
        "every colour, and saturation is the distance from grey."
    ),
    controls=(
        Control("alpha", "Contrast α", "slider", 1.3, "Multiplies every value: above 1 spreads the histogram, below 1 squeezes it.",
                0.2, 3.0, 0.05),
        Control("beta", "Brightness β", "slider", 20.0, "Added to every value (out of 255).", -128.0, 128.0, 1.0),
        Control("gamma", "Gamma γ", "slider", 0.7, "Below 1 brightens the shadows, above 1 darkens them.", 0.2, 3.0, 0.05),
        Control("hue", "Hue shift (degrees)", "slider", 60.0, "Turns every colour round the colour wheel.", -180.0, 180.0, 2.0),
        Control("saturation", "Saturation shift", "slider", 0.0, "Moves colours away from grey (positive) or towards it.",
                -100.0, 100.0, 1.0),
    ),
    images=1, default_samples=("Coffee",), build=build,
)
