"""Preview grids, captions, code snippets and built-in samples."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest

from augment_core import AugLabError

from augment_core.transforms import catalog

from augment_core.transforms import codegen

from augment_core.transforms import samples
from augment_core.transforms.params import parse_text_value, to_kwargs
from augment_core.transforms.preview import describe_params, render_grid


def test_grid_is_reproducible_and_prefix_stable(rgb_image):
    rotate = catalog.create_transform("Rotate", {"limit": (-40, 40)})
    first = render_grid(rotate, [rgb_image], n=4, seed=3)
    again = render_grid(catalog.create_transform("Rotate", {"limit": (-40, 40)}), [rgb_image], n=6, seed=3)
    for a, b in zip(first.tiles, again.tiles[:4]):
        np.testing.assert_array_equal(a.image, b.image)
        assert a.caption == b.caption
    other = render_grid(rotate, [rgb_image], n=4, seed=4)
    assert any(not np.array_equal(a.image, b.image) for a, b in zip(first.tiles, other.tiles))


def test_tiles_cycle_through_images_and_are_jpeg(rgb_image):
    grid = render_grid(catalog.create_transform("HorizontalFlip"), [rgb_image, rgb_image[:32]], n=5, seed=0)
    assert [t.source for t in grid.tiles] == [0, 1, 0, 1, 0]
    assert all(t.encoded[:2] == b"\xff\xd8" for t in grid.tiles)
    np.testing.assert_array_equal(grid.tiles[0].image, rgb_image[:, ::-1])


def test_caption_reports_the_angle_that_was_drawn(rgb_image):
    grid = render_grid(catalog.create_transform("Rotate", {"limit": (30, 30)}), [rgb_image], n=2, seed=0)
    assert all("angle +30.0°" in t.caption for t in grid.tiles)


def test_caption_says_when_probability_skipped_the_transform(rgb_image):
    grid = render_grid(catalog.create_transform("Rotate", p=0.0), [rgb_image], n=3, seed=0)
    assert all("not applied" in t.caption for t in grid.tiles)
    np.testing.assert_array_equal(grid.tiles[0].image, rgb_image)


def test_pipeline_caption_names_each_step(rgb_image):
    pipeline = A.Compose([catalog.create_transform("HorizontalFlip"), catalog.create_transform("ColorJitter")])
    caption = render_grid(pipeline, [rgb_image], n=1, seed=0).tiles[0].caption
    assert "HorizontalFlip" in caption and "ColorJitter: brightness" in caption


def test_library_failure_becomes_a_clear_message(rgb_image):
    crop = catalog.create_transform("RandomCrop", {"height": 60, "width": 70}, image_size=(64, 80))
    with pytest.raises(AugLabError, match="RandomCrop failed"):
        render_grid(crop, [rgb_image[:30, :30]], n=1, seed=0)
    with pytest.raises(AugLabError, match="pick a sample"):
        render_grid(crop, [], n=1)


def test_describe_params_summarises_arrays():
    text = describe_params({"matrix": np.array([[0.0, 1.0, 5], [-1.0, 0.0, 0], [0, 0, 1]]), "holes": np.zeros((3, 4)), "shape": (1, 2)})
    assert "angle +90.0°" in text and "holes: 3" in text and "shape" not in text


@pytest.mark.parametrize("name", ["Rotate", "GaussNoise", "CoarseDropout", "Affine", "RandomCrop", "HueSaturationValue"])
def test_generated_code_rebuilds_the_same_transform(name, rgb_image):
    spec = catalog.get_transform(name)
    kwargs = to_kwargs(spec.params((64, 80)), {})
    code = codegen.transform_code(name, kwargs, p=0.8, seed=11)
    scope: dict = {"image": rgb_image}
    exec(compile(code, "<snippet>", "exec"), scope)  # the snippet a user copies must run as is
    ours = A.Compose([catalog.build(name, kwargs, p=0.8)], seed=11)(image=rgb_image)["image"]
    np.testing.assert_array_equal(scope["augmented"], ours)


def test_code_leaves_out_defaults_and_names_opencv_constants():
    code = codegen.transform_code("Rotate", {"limit": (-90, 90), "border_mode": 2, "fill": (0, 0, 0)}, p=1.0)
    assert "A.Rotate(border_mode=cv2.BORDER_REFLECT, p=1.0)" in code and "import cv2" in code


def test_link_values_are_parsed_and_checked():
    specs = {s.name: s for s in catalog.get_transform("Rotate").visible_params()}
    assert parse_text_value(specs["limit"], "-17,17") == (-17, 17)
    assert parse_text_value(specs["border_mode"], "reflect") == 2
    with pytest.raises(ValueError):
        parse_text_value(specs["limit"], "-500,17")


@pytest.mark.parametrize("name", samples.list_samples())
def test_samples_are_rgb_uint8_and_described(name):
    image = samples.load_sample(name)
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8 and min(image.shape[:2]) >= 100
    assert samples.SAMPLES[name].description
    assert image.std() > 10  # a real picture, not a blank


def test_labelled_grid_shows_flips():
    grid = samples.labelled_grid()
    assert not np.array_equal(grid, grid[:, ::-1]) and not np.array_equal(grid, grid[::-1])


@pytest.mark.parametrize(("name", "expected"), [("GaussianBlur", "kernel"), ("SaltAndPepper", "salt"), ("GridDistortion", "moves pixels")])
def test_captions_describe_arrays_in_words(name, expected, rgb_image):
    grid = render_grid(catalog.create_transform(name, image_size=(64, 80)), [rgb_image], n=1, seed=0, encode=False)
    assert expected in grid.tiles[0].caption


def _sweep_images() -> dict[str, np.ndarray]:
    """Realistic shapes a user brings: a 4:3 photo, a tiny icon, a 3:1 panorama, a near-grey scan."""
    import cv2

    photo = cv2.resize(samples.load_sample("Cat"), (96, 72), interpolation=cv2.INTER_AREA)  # 4:3 landscape photo
    wide = cv2.resize(samples.load_sample("Astronaut"), (120, 40), interpolation=cv2.INTER_AREA)  # 3:1
    tiny = cv2.resize(samples.load_sample("Astronaut"), (32, 32), interpolation=cv2.INTER_AREA)
    grey = np.random.default_rng(1).integers(126, 131, (48, 64, 3), dtype=np.uint8)  # almost no contrast
    return {"photo 4:3": photo, "tiny 32x32": tiny, "wide 3:1": wide, "near-grey": grey}


SWEEP_IMAGES = _sweep_images()


def _extremes(spec: catalog.TransformSpec, image_size: tuple[int, int]):
    """The widget values a person can reach: every default, then each slider at its minimum and maximum."""
    yield "default", {}
    for p in spec.visible_params(image_size):
        if p.kind in ("range", "pair"):
            yield f"{p.name}=min", {p.name: (p.low, p.low)}
            yield f"{p.name}=max", {p.name: (p.high, p.high)}
        elif p.kind == "number":
            yield f"{p.name}=min", {p.name: p.low}
            yield f"{p.name}=max", {p.name: p.high}


@pytest.mark.parametrize("name", catalog.list_transforms())
def test_every_preview_grid_renders_or_explains(name):
    """The page's own path (create_transform, then render_grid with captions and JPEG tiles) on
    realistic images at default, minimum and maximum widget values: a grid or an AugLabError, never
    any other exception (issue 10: RGBShift and AdditiveNoise crashed in the caption code)."""
    spec = catalog.get_transform(name)
    for image_name, image in SWEEP_IMAGES.items():
        size = image.shape[:2]
        for label, values in _extremes(spec, size):
            try:
                transform = catalog.create_transform(name, values, image_size=size)
                grid = render_grid(transform, [image], n=2, seed=0)
            except AugLabError as exc:
                assert exc.message.strip(), f"{name} {label} on {image_name}: empty message"
                continue
            except Exception as exc:  # noqa: BLE001 - this is what the test is looking for
                pytest.fail(f"{name} {label} on {image_name} escaped the preview: {type(exc).__name__}: {exc}")
            assert len(grid.tiles) == 2
            for tile in grid.tiles:
                assert isinstance(tile.caption, str) and tile.caption.strip()
                assert tile.encoded[:2] == b"\xff\xd8" and tile.image.dtype == np.uint8


@pytest.mark.parametrize("name", ["RGBShift", "AdditiveNoise"])
def test_per_channel_noise_captions_at_defaults(name, rgb_image):
    """Both crashed the Playground at their defaults: their noise parameter is one value per channel."""
    grid = render_grid(catalog.create_transform(name, image_size=(64, 80)), [rgb_image], n=2, seed=0)
    assert all(t.caption and "applied" != t.caption for t in grid.tiles)


def test_tiles_are_sent_at_display_size_but_kept_full_size(rgb_image, monkeypatch):
    """The browser gets tiles shrunk to AUGLAB_PREVIEW_TILE_SIZE; captions and arrays are those of the full tile."""
    import cv2

    big = cv2.resize(rgb_image, (640, 512), interpolation=cv2.INTER_NEAREST)
    rotate = catalog.create_transform("Rotate", image_size=big.shape[:2])
    monkeypatch.setenv("AUGLAB_PREVIEW_TILE_SIZE", "160")
    small = render_grid(rotate, [big], n=2, seed=5)
    monkeypatch.setenv("AUGLAB_PREVIEW_TILE_SIZE", "0")
    full = render_grid(rotate, [big], n=2, seed=5)
    for a, b in zip(small.tiles, full.tiles):
        assert cv2.imdecode(np.frombuffer(a.encoded, np.uint8), cv2.IMREAD_COLOR).shape == (128, 160, 3)
        assert cv2.imdecode(np.frombuffer(b.encoded, np.uint8), cv2.IMREAD_COLOR).shape == (512, 640, 3)
        np.testing.assert_array_equal(a.image, b.image)
        assert a.caption == b.caption and len(a.encoded) < len(b.encoded) / 4
