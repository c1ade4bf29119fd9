"""Photo uploads: the zip's own train/val split, how images are made square, the tiny-validation flag."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentSpec, run_experiment
from augment_core.experiment.runner import replicate_splits
from augment_core.experiment.userdata import SQUARE_MODES, load_zip, square_resize, validation_advice
from augment_core.prove.setup import validation_warning
from tests.photos import photo_zip


@pytest.mark.parametrize("val_folder", ["val", "test", "validation"])
def test_a_train_val_zip_keeps_its_own_split(val_folder):
    ds, report = load_zip(photo_zip(6, val_per_class=3, val_folder=val_folder), image_size=32)
    assert ds.class_names == ("cat", "coffee") and ds.fixed_val is not None
    assert int(ds.fixed_val.sum()) == 6 and report.val_per_class == {"cat": 3, "coffee": 3}
    assert all(name.startswith(f"{val_folder}/") == bool(v) for name, v in zip(ds.file_names, ds.fixed_val))
    spec = ExperimentSpec(dataset="x.zip", seeds=3, image_size=32)
    splits = replicate_splits(spec, ds.labels, ds.fixed_val)
    for _, train, val in splits:  # every seed validates on the zip's own val/ images, never re-split
        assert list(val) == list(np.flatnonzero(ds.fixed_val)) and not set(train) & set(val)
    few = replicate_splits(replace(spec, train_per_class=2), ds.labels, ds.fixed_val)
    assert all(len(t) == 4 for _, t, _ in few) and len({tuple(t) for _, t, _ in few}) > 1


def test_a_plain_class_folder_zip_is_still_split_by_seed():
    ds, report = load_zip(photo_zip(6), image_size=32)
    assert ds.fixed_val is None and report.val_per_class == {}


def test_test_folder_is_set_aside_when_val_exists_and_one_sided_classes_are_refused():
    import io
    import zipfile

    from tests.photos import photo_crops

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for split, n in (("train", 4), ("val", 2), ("test", 2)):
            for cls in ("cat", "coffee"):
                for name, data in photo_crops(cls, n, seed={"train": 0, "val": 1, "test": 2}[split]):  # not hash(): salted per process
                    zf.writestr(f"{split}/{cls}/{split}_{name}", data)
    ds, report = load_zip(buffer.getvalue(), image_size=16)
    assert int(ds.fixed_val.sum()) == 4 and sum("kept aside" in why for _, why in report.skipped) == 4
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i, (name, data) in enumerate(photo_crops("cat", 4, seed=1) + photo_crops("coffee", 2, seed=1)):
            zf.writestr(f"{'train' if i < 4 else 'val'}/{name.split('_')[0]}/{name}", data)
    with pytest.raises(AugLabError, match="missing from train/ or from the validation folder"):
        load_zip(buffer.getvalue(), image_size=16)


def test_runs_on_a_fixed_split_validate_on_the_same_images():
    ds, _ = load_zip(photo_zip(5, val_per_class=3), image_size=32)
    spec = ExperimentSpec(dataset="x.zip", image_size=32, epochs=1, seeds=2, batch_size=4, backbone="smallcnn-scratch")
    result = run_experiment(spec, dataset=ds)
    assert result.status == "completed"
    assert {tuple(f.val_indices) for f in result.finals} == {tuple(np.flatnonzero(ds.fixed_val))}
    assert result.comparison["validation_images"] == 6  # 6 distinct images, not 2 seeds x 6


def test_square_modes():
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, :6] = 255  # a white object at the left edge
    wide[:, -6:] = 255
    crop, pad, stretch = (square_resize(wide, 30, m) for m in ("crop", "pad", "stretch"))
    assert crop.shape == pad.shape == stretch.shape == (30, 30, 3)
    assert crop[:, :2].max() == 0, "a centre crop cuts off the ends of a wide picture"
    assert pad[15, 0].min() > 200 and pad[15, -1].min() > 200, "padding keeps the whole picture"
    assert pad[0, 15].max() < 60 < pad[0, 15].max() + 60 and np.all(pad[0, 15] == pad[0, 15][0])  # mean-colour border
    assert stretch[:, 0].min() > 200 and stretch[:, -1].min() > 200
    with pytest.raises(AugLabError, match="square"):
        square_resize(wide, 30, "fold")
    with pytest.raises(AugLabError):
        ExperimentSpec(square="fold")
    assert ExperimentSpec().square == "pad" and set(SQUARE_MODES) == {"pad", "crop", "stretch"}


def test_the_square_choice_reaches_the_uploaded_images():
    data = photo_zip(3)
    padded, _ = load_zip(data, image_size=32)
    cropped, _ = load_zip(data, image_size=32, square="crop")
    assert padded.fingerprint != cropped.fingerprint


def test_a_tiny_validation_set_is_flagged_with_how_many_it_would_take():
    text = validation_advice(6, 2)
    assert text is not None and "only 6 image" in text and "±40 points" in text and "About 97 validation images" in text
    assert validation_advice(400, 2) is None
    ds, _ = load_zip(photo_zip(6, val_per_class=3), image_size=16)
    assert "only 6 image" in validation_warning(ExperimentSpec(dataset="x.zip", image_size=16), ds)
    big, _ = load_zip(photo_zip(60), image_size=16)
    assert validation_warning(ExperimentSpec(dataset="x.zip", image_size=16, val_fraction=0.5), big) is None
