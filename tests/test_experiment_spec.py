"""The experiment spec and the presets: JSON round trips, validation, registries."""

from __future__ import annotations

import dataclasses

import pytest

import augment_core  # noqa: F401
import albumentations as A

from augment_core.errors import AugLabError
from augment_core.experiment.augmentation import build_compose, create_train_transform
from augment_core.experiment.presets import DEMO_PIPELINE, create_spec_preset, list_spec_presets
from augment_core.experiment.spec import ExperimentSpec


def test_every_field_has_a_default_and_a_comment():
    source = open(ExperimentSpec.__module__.replace(".", "/") + ".py").read()
    for f in dataclasses.fields(ExperimentSpec):
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{f.name}:"))
        assert "  # " in line, f"field {f.name} needs a one-line comment"


@pytest.mark.parametrize("name", list_spec_presets())
def test_presets_round_trip_through_json(name):
    spec = create_spec_preset(name)
    again = ExperimentSpec.from_json(spec.to_json())
    assert again == spec and again.to_dict() == spec.to_dict()


def test_round_trip_with_every_field_changed():
    pipeline = A.to_dict(A.Compose([A.Affine(rotate=(-10, 10), p=0.5), A.ToGray(p=0.2)]))  # tuples inside
    spec = ExperimentSpec(name="x", dataset="digits", dataset_options={"a": (1, 2)}, image_size=48, backbone="smallcnn-scratch",
                          strategy="all", optimizer="sgd", lr=0.05, backbone_lr_factor=0.2, weight_decay=0.0,
                          schedule="constant", batch_size=8, epochs=3, epoch_repeats=2, seeds=4, folds=3, val_fraction=0.3,
                          train_per_class=7, pipeline=pipeline, mixup_alpha=0.2, cutmix_alpha=1.0, seed=42)
    again = ExperimentSpec.from_json(spec.to_json())
    assert again == spec
    assert again.replicates == 3 and again.has_augmentation
    assert A.to_dict(build_compose(again.pipeline)) == A.to_dict(build_compose(pipeline))


@pytest.mark.parametrize("changes", [
    {"strategy": "everything"}, {"optimizer": "lion"}, {"schedule": "step"}, {"lr": 0}, {"batch_size": 1},
    {"epochs": 0}, {"seeds": 0}, {"folds": 1}, {"val_fraction": 1.0}, {"val_fraction": 0}, {"train_per_class": 0},
    {"mixup_alpha": -1}, {"image_size": 8}, {"pipeline": {"transforms": []}}])
def test_invalid_values_are_refused_with_the_field(changes):
    with pytest.raises(AugLabError) as info:
        ExperimentSpec(**changes)
    assert info.value.field == next(iter(changes))


def test_unknown_keys_and_bad_json_are_refused():
    with pytest.raises(AugLabError, match="Unknown experiment setting"):
        ExperimentSpec.from_dict({"learning_rate": 1})
    with pytest.raises(AugLabError):
        ExperimentSpec.from_json("{not json")
    with pytest.raises(AugLabError):
        ExperimentSpec.from_json("[1, 2]")


def test_spec_is_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ExperimentSpec().lr = 1.0  # type: ignore[misc]
    assert hash(create_spec_preset("demo")) == hash(create_spec_preset("demo")) and len({ExperimentSpec(), ExperimentSpec(seed=1)}) == 2


def test_demo_pipeline_builds_and_round_trips():
    compose = build_compose(DEMO_PIPELINE)
    assert len(compose.transforms) == 4
    assert A.to_dict(A.from_dict(A.to_dict(compose))) == A.to_dict(compose)


def test_train_transform_is_seeded_and_empty_means_none():
    import numpy as np

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    a = create_train_transform(DEMO_PIPELINE, seed=3, image_size=32)
    b = create_train_transform(DEMO_PIPELINE, seed=3, image_size=32)
    c = create_train_transform(DEMO_PIPELINE, seed=4, image_size=32)
    outs = [[t(image) for _ in range(3)] for t in (a, b, c)]
    assert all(np.array_equal(x, y) for x, y in zip(outs[0], outs[1]))
    assert not all(np.array_equal(x, y) for x, y in zip(outs[0], outs[2]))
    assert create_train_transform(None, seed=0, image_size=32) is None
    assert create_train_transform(A.to_dict(A.Compose([])), seed=0, image_size=32) is None


@pytest.mark.filterwarnings("ignore:Transform NoSuchTransform")
def test_pipeline_that_resizes_or_normalises_is_refused():
    import numpy as np

    image = np.zeros((32, 32, 3), np.uint8)
    transform = create_train_transform(A.to_dict(A.Compose([A.Resize(20, 20)])), seed=0, image_size=32)
    with pytest.raises(AugLabError, match="engine resizes and normalises"):
        transform(image)
    # Only catalog transforms are built (through the pipeline editor's safe importer), so a
    # model-input conversion is refused before training starts, with the catalog's reason.
    with pytest.raises(AugLabError, match="could not be built.*converts the image for a model"):
        create_train_transform(A.to_dict(A.Compose([A.Normalize()])), seed=0, image_size=32)
    with pytest.raises(AugLabError, match="could not be built"):
        build_compose({"transform": {"__class_fullname__": "NoSuchTransform"}})
