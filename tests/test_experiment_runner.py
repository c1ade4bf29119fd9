"""The engine end to end on tiny data: identical arms, reproducibility, callbacks, cancel, failure."""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

import augment_core  # noqa: F401
import albumentations as A

from augment_core.errors import AugLabError
from augment_core.experiment import training
from augment_core.experiment.datasets import list_datasets
from augment_core.experiment.presets import DEMO_PIPELINE
from augment_core.experiment.runner import run_experiment
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.userdata import load_mapping

TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 8}, image_size=32, epochs=2, seeds=2,
                      train_per_class=3, batch_size=6, val_fraction=0.5, pipeline=DEMO_PIPELINE)


def _metrics(result, arm):
    return [(e.replicate, e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc) for e in result.epochs if e.arm == arm]


@pytest.mark.parametrize("pipeline", [None, A.to_dict(A.Compose([])),
                                      A.to_dict(A.Compose([A.Affine(rotate=(-90, 90), p=0.0), A.ColorJitter(p=0.0)]))],
                         ids=["none", "empty", "all-p0"])
@pytest.mark.slow
def test_without_augmentation_both_arms_are_identical(pipeline):
    result = run_experiment(replace(TINY, pipeline=pipeline, strategy="all"))
    assert result.status == "completed"
    assert _metrics(result, "plain") == _metrics(result, "augmented")
    assert result.comparison["differences"] == [0.0, 0.0] and result.comparison["verdict"] == "no clear difference"


@pytest.mark.slow
def test_augmentation_changes_the_augmented_arm_only():
    plain_only = run_experiment(replace(TINY, pipeline=None))
    result = run_experiment(TINY)
    assert _metrics(result, "plain") == _metrics(plain_only, "plain"), "the plain arm ignores the pipeline"
    assert _metrics(result, "augmented") != _metrics(result, "plain")


@pytest.mark.slow
def test_same_spec_same_numbers():
    spec = replace(TINY, mixup_alpha=0.4, cutmix_alpha=1.0)
    a, b = run_experiment(spec), run_experiment(spec)
    assert [e.to_dict() | {"seconds": 0} for e in a.epochs] == [e.to_dict() | {"seconds": 0} for e in b.epochs]
    assert [f.to_dict() for f in a.finals] == [f.to_dict() for f in b.finals]
    c = run_experiment(replace(spec, seed=1))
    assert _metrics(c, "plain") != _metrics(a, "plain")


@pytest.mark.parametrize("name", list_datasets())
def test_every_builtin_dataset_runs(name):
    options = {"per_class": 8} if name == "shapes" else {}
    result = run_experiment(replace(TINY, dataset=name, dataset_options=options, epochs=1, seeds=1, val_fraction=0.3))
    assert result.status == "completed" and len(result.epochs) == 2
    final = result.finals[0]
    classes = len(result.class_names)
    assert np.asarray(final.confusion).shape == (classes, classes)
    assert sum(map(sum, final.confusion)) == len(final.val_indices)
    assert len(final.misclassified) == len(final.val_indices) - np.trace(final.confusion)
    assert all(m["true"] != m["predicted"] and m["index"] in final.val_indices for m in final.misclassified)


@pytest.mark.slow
def test_callbacks_report_every_epoch_and_batch():
    epochs, batches = [], []
    result = run_experiment(TINY, on_epoch=epochs.append, on_batch=batches.append)
    assert len(epochs) == 2 * 2 * 2 and epochs == result.epochs
    assert {(e.arm, e.replicate, e.epoch) for e in epochs} == {(a, r, e) for a in ("plain", "augmented") for r in (0, 1) for e in (1, 2)}
    fractions = [b.fraction for b in batches]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(1 <= b.batch <= b.batches and np.isfinite(b.loss) for b in batches)
    curves = result.analysis["curves"]["val_acc"]
    assert [row["n"] for row in curves["plain"]] == [2, 2]


@pytest.mark.slow
def test_cancel_keeps_finished_epochs():
    cancel = threading.Event()

    def stop_after_first(record):
        if record.arm == "augmented":
            cancel.set()

    result = run_experiment(replace(TINY, epochs=5), on_epoch=stop_after_first, cancel=cancel)
    assert result.status == "cancelled" and "Stopped" in result.message
    assert [(e.arm, e.epoch) for e in result.epochs] == [("plain", 1), ("augmented", 1)]
    assert result.finals == [] and result.comparison["verdict"] == "not enough runs"


def test_nan_loss_fails_with_a_message_and_keeps_epochs(monkeypatch):
    real = training.F.cross_entropy
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] > 3 and loss.requires_grad else loss

    monkeypatch.setattr(training.F, "cross_entropy", poisoned)
    result = run_experiment(replace(TINY, pipeline=None, epochs=4))
    assert result.status == "failed" and "loss became nan" in result.message
    assert 0 < len(result.epochs) < 16


def test_an_unexpected_exception_fails_the_run_not_the_caller():
    def explode(record):
        raise RuntimeError("disk full")

    result = run_experiment(TINY, on_epoch=explode)
    assert result.status == "failed" and "RuntimeError: disk full" in result.message and len(result.epochs) == 1


@pytest.mark.slow
def test_folds_and_user_data_and_zip_path(tmp_path):
    def png(v):
        buf = io.BytesIO()
        Image.fromarray(np.full((20, 20, 3), v, np.uint8)).save(buf, "PNG")
        return buf.getvalue()

    mapping = {"dark": [(f"d{i}.png", png(i * 3)) for i in range(6)], "light": [(f"l{i}.png", png(200 + i * 3)) for i in range(6)]}
    ds, _ = load_mapping(mapping, image_size=32)
    result = run_experiment(replace(TINY, dataset="upload", folds=3, train_per_class=None, epochs=1), dataset=ds)
    assert result.status == "completed" and result.comparison["n"] == 3
    assert result.dataset_fingerprint == ds.fingerprint and result.class_names == ("dark", "light")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for cls, files in mapping.items():
            for name, data in files:
                zf.writestr(f"{cls}/{name}", data)
    again = run_experiment(replace(TINY, dataset=str(archive), folds=3, train_per_class=None, epochs=1))
    assert again.dataset_fingerprint == ds.fingerprint and _metrics(again, "plain") == _metrics(result, "plain")


def test_replicates_are_plain_picklable_objects_with_the_one_transform_seed():
    import pickle

    from augment_core.experiment import create_dataset, make_replicates, transform_seed
    from augment_core.experiment.runner import replicate_splits

    spec = ExperimentSpec(dataset="shapes", seeds=3, epochs=1)
    data = create_dataset("shapes", image_size=spec.image_size, per_class=8, seed=1)
    replicates = make_replicates(spec, data.labels)
    assert [(r.index, r.seed, r.of) for r in replicates] == [(i, s, 3) for i, (s, _, _) in
                                                             enumerate(replicate_splits(spec, data.labels))]
    again = pickle.loads(pickle.dumps(replicates[1]))  # what a Ray task receives
    assert again.seed == replicates[1].seed and (again.train_idx == replicates[1].train_idx).all()
    assert replicates[0].steps > 0 and transform_seed(5) == (5 * 1_000_003 + 1) % 2**31
    assert len({transform_seed(r.seed) for r in replicates}) == 3


@pytest.mark.parametrize("value, ok", [("auto", True), ("cpu", True), (" CPU ", True), ("gpu", False)])
def test_device_setting_is_validated(monkeypatch, value, ok):
    from augment_core.experiment import select_device

    monkeypatch.setenv("AUGLAB_DEVICE", value)
    if ok:  # see tests/test_device.py for auto and cuda on a machine with or without CUDA
        assert select_device().type in ("cpu", "cuda")
    else:
        with pytest.raises(AugLabError, match="AUGLAB_DEVICE"):
            select_device()
