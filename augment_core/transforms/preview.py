"""Live previews: a seeded grid of augmented samples, each with the parameters it drew.

Pure and fast: the page passes a transform (or a whole pipeline) and arrays that are already
downscaled; this returns encoded tiles and captions. The grid is reproducible: the same
transform, images and seed give the same tiles, and asking for more tiles keeps the first ones.

Example:
    >>> grid = render_grid(catalog.create_transform("Rotate"), [image], n=8, seed=42)
    >>> grid.tiles[0].caption
    'angle -12.3°'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import albumentations as A
import cv2
import numpy as np

from augment_core.errors import AugLabError
from augment_core.settings import get_int

# Keys of applied parameters that say nothing to a person looking at the tile.
_QUIET = {
    "shape", "interpolation", "mask_interpolation", "fill", "fill_mask", "order", "seed", "border_mode",
    "x_min", "x_max", "y_min", "y_max", "bbox_matrix", "output_shape", "pad_params", "keypoints", "bboxes",
}


# JPEG quality of the tiles sent to the browser. They are shown at half their pixel size or less
# (240×320 tiles in 103–190 CSS px), where 80 looks the same as 88 and is a quarter fewer bytes
# for the browser to receive, decode and paint on every slider move (16 KB against 21 KB a tile).
TILE_QUALITY = 80


@dataclass(frozen=True)
class Tile:
    """One augmented sample."""

    image: np.ndarray | None = field(repr=False)  # (H, W, 3) uint8; None when only the encoded tile was asked for
    encoded: bytes = field(repr=False)  # JPEG bytes, ready for the browser
    caption: str  # the parameters this sample drew, in words
    source: int  # index of the input image it came from


@dataclass(frozen=True)
class PreviewGrid:
    """A grid of tiles and what it cost."""

    tiles: list[Tile]
    seed: int
    transform_ms: float  # time spent inside albumentations
    total_ms: float  # parameters in, encoded tiles out
    encode_ms: float = 0.0  # of which JPEG encoding


def _number(value: float) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return f"{float(value):.3g}"


def _describe_value(key: str, value: Any) -> str | None:
    if isinstance(value, np.ndarray):
        if value.shape == (3, 3) and key in ("matrix", "M", "transform_matrix"):
            # Image rows grow downwards, so albumentations' (counter-clockwise) angle is -atan2(m10, m00).
            angle = math.degrees(math.atan2(-value[1, 0], value[0, 0]))
            scale = math.sqrt(abs(np.linalg.det(value[:2, :2])))
            parts = [f"angle {angle:+.1f}°"]
            if abs(scale - 1) > 0.005:
                parts.append(f"scale {scale:.2f}")
            if abs(value[0, 2]) + abs(value[1, 2]) > 0.5 and abs(angle) < 0.05:
                parts.append(f"shift {value[0, 2]:+.0f},{value[1, 2]:+.0f}px")
            return ", ".join(parts)
        if key in ("noise_map", "noise") and value.ndim >= 2:
            # A strided 1/16 sample estimates σ to within a fraction of a grey level at a sixteenth of the cost.
            return f"noise σ {value[::4, ::4].std():.1f}"
        if key in ("noise_map", "noise") and value.ndim == 1 and 0 < value.size <= 4:
            # One value per channel (RGBShift's shift, AdditiveNoise's per-channel draw).
            return f"{key.replace('_', ' ')} ({', '.join(_number(v) for v in value)})"
        if key == "map_x" and value.ndim == 2:  # distortions: how far the farthest pixel moved
            return f"moves pixels up to {np.abs(value - np.arange(value.shape[1])[None, :]).max():.1f}px across"
        if key == "map_y" and value.ndim == 2:
            return f"{np.abs(value - np.arange(value.shape[0])[:, None]).max():.1f}px down"
        if "kernel" in key and value.ndim in (1, 2):
            return f"kernel {'×'.join(str(d) for d in (value.shape if value.ndim == 2 else value.shape * 2))}"
        if key.endswith("_mask") and value.dtype == bool:
            return f"{key.removesuffix('_mask').replace('_', ' ')} {value.mean():.1%} of pixels"
        if key == "zoom_factors" and value.size:
            return f"zoom up to ×{value.max():.2f}"
        if value.ndim == 1 and 0 < value.size <= 4 and np.issubdtype(value.dtype, np.number):
            return f"{key.replace('_', ' ')} ({', '.join(_number(v) for v in value)})"
        if value.ndim == 2 and key in ("holes", "rain_drops", "gravels_infos", "flare_center", "circles", "vertices_list"):
            return f"{key.replace('_', ' ')}: {len(value)}"
        return None
    if isinstance(value, bool | np.bool_):
        return f"{key.replace('_', ' ')} {'yes' if value else 'no'}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{key.replace('_', ' ')} {_number(value)}"
    if isinstance(value, str):
        return f"{key.replace('_', ' ')} {value}"
    if isinstance(value, (tuple, list)) and 0 < len(value) <= 4 and all(isinstance(v, (int, float, np.number)) for v in value):
        return f"{key.replace('_', ' ')} ({', '.join(_number(v) for v in value)})"
    return None


def _safe_describe(key: str, value: Any) -> str | None:
    """:func:`_describe_value`, but a value it cannot read is left out instead of breaking the tile.

    A caption is a courtesy: albumentations can hand us any shape (a 1-D per-channel array where a
    map was expected crashed RGBShift and AdditiveNoise once), and no such surprise may cost the
    sample itself.
    """
    try:
        return _describe_value(key, value)
    except Exception:  # noqa: BLE001 - any failure to describe means "say nothing about this value"
        return None


def describe_params(params: dict[str, Any], limit: int = 4) -> str:
    """Short, readable summary of the parameters one transform drew for one sample."""
    quiet = _QUIET | ({"rotate", "scale", "shear", "translate_px"} if "matrix" in params else set())
    parts = [text for key, value in params.items() if key not in quiet and (text := _safe_describe(key, value))]
    return "; ".join(parts[:limit]) if parts else "applied"


def caption_for(applied: list[tuple[str, dict[str, Any]]], expected: int = 1) -> str:
    """Caption for one sample from albumentations' ``applied_transforms``.

    With a single transform, only its parameters are listed; with a pipeline, each applied
    step is named. Steps that were skipped (by their probability) are not listed.
    """
    if not applied:
        return "not applied (probability)"
    if expected == 1 and len(applied) == 1:
        return describe_params(applied[0][1])
    return " · ".join(f"{name}: {describe_params(params, limit=2)}" for name, params in applied)


def encode_jpeg(image: np.ndarray, quality: int = 88) -> bytes:
    """Encode an RGB uint8 array as JPEG bytes (OpenCV is several times faster than Pillow here)."""
    ok, buffer = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV only fails on invalid arrays
        raise AugLabError("Could not encode a preview tile.")
    return buffer.tobytes()


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """The tile as (H, W, 3) uint8, or :class:`AugLabError` saying what came back instead."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise AugLabError(f"The transform returned an image of shape {image.shape}, which cannot be shown.", hint="Try other values.")
    if image.dtype != np.uint8:  # e.g. a float image: its range is unknown, so guessing would mislead
        raise AugLabError(f"The transform returned {image.dtype} pixels, which cannot be shown as a picture.", hint="Try another transform.")
    return image


def display_size(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` shrunk so its longest side is at most ``max_side``; 0 keeps it as is.

    A tile is shown 100–250 CSS pixels wide in a four-column grid, so sending it at the 512-px
    preview size costs several times the bytes and encoding time the eye can use. Shrinking by
    2× or more averages areas (anything coarser would alias); a smaller step interpolates
    bilinearly, which is what browsers do and 7× cheaper than OpenCV's area averaging at a
    non-integer factor (1 ms against 0.14 ms for 512 → 320 px, paid for every tile of every move).
    """
    h, w = image.shape[:2]
    if max_side <= 0 or max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    interpolation = cv2.INTER_AREA if scale <= 0.5 else cv2.INTER_LINEAR
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interpolation)


def render_grid(transform: A.BasicTransform | A.BaseCompose, images: list[np.ndarray], n: int = 8, seed: int = 0, *, encode: bool = True,
                keep_images: bool = True) -> PreviewGrid:
    """Apply ``transform`` ``n`` times, cycling through ``images``, seeded by ``seed``.

    Args:
        transform: One albumentations transform, or a ``Compose``/``OneOf`` pipeline.
        images: (H, W, 3) uint8 arrays, already downscaled for preview.
        n: Number of tiles.
        seed: Seed of the whole grid; tile ``i`` is always the ``i``-th draw.
        encode: Also JPEG-encode each tile (what the browser receives), shrunk to the
            ``AUGLAB_PREVIEW_TILE_SIZE`` setting; ``Tile.image`` keeps the full augmented size.
        keep_images: Keep each tile's full-size array in ``Tile.image`` (otherwise ``None``).
            A page that draws the encoded tiles does not need them, and from a preview worker
            they are 5 MB of pickling per 8-tile grid.

    Raises:
        AugLabError: when albumentations fails on these images with these settings; the message
            says which transform and why, so the page can show it and keep working.
    """
    if not images:
        raise AugLabError("No image to preview.", hint="Upload an image or pick a sample to start.")
    start = time.perf_counter()
    steps = [transform] if isinstance(transform, A.BasicTransform) else list(transform.transforms)
    pipeline = A.Compose(steps, seed=seed, save_applied_params=True, strict=False)
    tiles: list[Tile] = []
    transform_s = encode_s = 0.0
    tile_side = get_int("AUGLAB_PREVIEW_TILE_SIZE") if encode else 0
    for i in range(n):
        source = i % len(images)
        t0 = time.perf_counter()
        # Everything a tile needs (the transform, its caption, its encoding) sits inside one
        # translation, so no step of the preview can reach the page as a raw traceback.
        try:
            result = pipeline(image=images[source])
            transform_s += time.perf_counter() - t0
            out = _as_rgb_uint8(result["image"])
            caption = caption_for(result.get("applied_transforms", []), expected=len(steps))
            t1 = time.perf_counter()
            encoded = encode_jpeg(display_size(out, tile_side), quality=TILE_QUALITY) if encode else b""
            encode_s += time.perf_counter() - t1
            tiles.append(Tile(out if keep_images else None, encoded, caption, source))
        except AugLabError:
            raise
        except Exception as exc:  # albumentations raises many types; all become one clear message
            names = ", ".join(type(s).__name__ for s in steps)
            raise AugLabError(f"{names} failed on this image with these settings: {exc}", hint="Try other values or another image.") from exc
    total_ms = (time.perf_counter() - start) * 1000
    return PreviewGrid(tiles, seed, transform_s * 1000, total_ms, encode_s * 1000)


@dataclass(frozen=True)
class PreviewPlan:
    """How big a grid to draw first, so a slow transform answers within the budget.

    ``side`` is the longest image side to preview at (``None``: the images as given) and ``n``
    the number of tiles; the estimates come from timing one small probe tile.
    """

    n: int  # tiles to draw first
    side: int | None  # longest side to draw them at; None keeps the given size
    full_ms: float  # estimated cost of the grid as asked (all tiles, full size)
    first_ms: float  # estimated cost of the grid this plan draws

    @property
    def reduced(self) -> bool:
        """Whether the first grid is smaller or has fewer tiles than asked."""
        return self.side is not None


# Sizes tried, largest first, when a grid at full size would take longer than the budget.
_QUICK_SIDES = (384, 256, 192, 128, 96)


def shrink(images: list[np.ndarray], side: int | None) -> list[np.ndarray]:
    """Every image with its longest side at most ``side`` (``None`` leaves them as they are)."""
    return images if side is None else [display_size(image, side) for image in images]


def plan_preview(transform: A.BasicTransform | A.BaseCompose, images: list[np.ndarray], n: int, seed: int,
                 budget_ms: float, probe_side: int = 96) -> PreviewPlan:
    """Estimate what ``render_grid(transform, images, n, seed)`` would cost, and plan a quicker first grid.

    One tile is drawn at ``probe_side`` pixels and timed; cost is taken as proportional to the
    pixel count (true of warps, blurs and noise, conservative for constant-cost transforms). When
    the full grid would exceed ``budget_ms``, the plan picks the largest of 384/256/192/128/96 px
    that fits, and with the smallest size also fewer tiles. A transform that cannot run at the
    probe size (a crop larger than the probe image) is planned at full size.

    Example:
        >>> plan = plan_preview(catalog.create_transform("PiecewiseAffine"), [image], n=8, seed=0, budget_ms=2000)
        >>> plan.reduced, plan.side
        (True, 128)
    """
    if not images or n <= 0:
        return PreviewPlan(n, None, 0.0, 0.0)
    probe = display_size(images[0], probe_side)
    start = time.perf_counter()
    try:
        render_grid(transform, [probe], n=1, seed=seed, encode=False)
    except AugLabError:
        return PreviewPlan(n, None, 0.0, 0.0)  # render_grid at full size will explain the failure
    per_pixel = (time.perf_counter() - start) * 1000 / (probe.shape[0] * probe.shape[1])
    pixels = sum(image.shape[0] * image.shape[1] for image in images) / len(images)
    full_ms = per_pixel * pixels * n
    if full_ms <= budget_ms:
        return PreviewPlan(n, None, full_ms, full_ms)
    longest = max(max(image.shape[:2]) for image in images)
    for side in _QUICK_SIDES:
        if side >= longest:
            continue
        scale = (side / longest) ** 2
        if full_ms * scale <= budget_ms or side == _QUICK_SIDES[-1]:
            per_tile = full_ms * scale / n
            fit = max(1, min(n, int(budget_ms // max(per_tile, 1e-6))))
            return PreviewPlan(fit, side, full_ms, per_tile * fit)
    return PreviewPlan(n, None, full_ms, full_ms)  # already smaller than every quick size


@dataclass(frozen=True)
class FirstPreview:
    """What a page draws first for one slider position: the plan, and the grid when it was cheap.

    ``side`` and ``n`` are the grid to draw (``side`` ``None``: the images as given). ``grid`` is
    already drawn when its estimate was at most ``draw_within_ms``; otherwise it is ``None`` and
    the page shows a spinner before asking for it (:func:`render_grid` with :func:`shrink`).
    """

    plan: PreviewPlan
    side: int | None
    n: int
    expected_ms: float
    grid: PreviewGrid | None


def first_preview(transform: A.BasicTransform | A.BaseCompose, images: list[np.ndarray], n: int, seed: int, *,
                  budget_ms: float, full: bool = False, draw_within_ms: float = 300) -> FirstPreview:
    """Plan the grid (:func:`plan_preview`) and, when it is quick, draw it in the same call.

    One call instead of two matters when the call goes to a preview worker: each sends the
    images there, and nearly every slider move is a quick grid. ``full`` asks for the whole grid
    even when the plan would draw a smaller one first (the user pressed *Full grid*). Tiles come
    without their arrays (``keep_images=False``): the page draws the encoded ones.
    """
    plan = plan_preview(transform, images, n, seed, budget_ms=budget_ms)
    side, count = (None, n) if not plan.reduced or full else (plan.side, plan.n)
    expected_ms = plan.full_ms if side is None else plan.first_ms
    grid = None
    if expected_ms <= draw_within_ms:
        grid = render_grid(transform, shrink(images, side), n=count, seed=seed, keep_images=False)
    return FirstPreview(plan, side, count, expected_ms, grid)
