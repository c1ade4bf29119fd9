"""Safe image loading: every upload becomes an RGB uint8 array, or a clear refusal.

How Pillow modes become RGB uint8 (documented in the README too):

* ``RGB`` is kept; ``1``, ``L``, ``P`` (opaque), ``CMYK``, ``YCbCr``, ``LAB``, ``HSV`` use Pillow's
  own conversion to RGB.
* Modes with transparency (``LA``, ``PA``, ``RGBA``, ``RGBa``, ``P`` with a transparent colour) are
  composited over a white background, the way a viewer shows them.
* 16-bit grey (``I;16`` and its byte orders) is divided by 257, keeping absolute levels.
* 32-bit integer (``I``) and float (``F``) images have no fixed range: their own minimum..maximum
  is stretched linearly to 0..255 (a constant image becomes mid-grey), and a note says so.

EXIF orientation is applied; animated images use their first frame and say so. The pixel count
is checked from the header, before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from augment_core.errors import AugLabError
from augment_core.settings import get_int

_TRANSPARENT_MODES = {"LA", "PA", "RGBA", "RGBa", "La"}
# File types offered by every uploader and read from data-set folders: the one list.
IMAGE_TYPES: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff")
# Large images that compress better than this many pixels per file byte are refused before
# decoding: a 6 KB 1-bit PNG of 49 megapixels takes seconds to decode, and a zip of them hours.
# Real photos and screenshots stay far below it (about 3-300 pixels per byte).
MAX_PIXELS_PER_BYTE = 2000
_RATIO_CHECK_PIXELS = 4_000_000  # small images are cheap to decode whatever their ratio


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image ready for albumentations."""

    name: str  # file name shown to the user
    array: np.ndarray = field(repr=False)  # (H, W, 3) uint8 RGB
    notes: tuple[str, ...] = ()  # what was done to it, in plain words
    original_size: tuple[int, int] = (0, 0)  # (width, height) as stored in the file

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of ``array``."""
        return self.array.shape[1], self.array.shape[0]


def _to_rgb(img: Image.Image, notes: list[str]) -> np.ndarray:
    mode = img.mode
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in _TRANSPARENT_MODES:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append("transparent pixels shown over white")
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    if mode.startswith("I;16"):
        values = np.asarray(img, dtype=np.uint16).astype(np.float32) / 257.0
        notes.append("16-bit image scaled to 8 bits")
        return np.repeat(np.rint(values).astype(np.uint8)[..., None], 3, axis=2)
    if mode in {"I", "F"}:
        values = np.asarray(img, dtype=np.float64)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if hi > lo:
            scaled = (np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo) - lo) * (255.0 / (hi - lo))
        else:
            scaled = np.full(values.shape, 128.0)
        notes.append(f"{'32-bit integer' if mode == 'I' else 'floating-point'} image stretched from its range {lo:g}..{hi:g} to 0..255")
        grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
    return np.asarray(img.convert("RGB"))


def load_image(data: bytes, name: str, *, max_side: int | None = None, max_pixels: int | None = None) -> LoadedImage:
    """Decode ``data`` into an RGB uint8 image, or raise :class:`AugLabError` naming ``name``.

    Args:
        data: The file's bytes.
        name: The file name, used in messages.
        max_side: If given, downscale so the longest side is at most this many pixels. JPEGs are
            decoded at a reduced scale directly (Pillow's ``draft``), which makes a 12-megapixel
            photo cheap to preview.
        max_pixels: Largest width × height accepted; defaults to the ``AUGLAB_MAX_PIXELS`` setting.

    Example:
        >>> img = load_image(open("cat.jpg", "rb").read(), "cat.jpg", max_side=512)
        >>> img.array.shape[2]
        3
    """
    if not data:
        raise AugLabError(f"“{name}” is empty (0 bytes).", hint="Upload the file again.", field=name)
    limit = max_pixels if max_pixels is not None else get_int("AUGLAB_MAX_PIXELS")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > limit:
            raise AugLabError(
                f"“{name}” is {width}×{height} pixels ({width * height / 1e6:.0f} MP), more than the limit of {limit / 1e6:.0f} MP.",
                hint="Resize it before uploading, or raise AUGLAB_MAX_PIXELS.",
                field=name,
            )
        if width * height > _RATIO_CHECK_PIXELS and width * height > MAX_PIXELS_PER_BYTE * len(data):
            raise AugLabError(
                f"“{name}” is {width}×{height} pixels stored in only {len(data):,} bytes ({width * height // len(data):,} pixels per byte); "
                "decoding it would cost far more than the file suggests.",
                hint="Save it at a smaller size, or as an ordinary photo or screenshot.", field=name)
        frames = getattr(img, "n_frames", 1)
        if frames > 1:
            img.seek(0)
            notes.append(f"animated image: the first of {frames} frames is used")
        if max_side and img.format == "JPEG" and max(width, height) > 2 * max_side:
            img.draft("RGB", (max_side, max_side))
        orientation = img.getexif().get(0x0112, 1)
        img.load()
        img = ImageOps.exif_transpose(img)
    except AugLabError:
        raise
    except UnidentifiedImageError as exc:
        raise AugLabError(f"“{name}” is not an image Pillow can read.", hint="Use a JPEG, PNG, WebP, BMP, GIF or TIFF file.", field=name) from exc
    except Image.DecompressionBombError as exc:
        raise AugLabError(f"“{name}” is too large to decode safely.", hint="Resize it before uploading.", field=name) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise AugLabError(f"“{name}” is damaged or truncated and cannot be decoded ({exc}).", hint="Export it again and re-upload.", field=name) from exc
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        notes.append("rotated upright from its EXIF orientation")
    array = _to_rgb(img, notes)
    if max_side and max(array.shape[:2]) > max_side:
        array = downscale(array, max_side)
    if max_side and max(width, height) > max_side:
        notes.append(f"downscaled from {width}×{height} for preview")
    return LoadedImage(name=name, array=np.ascontiguousarray(array), notes=tuple(notes), original_size=(width, height))


def downscale(array: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink ``array`` (H, W, 3) so its longest side is ``max_side``, keeping the aspect ratio."""
    h, w = array.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return array
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))


def load_many(files: list[tuple[str, bytes]], *, max_side: int | None = None) -> tuple[list[LoadedImage], list[AugLabError]]:
    """Load every file it can; a bad file is reported and never stops the others."""
    loaded: list[LoadedImage] = []
    errors: list[AugLabError] = []
    for name, data in files:
        try:
            loaded.append(load_image(data, name, max_side=max_side))
        except AugLabError as exc:
            errors.append(exc)
    return loaded, errors


class PreviewCache:
    """Decoded, downscaled previews keyed by a hash of the upload's bytes (not the array).

    The same file uploaded twice, or rerun by Streamlit, is decoded once.
    """

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, int], LoadedImage] = OrderedDict()

    def get(self, data: bytes, name: str, max_side: int) -> LoadedImage:
        """Return the preview of ``data``, decoding it only the first time."""
        key = (hashlib.blake2b(data, digest_size=16).hexdigest(), max_side)
        if key in self._items:
            self._items.move_to_end(key)
            cached = self._items[key]
            return cached if cached.name == name else LoadedImage(name, cached.array, cached.notes, cached.original_size)
        image = load_image(data, name, max_side=max_side)
        self._items[key] = image
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return image

    def __len__(self) -> int:
        return len(self._items)
