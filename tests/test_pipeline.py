"""The pipeline model: edits, groups, safe building, widget values."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest

from augment_core import AugLabError
from augment_core.pipelines import model as pl
from augment_core.pipelines import widget_values
from augment_core.transforms import catalog


def _three() -> pl.Pipeline:
    pipe = pl.add_step(pl.Pipeline(seed=7), "Rotate", {"limit": (-15, 15)}, p=0.5)
    pipe = pl.add_step(pipe, "GaussNoise")
    return pl.add_step(pipe, "HorizontalFlip", p=0.5)


def test_add_step_normalises_arguments_and_assigns_keys():
    pipe = _three()
    assert [s.key for s in pipe.items] == [1, 2, 3]
    assert pipe.items[0].args["limit"] == (-15.0, 15.0) and "border_mode" in pipe.items[0].args


def test_refused_inputs_name_the_step():
    with pytest.raises(AugLabError, match="not a transform in the catalog"):
        pl.add_step(pl.Pipeline(), "Lambda")
    with pytest.raises(AugLabError, match="Rotate"):
        pl.add_step(pl.Pipeline(), "Rotate", {"limit": "sideways"})
    with pytest.raises(AugLabError, match="Rotate"):
        pl.add_step(pl.Pipeline(), "Rotate", {"no_such_argument": 1})


def test_move_clamps_and_reorders():
    pipe = _three()
    assert [s.key for s in pl.move(pipe, 3, -1).items] == [1, 3, 2]
    assert [s.key for s in pl.move(pipe, 1, -5).items] == [1, 2, 3]
    assert [s.key for s in pl.move(pipe, 1, 10).items] == [2, 3, 1]


def test_group_ungroup_and_nested_moves():
    pipe = pl.group(_three(), [1, 2], "OneOf")
    assert isinstance(pipe.items[0], pl.Group) and [s.key for s in pipe.items[0].steps] == [1, 2]
    assert [s.key for s in pl.move(pipe, 2, -1).items[0].steps] == [2, 1]
    compose = pl.to_compose(pipe)
    assert isinstance(compose.transforms[0], A.OneOf) and len(compose.transforms) == 2
    assert [i.key for i in pl.ungroup(pipe, pipe.items[0].key).items] == [1, 2, 3]
    some = pl.group(_three(), [1, 2, 3], "SomeOf", n=2)
    assert pl.to_compose(some).transforms[0].n == 2


@pytest.mark.parametrize("keys,kind,n,match", [([1], "OneOf", 1, "at least two"), ([1, 2], "SomeOf", 3, "1 to 2"), ([1, 2], "AllOf", 1, "kind of group")])
def test_bad_groups_are_refused(keys, kind, n, match):
    with pytest.raises(AugLabError, match=match):
        pl.group(_three(), keys, kind, n=n)


def test_disabled_steps_are_not_built():
    pipe = pl.update(_three(), 2, enabled=False)
    assert [type(t).__name__ for t in pl.to_compose(pipe).transforms] == ["Rotate", "HorizontalFlip"]
    assert [name for name, _ in pl.geometry_report(pipe)] == ["Rotate", "HorizontalFlip"]
    with pytest.raises(AugLabError):
        pl.update(pipe, 1, p=1.5)


def test_removing_unknown_key_fails_and_remove_works():
    pipe = _three()
    assert [s.key for s in pl.remove(pipe, 2).items] == [1, 3]
    with pytest.raises(KeyError):
        pl.remove(pipe, 99)


def test_same_seed_same_samples(rgb_image):
    pipe = _three()
    a, b = pl.to_compose(pipe), pl.to_compose(pipe)
    outs = [(a(image=rgb_image)["image"], b(image=rgb_image)["image"]) for _ in range(4)]
    assert all(np.array_equal(x, y) for x, y in outs)
    other = pl.to_compose(pl.with_seed(pipe, 8))
    assert not all(np.array_equal(other(image=rgb_image)["image"], x) for x, _ in outs)


def test_geometry_report_says_what_moves_annotations():
    assert dict(pl.geometry_report(_three())) == {"Rotate": True, "GaussNoise": False, "HorizontalFlip": True}


def test_widget_values_invert_arguments_and_flag_what_no_slider_shows():
    values, inexact = widget_values(pl.Step("Rotate", {"limit": (-500.0, 15.0), "fill": 0}), (64, 80))
    assert values["limit"] == (-180, 15) and values["fill"] == (0, 0, 0) and inexact == ["limit"]
    affine = pl.add_step(pl.Pipeline(), "Affine", {"scale": (0.9, 1.1)}).items[0]
    values, inexact = widget_values(affine, (64, 80))
    assert values["scale"] == (0.9, 1.1) and "scale" not in inexact


def _textured(height: int = 96, width: int = 128) -> np.ndarray:
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3)).astype(np.uint8)
    image[20:60, 30:90] = (200, 50, 30)
    return image


@pytest.mark.parametrize("name", catalog.list_transforms())
def test_a_new_step_visibly_does_what_its_name_says(name):
    """A step just added (its start arguments, p = 1) changes a textured image for at least one of six seeds."""
    image = _textured()
    step = pl.add_step(pl.Pipeline(), name, image_size=image.shape[:2]).items[0]
    compose = A.Compose([catalog.build(name, step.args, p=1.0)], seed=1)
    outputs = []
    for seed in range(6):
        compose.set_random_seed(seed)
        outputs.append(compose(image=image)["image"])
    assert any(o.shape != image.shape or np.abs(o.astype(int) - image).mean() > 0.5 for o in outputs), step.args


def test_new_flips_get_p_one_half_and_others_p_one():
    for name in ("HorizontalFlip", "VerticalFlip", "Transpose"):
        assert pl.add_step(pl.Pipeline(), name).items[0].p == 0.5
    assert pl.add_step(pl.Pipeline(), "Rotate").items[0].p == 1.0
    assert pl.add_step(pl.Pipeline(), "Rotate", p=0.3).items[0].p == 0.3
