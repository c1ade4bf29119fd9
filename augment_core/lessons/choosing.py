"""Lesson 6: an augmentation must not change the answer.

Two built-in examples: handwritten digits (scikit-image's neighbour, scikit-learn, ships 1,797
of them at 8x8), read by a small linear classifier fitted here in closed form, so the lesson can
show a 6 turning into a 9 as it rotates; and a drawn fruit whose hue is its ripeness. The presets
per kind of data and their label warnings come from :mod:`augment_core.pipelines.presets`.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from augment_core.pipelines import presets
from augment_core.pipelines.io import encode_link
from augment_core.lessons.base import PIPELINE, PLAYGROUND, Block, Control, Lesson, LessonView, Link
from augment_core.lessons.colour import shift_hue_saturation
from augment_core.lessons.figures import AFTER, GOOD, curve_figure

RIPE_HUE, UNRIPE_HUE = 5.0, 100.0  # degrees: red-orange ripe, green unripe


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: (1797, 8, 8) float images in 0…16 and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images.astype(np.float64), data.target.astype(np.int64)


@lru_cache(maxsize=1)
def digit_weights(ridge: float = 1.0) -> np.ndarray:
    """(65, 10) weights of a ridge-regression classifier on one-hot targets (closed form, no randomness)."""
    images, labels = digits()
    x = np.c_[images.reshape(len(images), -1) / 16.0, np.ones(len(images))]
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ np.eye(10)[labels])


def digit_probabilities(images: np.ndarray) -> np.ndarray:
    """(N, 8, 8) digits -> (N, 10) class probabilities (softmax of the linear scores)."""
    x = np.c_[np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 16.0, np.ones(len(images))]
    scores = 8.0 * x @ digit_weights()
    scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def rotate_digit(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate an 8x8 digit anticlockwise by ``angle`` degrees about its centre (bilinear, black fill)."""
    m = cv2.getRotationMatrix2D((3.5, 3.5), angle, 1.0)
    return cv2.warpAffine(np.asarray(image, np.float32), m, (8, 8), flags=cv2.INTER_LINEAR).astype(np.float64)


def digit_picture(image: np.ndarray, side: int = 112) -> np.ndarray:
    """An 8x8 digit (0…16) as a large RGB picture, dark ink on white, blocky so the pixels show."""
    gray = np.clip(255 - image * 16, 0, 255).astype(np.uint8)
    big = cv2.resize(gray, (side, side), interpolation=cv2.INTER_NEAREST)
    return np.repeat(big[..., None], 3, axis=2)


def fruit(hue: float = RIPE_HUE, side: int = 160) -> np.ndarray:
    """A drawn round fruit of the given hue (degrees), shaded, with a brown stem and a green leaf."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    cx, cy, r = side / 2, side * 0.55, side * 0.36
    d = np.hypot(x - cx, y - cy) / r
    shade = np.clip(1.0 - 0.45 * np.hypot(x - cx + r * 0.35, y - cy + r * 0.35) / r, 0.35, 1.0)
    hsv = np.zeros((side, side, 3), np.uint8)
    hsv[..., 0] = int(round(hue / 2)) % 180
    hsv[..., 1] = 210
    hsv[..., 2] = np.clip(255 * shade, 0, 255).astype(np.uint8)
    image = np.full((side, side, 3), 246, np.uint8)
    inside = d <= 1.0
    image[inside] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[inside]
    top = (int(cx), int(cy - r))
    cv2.line(image, top, (int(cx + side * 0.04), int(cy - r - side * 0.12)), (110, 70, 30), max(2, side // 40))
    cv2.ellipse(image, (int(cx + side * 0.1), int(cy - r - side * 0.06)), (side // 10, side // 28), -25, 0, 360, (60, 150, 60), -1)
    return image


def mean_hue(image: np.ndarray) -> float:
    """Circular mean hue (degrees, 0…360) of the saturated pixels of ``image``."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.float64)
    coloured = hsv[hsv[:, 1] > 80]
    angles = np.deg2rad(coloured[:, 0] * 2)
    return float(np.rad2deg(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())) % 360)


def ripeness(hue: float) -> float:
    """Probability the fruit reads as ripe: a logistic on the hue distance to red versus green."""
    def dist(a: float, b: float) -> float:
        return abs((a - b + 180) % 360 - 180)

    return float(1.0 / (1.0 + np.exp((dist(hue, RIPE_HUE) - dist(hue, UNRIPE_HUE)) / 15.0)))


def build(images: list[np.ndarray], *, digit: int, angle: float, hue: float, data_kind: str,
          samples: tuple[str, ...] = ()) -> LessonView:
    """The choosing lesson: a digit turned by ``angle``, the fruit shifted by ``hue``, presets for ``data_kind``."""
    all_images, labels = digits()
    example = all_images[np.flatnonzero(labels == digit)[0]]
    variants = {"original": example, "mirrored (HorizontalFlip)": example[:, ::-1], "upside down (VerticalFlip)": example[::-1],
                f"rotated {angle:g}°": rotate_digit(example, angle)}
    probs = digit_probabilities(np.stack(list(variants.values())))
    angles = np.arange(-180, 181, 5, dtype=float)
    curve = digit_probabilities(np.stack([rotate_digit(example, a) for a in angles]))
    now = probs[-1]
    rival = int(np.argmax(np.where(np.arange(10) == digit, -1.0, now)))  # what it is mistaken for at this angle
    digit_fig = curve_figure(angles, {f"P(reads as {digit})": curve[:, digit], f"P(reads as {rival})": curve[:, rival]},
                             f"A classifier reading this {digit} as it turns", colours=(GOOD, AFTER),
                             marker=(angle, float(now[digit])), x_title="rotation (degrees)", y_title="probability")
    ripe, shifted = fruit(), shift_hue_saturation(fruit(), hue, 0.0)
    hues = np.arange(-180, 181, 5, dtype=float)
    ripe_curve = np.array([ripeness((RIPE_HUE + h) % 360) for h in hues])
    fruit_fig = curve_figure(hues, {"P(reads as ripe)": ripe_curve}, "Hue is ripeness here",
                             colours=(AFTER,), marker=(hue, ripeness(mean_hue(shifted))), x_title="hue shift (degrees)",
                             y_title="probability")
    kind_presets = [presets.get_pipeline_preset(n) for n in presets.list_pipeline_presets() if presets.get_pipeline_preset(n).data_kind == data_kind]
    warnings = {n: presets.label_warnings(presets.create_pipeline_preset(n), data_kind) for n in presets.list_pipeline_presets()}
    table = [{"preset": n, "made for": presets.get_pipeline_preset(n).data_kind,
              "label warnings for this data": "; ".join(w.message for w in ws) or "none"} for n, ws in warnings.items()]
    rows = [
        [Block("image", digit_picture(im), caption=f"{name}: reads as {int(np.argmax(p))} ({p.max():.0%})", key=f"digit_{i}")
         for i, ((name, im), p) in enumerate(zip(variants.items(), probs))],
        [Block("figure", digit_fig, key="digit_figure"),
         Block("markdown", f"At {angle:g}° the classifier reads **{int(np.argmax(now))}** ({now.max():.0%}). Small turns keep the "
                           f"answer: they are *label-preserving*. Half a turn makes a 6 into a 9: for digits, large rotations "
                           "and flips are *label-changing* and must stay out of the pipeline.", key="digit_note")],
        [Block("image", ripe, caption=f"Ripe fruit (hue {mean_hue(ripe):.0f}°)", key="fruit"),
         Block("image", shifted, caption=f"Hue shifted {hue:+.0f}° → hue {mean_hue(shifted):.0f}°, "
                                         f"{'ripe' if ripeness(mean_hue(shifted)) >= 0.5 else 'unripe'}", key="fruit_shifted"),
         Block("figure", fruit_fig, key="fruit_figure")],
        [Block("markdown", f"**Presets made for {data_kind.lower()}** ({presets.DATA_KINDS[data_kind]}): "
                           + ("; ".join(f"*{p.name}*: {p.rationale}" for p in kind_presets) or "none yet: start from a light "
                              "preset and remove any step warned about below."), key="preset_note")],
        [Block("table", table, caption=f"Every preset checked against {data_kind.lower()}", key="preset_table")],
    ]
    recommended = kind_presets[0].name if kind_presets else presets.list_pipeline_presets()[0]
    links = [
        Link(PLAYGROUND, "See flips on the text card in the playground", {"transform": "HorizontalFlip", "samples": "Text card"},
             ":material/flip:"),
        Link(PLAYGROUND, "Try hue shifts in the playground",
             {"transform": "HueSaturationValue", "hue_shift_limit": f"{round(hue / 2)},{round(hue / 2)}",
              "sat_shift_limit": "0,0", "val_shift_limit": "0,0", **({"samples": ",".join(samples)} if samples else {})},
             ":material/palette:"),
        Link(PIPELINE, f"Open the preset “{recommended}” in the pipeline editor",
             {"pipeline": encode_link(presets.create_pipeline_preset(recommended))}, ":material/account_tree:"),
    ]
    return LessonView(rows, links)


LESSON = Lesson(
    key="choosing", number=6, title="Choosing augmentations", icon=":material/rule:",
    text=(
        "An augmentation teaches the model: *this changed picture has the same label*. That is only true for "
        "changes that do not change the answer. A cat photo mirrored is still a cat, so `HorizontalFlip` is "
        "**label-preserving** for pets. A handwritten 6 turned upside down is a 9, so for digits a half turn is "
        "**label-changing**: training on it teaches the model a falsehood. Colour is the same story: "
        "hue jitter is harmless for telling cats from dogs, but if the label is *ripe* versus *unripe*, hue *is* the label.\n\n"
        "So choose per kind of data. Move the sliders to see when the answer flips, then pick your kind of data "
        "to see which presets suit it and which of their steps would change your labels."
    ),
    controls=(
        Control("angle", "Rotate the digit (degrees)", "slider", 180.0, "Anticlockwise turn of the digit.", -180.0, 180.0, 5.0),
        Control("digit", "Digit", "select", 6, "Which handwritten digit to turn.", options=tuple(range(10))),
        Control("hue", "Shift the fruit's hue (degrees)", "slider", 90.0, "Turns the fruit's colour round the colour wheel.",
                -180.0, 180.0, 5.0),
        Control("data_kind", "Kind of data", "select", "Digits and handwriting", "Which presets fit, and which steps would change the label.",
                options=tuple(presets.list_data_kinds())),
    ),
    images=0, default_samples=(), build=build,
)
