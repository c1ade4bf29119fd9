"""One bounds table: widget bounds come from the schema's public metadata, and the importer,
share links and specs refuse what a slider could not show."""

from __future__ import annotations

import math

import pytest

from augment_core import AugLabError, markdown_text
from augment_core.pipelines import decode_link, encode_link, import_text
from augment_core.pipelines.model import Pipeline, Step, default_args
from augment_core.transforms import catalog, out_of_bounds, parse_text_value
from augment_core.transforms.bounds import range_bounds as _range_bounds

NUMERIC = ("range", "number", "pair")


def test_schema_bounds_are_read_from_public_metadata():
    """If reading Ge/Le or the range validators breaks (an upgrade), bounds come out empty: fail."""
    found = {}
    for name in catalog.list_transforms():
        cls = catalog.get_transform(name).cls
        for field_name, field in getattr(cls, "InitSchema", type("S", (), {"model_fields": {}})).model_fields.items():
            low, high, _, _ = _range_bounds(field)
            if low is not None or high is not None:
                found[f"{name}.{field_name}"] = (low, high)
    assert len(found) > 80, len(found)
    # A check_range_bounds validator (0..1), an annotated_types Ge, and process_non_negative_range.
    assert found["ThinPlateSpline.scale_range"] == (0, 1)
    assert found["HEStain.intensity_shift_range"] == (-1, 1)
    assert found["CoarseDropout.num_holes_range"][0] == 1
    assert found["GaussianBlur.sigma_limit"][0] == 0


def test_perspective_scale_has_its_own_bounds_not_the_fallback():
    scale = next(s for s in catalog.get_transform("Perspective").params() if s.name == "scale")
    assert (scale.low, scale.high) == (0.0, 0.3)


@pytest.mark.parametrize("name", catalog.list_transforms())
def test_every_widget_has_finite_bounds_and_its_default_is_within_them(name):
    specs = catalog.get_transform(name).params()
    for spec in specs:
        if spec.hidden or spec.kind not in NUMERIC:
            continue
        assert math.isfinite(float(spec.low)) and math.isfinite(float(spec.high)) and spec.low < spec.high, spec
    # What a new step starts with must pass the same check files and links get.
    catalog.check_bounds(name, default_args(name, catalog.bounds_image_size()))


@pytest.mark.parametrize(("name", "args", "word"), [
    ("GaussianBlur", {"blur_limit": (3, 99999)}, "blur_limit"),
    ("CoarseDropout", {"num_holes_range": (1, 10**6)}, "num_holes_range"),
    ("Defocus", {"radius": (3, 100_000)}, "radius"),
    ("Resize", {"height": 10_000, "width": 64}, "height"),
    ("Rotate", {"limit": (-math.inf, math.inf)}, "finite"),
    ("Rotate", {"limit": (math.nan, 3)}, "finite"),
])
def test_file_and_link_values_past_the_sliders_are_refused(name, args, word):
    assert out_of_bounds(catalog.get_transform(name).params(catalog.bounds_image_size()), args)
    with pytest.raises(AugLabError, match=word):
        catalog.check_bounds(name, args)
    document = {"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": name, "p": 1.0, **{k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}}]}}
    with pytest.raises(AugLabError, match=word):
        import_text(__import__("json").dumps(document), "json")


def test_a_link_cannot_carry_more_than_a_slider():
    big = Pipeline((Step("GaussianBlur", {"blur_limit": (3, 99999)}, p=1.0),), seed=1)
    # encode_link does not check (it is given what the editor holds); decoding refuses.
    from augment_core.pipelines import io

    link = "1." + io.base64.urlsafe_b64encode(io.zlib.compress(b'[1,[["GaussianBlur",{"blur_limit":[3,99999]},1.0,1]]]')).decode().rstrip("=")
    with pytest.raises(AugLabError, match="blur_limit"):
        decode_link(link)
    assert big.items[0].args["blur_limit"] == (3, 99999)


def test_values_within_bounds_still_round_trip():
    pipe = Pipeline((Step("GaussianBlur", {"blur_limit": (3, 31)}, p=1.0),), seed=1)
    from augment_core.pipelines.model import normalise

    pipe = Pipeline((normalise(pipe.items[0]),), seed=1)
    assert decode_link(encode_link(pipe)).items[0].args["blur_limit"] == (3, 31)


@pytest.mark.parametrize("text", ["-inf,inf", "nan,3", "1e400,2", "1,2,3", "5"])
def test_playground_link_text_that_does_not_fit_is_a_value_error(text):
    limit = next(s for s in catalog.get_transform("Rotate").params() if s.name == "limit")
    with pytest.raises(ValueError):
        parse_text_value(limit, text)


def test_strict_cannot_be_switched_off_from_a_file():
    with pytest.raises(AugLabError, match="strict"):
        import_text('{"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": "Rotate", "strict": false}]}}')
    with pytest.raises(AugLabError, match="strict"):
        catalog.build("Rotate", {"strict": False})


def test_user_names_are_escaped_for_markdown():
    assert markdown_text("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert markdown_text("a`b`_c_*d*") == "a\\`b\\`\\_c\\_\\*d\\*"


def test_a_full_disk_while_saving_an_upload_is_a_message(monkeypatch):
    import errno
    from pathlib import Path

    from augment_core.prove import setup

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(AugLabError, match="disk is full"):
        setup._save_upload(b"PK\x05\x06" + bytes(18))


def test_parameters_without_a_widget_are_bounded_too():
    with pytest.raises(AugLabError, match="px"):
        import_text('{"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": "CropAndPad", "px": 100000}]}}')


def test_the_experiment_form_takes_its_bounds_from_the_spec_limits(monkeypatch):
    """The same table bounds the widgets and the spec, so a form can never submit what a spec refuses."""
    from augment_core.experiment import spec_limit
    from tests.apptest_helpers import open_page

    monkeypatch.setenv("AUGLAB_MAX_EPOCHS", "77")
    at = open_page("pages/experiment.py")
    assert at.number_input(key="exp:shapes:epochs").proto.max == 77 == spec_limit("epochs")
    for field, widget in (("batch_size", "batch"), ("epoch_repeats", "repeats"), ("train_per_class", "per_class")):
        assert at.number_input(key=f"exp:shapes:{widget}").proto.max == spec_limit(field)
