"""Safe loading: every mode to RGB uint8, EXIF, bombs, broken files, caching by bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from augment_core import AugLabError
from augment_core.transforms.images import PreviewCache, downscale, load_image, load_many


def _encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"), ("CMYK", "TIFF"), ("I;16", "PNG"), ("I", "TIFF"), ("F", "TIFF")],
)
def test_every_mode_becomes_rgb_uint8(mode, fmt):
    image = Image.new(mode, (10, 6))
    loaded = load_image(_encode(image, fmt), f"x.{fmt.lower()}")
    assert loaded.array.shape == (6, 10, 3) and loaded.array.dtype == np.uint8
    assert loaded.array.flags["C_CONTIGUOUS"]


def test_transparency_is_composited_over_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    loaded = load_image(_encode(rgba), "clear.png")
    assert (loaded.array == 255).all() and "white" in loaded.notes[0]


def test_palette_with_transparent_index_is_composited():
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0] * 256)
    p.info["transparency"] = 0
    assert (load_image(_encode(p, transparency=0), "p.png").array == 255).all()


def test_sixteen_bit_keeps_absolute_levels():
    grey = Image.fromarray(np.full((3, 3), 65535, dtype=np.uint16))
    assert (load_image(_encode(grey), "deep.png").array == 255).all()
    half = Image.fromarray(np.full((3, 3), 257 * 100, dtype=np.uint16))
    assert (load_image(_encode(half), "half.png").array == 100).all()


def test_float_image_is_stretched_and_says_so():
    values = np.linspace(-1.0, 3.0, 16, dtype=np.float32).reshape(4, 4)
    loaded = load_image(_encode(Image.fromarray(values), "TIFF"), "f.tif")
    assert loaded.array.min() == 0 and loaded.array.max() == 255
    assert any("stretched" in note for note in loaded.notes)


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 20))  # white stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = load_image(_encode(image, "JPEG", exif=exif.tobytes(), quality=95), "phone.jpg")
    assert loaded.array.shape[:2] == (40, 20)  # upright: taller than wide
    assert loaded.array[:10].mean() > 200 and loaded.array[-10:].mean() < 60  # stripe now on top
    assert any("EXIF" in n for n in loaded.notes)


def test_decompression_bomb_is_refused_before_decoding():
    big = _encode(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(AugLabError, match="limit"):
        load_image(big, "bomb.png", max_pixels=1_000_000)


def test_bomb_limit_comes_from_settings(monkeypatch):
    monkeypatch.setenv("AUGLAB_MAX_PIXELS", "100")
    with pytest.raises(AugLabError, match="bomb.png"):
        load_image(_encode(Image.new("RGB", (20, 20))), "bomb.png")


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "empty"), (b"this is not an image", "not an image"), (None, "truncated")],
)
def test_broken_files_are_refused_naming_the_file(data, expected):
    if data is None:
        data = _encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), "JPEG")[:400]
    with pytest.raises(AugLabError) as info:
        load_image(data, "holiday.jpg")
    assert "holiday.jpg" in info.value.message and expected in info.value.message


def test_animated_gif_uses_first_frame_and_says_so():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    loaded = load_image(buffer.getvalue(), "anim.gif")
    assert loaded.array[0, 0, 0] > 200 and loaded.array[0, 0, 2] < 50
    assert any("first of 2 frames" in n for n in loaded.notes)


def test_one_bad_file_does_not_stop_the_others():
    good = _encode(Image.new("RGB", (5, 5)))
    loaded, errors = load_many([("a.png", good), ("bad.png", b"junk"), ("c.png", good)])
    assert [i.name for i in loaded] == ["a.png", "c.png"]
    assert len(errors) == 1 and "bad.png" in errors[0].message


def test_large_jpeg_is_downscaled_for_preview():
    photo = _encode(Image.new("RGB", (4000, 3000), (10, 200, 30)), "JPEG")
    loaded = load_image(photo, "12mp.jpg", max_side=512)
    assert max(loaded.array.shape[:2]) == 512 and loaded.original_size == (4000, 3000)
    assert abs(int(loaded.array[100, 100, 1]) - 200) < 6


def test_downscale_keeps_aspect_ratio():
    assert downscale(np.zeros((100, 300, 3), np.uint8), 150).shape == (50, 150, 3)
    small = np.zeros((10, 10, 3), np.uint8)
    assert downscale(small, 150) is small


def test_preview_cache_decodes_identical_bytes_once():
    cache = PreviewCache(capacity=2)
    data = _encode(Image.new("RGB", (30, 20)))
    first = cache.get(data, "a.png", 16)
    again = cache.get(bytes(data), "renamed.png", 16)
    assert again.array is first.array and again.name == "renamed.png" and len(cache) == 1
    for i in range(3):
        cache.get(_encode(Image.new("RGB", (5 + i, 5))), f"{i}.png", 16)
    assert len(cache) == 2
