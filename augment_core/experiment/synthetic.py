"""Formula-driven synthetic images: shapes with natural variation, and random contours.

Pure, seeded numpy/Pillow functions. Every image is drawn from an outline (a closed polygon in
unit coordinates) with a random *pose* (position, rotation, scale), random colours, a random
background (flat or a linear gradient) and random sensor noise. That variation is the point: a
handful of training images cannot cover it, which is exactly what augmentation is for.

Two families use the same renderer:

* :func:`make_shapes` - six everyday geometric shapes (the ``shapes`` built-in data set).
* :func:`make_contours` - classes of random smooth closed curves defined by a few Fourier
  harmonics, used only to pre-train the embedded backbone (``scripts/pretrain_backbone.py``),
  so the backbone never sees the fine-tuning classes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES: tuple[str, ...] = ("circle", "triangle", "square", "star", "cross", "heart")
_SUPERSAMPLE = 4  # draw at 4x and box-filter down: cheap anti-aliasing


def _regular_polygon(k: int, phase: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, k, endpoint=False) + phase
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def shape_outline(kind: str) -> np.ndarray:
    """Return the outline of shape ``kind`` as a (K, 2) array, centred, radius about 1."""
    if kind == "circle":
        return _regular_polygon(48)
    if kind == "triangle":
        return _regular_polygon(3, -np.pi / 2) * 1.1
    if kind == "square":
        return _regular_polygon(4, np.pi / 4) * 0.95
    if kind == "star":
        outer = _regular_polygon(5, -np.pi / 2)
        inner = _regular_polygon(5, -np.pi / 2 + np.pi / 5) * 0.42
        return np.stack([outer, inner], axis=1).reshape(-1, 2)
    if kind == "cross":
        a, b = 0.33, 0.95
        return np.array([(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b),
                         (-a, a), (-b, a), (-b, -a), (-a, -a)], dtype=np.float64)
    if kind == "heart":
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        pts = np.stack([x, y], axis=1) / 16.0
        return pts - pts.mean(axis=0)
    raise ValueError(f"unknown shape {kind!r}")


def contour_outline(class_seed: int, harmonics: int = 4, points: int = 64) -> np.ndarray:
    """Return a random smooth closed curve r(θ) = 1 + Σ a_k cos(kθ + φ_k), fixed by ``class_seed``."""
    rng = np.random.default_rng(class_seed)
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    amps = rng.uniform(0.1, 0.6, harmonics) * rng.permutation([1.0] + [0.35] * (harmonics - 1))
    phases = rng.uniform(0, 2 * np.pi, harmonics)
    r = 1 + sum(a * np.cos((k + 2) * t + p) for k, (a, p) in enumerate(zip(amps, phases)))
    r = r / r.max()
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def render(outline: np.ndarray, size: int, rng: np.random.Generator, *, variation: float = 1.0) -> np.ndarray:
    """Draw ``outline`` once with a random pose, colours, background and noise.

    Args:
        outline: (K, 2) polygon in unit coordinates.
        size: Side of the square output image in pixels.
        rng: Source of every random choice.
        variation: 0 draws a centred, upright, mid-sized shape; 1 is the full variation.

    Returns:
        (size, size, 3) uint8 RGB image.
    """
    big = size * _SUPERSAMPLE
    scale = 0.5 - variation * rng.uniform(-0.15, 0.2)  # radius as a fraction of the half-side
    angle = variation * rng.uniform(0, 2 * np.pi)
    room = max(0.0, 1 - scale)
    centre = 0.5 + variation * rng.uniform(-room, room, 2) * 0.5
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = (outline @ rot.T) * scale * big / 2 + centre * big
    mask_img = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask_img).polygon([tuple(p) for p in pts], fill=255)
    mask = np.asarray(mask_img.resize((size, size), Image.Resampling.BOX), dtype=np.float32)[..., None] / 255.0

    fg = _random_colour(rng)
    bg_a = _random_colour(rng)
    while np.abs(fg - bg_a).sum() < 180:  # keep the shape visible against its background
        bg_a = _random_colour(rng)
    bg_b = np.clip(bg_a + rng.uniform(-60, 60, 3) * variation, 0, 255)
    direction = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    ramp = (np.cos(direction) * xx + np.sin(direction) * yy)
    ramp = ((ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6))[..., None]  # (H, W, 1) in 0..1
    background = bg_a * (1 - ramp) + bg_b * ramp
    image = background * (1 - mask) + fg * mask
    sigma = variation * rng.uniform(0, 12)
    image = image + rng.normal(0, 1, image.shape) * sigma
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _render_classes(outlines: list[np.ndarray], per_class: int, size: int, seed: int,
                    variation: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = np.empty((len(outlines) * per_class, size, size, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(len(outlines)), per_class)
    for i, label in enumerate(labels):
        images[i] = render(outlines[label], size, rng, variation=variation)
    return images, labels.astype(np.int64)


def make_shapes(per_class: int, size: int, seed: int, *, variation: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``per_class`` images of each of :data:`SHAPE_CLASSES`.

    Returns:
        images (N, size, size, 3) uint8 and labels (N,) int64, classes in order.
    """
    return _render_classes([shape_outline(k) for k in SHAPE_CLASSES], per_class, size, seed, variation)


def make_contours(classes: int, per_class: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Render ``classes`` random-contour classes (class ``c`` fixed by seed ``10_000 + c``)."""
    outlines = [contour_outline(10_000 + c) for c in range(classes)]
    return _render_classes(outlines, per_class, size, seed, 1.0)
