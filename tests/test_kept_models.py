"""A run's kept models belong to that run: deleted with it, never shown for another run with the same id."""

from __future__ import annotations

import os
import time

import pytest

from augment_core.experiment import ExperimentResult, ExperimentSpec, RunStore, run_experiment
from augment_core.experiment.export import model_file, trained_arms
from augment_core.experiment.userdata import load_zip
from tests.photos import photo_zip


@pytest.fixture(scope="module")
def tiny_photos():
    dataset, _ = load_zip(photo_zip(6, val_per_class=3), image_size=32)
    return dataset


def _run(dataset, store: RunStore) -> ExperimentResult:
    spec = ExperimentSpec(name="photos", dataset="photos.zip", image_size=32, epochs=1, seeds=1, batch_size=6)
    return store.load_run(run_experiment(spec, dataset=dataset, store=store).run_id)


def test_deleting_a_run_deletes_its_kept_models_and_only_its(tiny_photos):
    store = RunStore()
    first, second = _run(tiny_photos, store), _run(tiny_photos, store)
    assert trained_arms(first) == trained_arms(second) == ["plain", "augmented"]
    assert store.delete_run(first.run_id)
    assert not any(model_file(first.run_id, arm).exists() for arm in ("plain", "augmented"))
    assert trained_arms(second) == ["plain", "augmented"]  # the other run keeps its models


def test_a_new_database_never_shows_models_left_by_the_old_one(tiny_photos, tmp_path):
    """A new database (the old one moved aside, say) numbers its runs from 1 again, while models/ stayed."""
    old = _run(tiny_photos, RunStore())
    for arm in ("plain", "augmented"):  # written some time before the new run starts
        os.utime(model_file(old.run_id, arm), (time.time() - 120, time.time() - 120))
    store = RunStore(tmp_path / "new.sqlite3")
    spec = ExperimentSpec(name="stopped early", dataset="photos.zip", image_size=32, epochs=1, seeds=1)
    new = ExperimentResult(spec, status="cancelled", class_names=("a", "b"), started_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    new.run_id = store.create_run(new)
    assert new.run_id == old.run_id and model_file(new.run_id, "plain").exists()
    assert trained_arms(store.load_run(new.run_id)) == []  # the old run's files are not this run's
