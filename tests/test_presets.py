"""Every preset builds, keeps the image size, is deterministic; label-safety warnings."""

from __future__ import annotations

import numpy as np
import pytest

from augment_core import AugLabError
from augment_core.pipelines import model as pl
from augment_core.pipelines.presets import create_pipeline_preset, get_pipeline_preset, label_warnings, list_data_kinds, list_pipeline_presets


@pytest.mark.parametrize("name", list_pipeline_presets())
def test_every_preset_builds_keeps_size_and_is_seeded(name, rgb_image):
    preset = get_pipeline_preset(name)
    assert preset.rationale.strip() and preset.data_kind in list_data_kinds()
    a, b = pl.to_compose(create_pipeline_preset(name, seed=1)), pl.to_compose(create_pipeline_preset(name, seed=1))
    for _ in range(12):
        out, again = a(image=rgb_image)["image"], b(image=rgb_image)["image"]
        assert out.shape == rgb_image.shape and out.dtype == np.uint8 and np.array_equal(out, again)


@pytest.mark.parametrize("name", list_pipeline_presets())
def test_no_preset_warns_for_its_own_kind_of_data(name):
    preset = get_pipeline_preset(name)
    assert label_warnings(create_pipeline_preset(name), preset.data_kind) == []


def test_digits_and_text_presets_have_no_flips():
    for name in ("Digits and handwriting", "Documents and text", "Medical / grey-scale"):
        assert not {"HorizontalFlip", "VerticalFlip", "Transpose", "D4"} & {s.name for s in create_pipeline_preset(name).active_steps()}


def test_randaugment_n_and_m():
    pipe = create_pipeline_preset("RandAugment-style", n=3, m=30)
    block = pipe.items[0]
    assert isinstance(block, pl.Group) and block.kind == "SomeOf" and block.n == 3
    rotate = block.steps[0]
    assert rotate.args["rotate"] == (-30.0, 30.0)
    weaker = create_pipeline_preset("RandAugment-style", n=3, m=10).items[0].steps[0]
    assert weaker.args["rotate"] == (-10.0, 10.0)
    with pytest.raises(AugLabError):
        create_pipeline_preset("RandAugment-style", n=0)
    with pytest.raises(AugLabError, match="no option"):
        create_pipeline_preset("Natural photos · light", n=2)
    trivial = create_pipeline_preset("TrivialAugment-style").items[0]
    assert trivial.kind == "OneOf" and len(trivial.steps) == len(block.steps)


def test_label_warnings_for_flips_rotations_and_hue():
    pipe = pl.add_step(pl.Pipeline(), "HorizontalFlip")
    pipe = pl.add_step(pipe, "Rotate", {"limit": (-90, 90)})
    pipe = pl.add_step(pipe, "HueSaturationValue")
    pipe = pl.add_step(pipe, "HueSaturationValue", {"hue_shift_limit": (0, 0)})
    digits = {w.step for w in label_warnings(pipe, "Digits and handwriting")}
    assert digits == {"HorizontalFlip", "Rotate"}
    colour = [w for w in label_warnings(pipe, "Colour is the class")]
    assert [w.key for w in colour] == [3]  # the hue-free one does not warn
    assert label_warnings(pl.update(pipe, 1, enabled=False), "Medical / grey-scale")[0].step == "HueSaturationValue"
    with pytest.raises(AugLabError):
        label_warnings(pipe, "Satellites")


def test_unknown_preset_is_refused():
    with pytest.raises(AugLabError, match="no preset"):
        create_pipeline_preset("Ultra")


def test_policy_steps_say_what_each_affine_does():
    """TrivialAugment-style has three Affine steps: their titles say rotate, shear, translate."""
    from augment_core.pipelines import create_pipeline_preset, step_title, to_dict
    from augment_core.prove import pipeline_steps

    group = create_pipeline_preset("TrivialAugment-style").items[0]
    titles = [step_title(s.name, s.args) for s in group.steps]
    assert {"Affine: rotate", "Affine: shear", "Affine: translate"} <= set(titles)
    assert len(set(titles)) == len(titles)  # no two steps look the same
    document = to_dict(create_pipeline_preset("TrivialAugment-style"))
    assert "Affine: rotate | Affine: shear | Affine: translate" in pipeline_steps({"transform": document["transform"]})[0]


@pytest.mark.parametrize("m", range(0, 31))
def test_rand_augment_builds_at_every_magnitude(m):
    # M below 4 once asked Posterize for 8 bits, which albumentations refuses
    pl.to_compose(create_pipeline_preset("RandAugment-style", n=2, m=m))
