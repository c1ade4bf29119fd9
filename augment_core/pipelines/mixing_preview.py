"""Previews of mixing augmentations (MixUp, CutMix, Mosaic) with the label weights they produce.

MixUp and CutMix come from :mod:`augment_core.pipelines.mixing`, the batch-level functions the training
engine uses, so the preview shows exactly what training does. Mosaic is albumentations' own
``A.Mosaic``; its label weights are the share of the output each source image covers, measured
by passing each image's index as a mask through the same transform.

Example:
    >>> tiles = mix_preview([cat, dog], ["cat", "dog"], "MixUp", alpha=0.4, seed=0)
    >>> tiles[0].caption
    '0.83 cat + 0.17 dog'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import albumentations as A
import cv2
import numpy as np

from augment_core.pipelines import mixing
from augment_core.errors import AugLabError
from augment_core.transforms.preview import encode_jpeg

Method = Literal["MixUp", "CutMix", "Mosaic"]
METHODS: dict[str, str] = {
    "MixUp": "Blends two images pixel by pixel; the label is blended with the same weight λ ~ Beta(α, α).",
    "CutMix": "Pastes a box of one image into another; the label weight is the share of area each keeps.",
    "Mosaic": "Tiles four images into one (as in YOLO training); each label weighs the area its image covers.",
}


@dataclass(frozen=True)
class MixTile:
    """One mixed image and its soft label in words."""

    image: np.ndarray = field(repr=False)  # (size, size, 3) uint8
    encoded: bytes = field(repr=False)  # JPEG bytes for the browser
    caption: str  # e.g. "0.70 cat + 0.30 dog"


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square and resize, so images of any shape can be mixed."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return cv2.resize(np.ascontiguousarray(image[top : top + side, left : left + side]), (size, size), interpolation=cv2.INTER_AREA)


def _weights_caption(weights: dict[str, float]) -> str:
    parts = sorted(((w, name) for name, w in weights.items() if w > 1e-6), key=lambda t: -t[0])
    return " + ".join(f"{w:.2f} {name}" for w, name in parts)


def _mosaic(batch: np.ndarray, names: list[str], seed: int) -> list[MixTile]:
    size = batch.shape[1]
    compose = A.Compose([A.Mosaic(grid_yx=(2, 2), target_size=(size, size), cell_shape=(size, size), p=1.0)], seed=seed)
    tiles = []
    for i in range(len(batch)):
        others = [j for j in range(len(batch)) if j != i]
        partners = [others[k % len(others)] for k in range(3)]  # three partners, repeating when fewer
        out = compose(image=batch[i], mask=np.full((size, size), i, np.uint8),
                      mosaic_metadata=[{"image": batch[j], "mask": np.full((size, size), j, np.uint8)} for j in partners])
        counts = np.bincount(out["mask"].ravel(), minlength=len(batch)) / out["mask"].size
        weights: dict[str, float] = {}
        for j, share in enumerate(counts):
            weights[names[j]] = weights.get(names[j], 0.0) + float(share)
        tiles.append(MixTile(out["image"], encode_jpeg(out["image"]), _weights_caption(weights)))
    return tiles


def mix_preview(images: list[np.ndarray], names: list[str], method: Method, *, alpha: float = 1.0, seed: int = 0,
                size: int = 256) -> list[MixTile]:
    """Mix a batch of ``images`` (labelled by ``names``) and return one tile per image.

    Args:
        images: (H, W, 3) uint8 arrays of any sizes; centre-cropped and resized to ``size``.
        names: The class name of each image; equal names add up in the caption.
        method: ``"MixUp"``, ``"CutMix"`` or ``"Mosaic"``.
        alpha: The Beta(α, α) parameter of λ for MixUp and CutMix (small α: mostly one image).
        seed: Same seed, same mix.
        size: Side of the square tiles.

    Raises:
        AugLabError: with fewer than two images, an unknown method or α ≤ 0.
    """
    if len(images) < 2 or len(images) != len(names):
        raise AugLabError("Mixing needs at least two images, each with a label.", hint="Pick two or more images.")
    if method not in METHODS:
        raise AugLabError(f"“{method}” is not a mixing method; choose {', '.join(METHODS)}.", field="method")
    if method != "Mosaic" and not alpha > 0:
        raise AugLabError("α must be greater than 0.", field="alpha")
    batch = np.stack([_square(image, size) for image in images])  # (B, size, size, 3) uint8
    if method == "Mosaic":
        return _mosaic(batch, names, seed)
    classes = sorted(set(names), key=names.index)
    labels = np.array([classes.index(n) for n in names])
    mix = mixing.mixup if method == "MixUp" else mixing.cutmix
    result = mix(batch, labels, len(classes), alpha=alpha, rng=np.random.default_rng(seed))
    return [MixTile(result.images[i], encode_jpeg(result.images[i]), mixing.describe_mix(result, i, classes)) for i in range(len(batch))]


def real_mix_seed(method: Method, *, alpha: float, seed: int, count: int = 2, low: float = 0.2, tries: int = 200,
                  size: int = 256) -> int:
    """The first seed from ``seed`` on whose draw is a visible mix (λ between ``low`` and ``1 - low``).

    At small α most Beta(α, α) draws are almost 0 or 1, so the first draw of a seed is often
    "1.00 cat + 0.00 astronaut": true, but it shows nothing. The preview starts from a draw that
    shows a mix, and says so. Uses the same mixing functions as :func:`mix_preview`, on a tiny
    batch, so the λ found is the λ the preview draws. Mosaic has no λ: ``seed`` is returned.
    """
    if method == "Mosaic" or method not in METHODS or not alpha > 0:
        return seed
    batch = np.zeros((max(2, count), size, size, 3), np.uint8)  # CutMix's λ depends on the tile size
    labels = np.arange(len(batch)) % 2
    mix = mixing.mixup if method == "MixUp" else mixing.cutmix
    for candidate in range(seed, seed + tries):
        result = mix(batch, labels, 2, alpha=alpha, rng=np.random.default_rng(candidate))
        # A visible mix: λ away from 0 and 1, and at least one image paired with another (not itself).
        if low <= result.lam <= 1 - low and bool((np.asarray(result.partner) != np.arange(len(batch))).any()):
            return candidate
    return seed
