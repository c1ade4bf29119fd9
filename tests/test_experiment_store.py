"""Statistics, the SQLite store (tmp AUGLAB_DATA_DIR) and the CLI."""

from __future__ import annotations

import csv
import io
import json
import math
import threading
from dataclasses import replace

import numpy as np
import pytest

from augment_core.errors import AugLabError
from augment_core.experiment.cli import main
from augment_core.experiment.presets import DEMO_PIPELINE
from augment_core.experiment.runner import run_experiment
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.stats import curves, paired_comparison, t_interval
from augment_core.experiment.store import RunStore

TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 8}, image_size=32, epochs=2, seeds=2,
                      train_per_class=3, batch_size=6, val_fraction=0.5, pipeline=DEMO_PIPELINE)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGLAB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_t_interval_matches_a_hand_computation():
    mean, std, low, high = t_interval([1.0, 2.0, 6.0])
    assert mean == pytest.approx(3.0) and std == pytest.approx(math.sqrt(7.0))
    half = 4.302652729911275 * math.sqrt(7.0) / math.sqrt(3)  # t(0.975, df=2)
    assert (low, high) == (pytest.approx(3 - half), pytest.approx(3 + half))


@pytest.mark.parametrize("plain, augmented, verdict", [
    ([0.5, 0.6, 0.55], [0.6, 0.7, 0.66], "helped"),
    ([0.6, 0.7, 0.66], [0.5, 0.6, 0.55], "hurt"),
    ([0.5, 0.6, 0.55], [0.6, 0.5, 0.56], "no clear difference"),
    ([0.5], [0.6], "not enough runs"),
])
def test_verdicts(plain, augmented, verdict):
    comparison = paired_comparison(plain, augmented)
    assert comparison.verdict == verdict and comparison.n == len(plain)
    assert comparison.differences == pytest.approx([100 * (a - p) for p, a in zip(plain, augmented)])
    assert verdict.split()[0].lower() in comparison.sentence.lower() or verdict == "not enough runs"


def test_curves_mean_and_std_per_epoch():
    records = [{"arm": "plain", "epoch": 1, "val_acc": v} for v in (0.5, 0.7)] + [{"arm": "augmented", "epoch": 1, "val_acc": 0.9}]
    out = curves(records)
    assert out["plain"] == [{"epoch": 1, "mean": pytest.approx(0.6), "std": pytest.approx(np.std([0.5, 0.7], ddof=1)), "n": 2}]
    assert out["augmented"][0]["std"] == 0.0


@pytest.mark.slow
def test_store_round_trip_list_export_delete(data_dir):
    store = RunStore()
    assert store.path.parent == data_dir
    seen_in_store = []

    def check_written(record):
        # A second connection (as a page's script thread would use) already sees this epoch.
        seen_in_store.append(len(RunStore().load_run(result_holder["id"]).epochs) if result_holder else -1)

    result_holder: dict[str, int] = {}
    original_create = store.create_run

    def create_run(result):
        result_holder["id"] = original_create(result)
        return result_holder["id"]

    store.create_run = create_run  # type: ignore[method-assign]
    result = run_experiment(TINY, store=store, on_epoch=check_written)
    assert seen_in_store == list(range(1, 9)), "each epoch is stored before the callback fires"
    loaded = store.load_run(result.run_id)
    assert loaded.spec == result.spec and loaded.status == "completed" and loaded.versions["torch"]
    assert sorted(e.to_dict().items() for e in loaded.epochs) == sorted(e.to_dict().items() for e in result.epochs)
    assert [f.to_dict() for f in loaded.finals] == [f.to_dict() for f in result.finals]
    assert loaded.analysis["comparison"]["mean"] == pytest.approx(result.comparison["mean"])
    assert loaded.started_at and loaded.finished_at and loaded.dataset_fingerprint == result.dataset_fingerprint
    runs = store.list_runs()
    assert [r["id"] for r in runs] == [result.run_id] and runs[0]["verdict"] == result.comparison["verdict"]
    rows = list(csv.DictReader(io.StringIO(store.export_csv(result.run_id))))
    assert len(rows) == 8 and {"arm", "val_acc", "seed"} <= set(rows[0])
    exported = json.loads(store.export_json(result.run_id))
    assert ExperimentSpec.from_dict(exported["spec"]) == TINY and len(exported["epochs"]) == 8
    assert store.delete_run(result.run_id) and not store.delete_run(result.run_id)
    with pytest.raises(AugLabError):
        store.load_run(result.run_id)


@pytest.mark.slow
def test_cancelled_run_is_stored_as_cancelled_from_a_worker_thread():
    store = RunStore()
    cancel = threading.Event()
    holder = {}

    def worker():
        holder["result"] = run_experiment(replace(TINY, epochs=6), store=store, cancel=cancel,
                                          on_epoch=lambda r: cancel.set() if r.epoch == 2 else None)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=120)
    result = holder["result"]
    stored = store.load_run(result.run_id)
    assert stored.status == "cancelled" and len(stored.epochs) == 3  # plain 1, augmented 1, plain 2


def test_cli_run_list_show_export(tmp_path, capsys):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(replace(TINY, seeds=1, epochs=1).to_json())
    assert main(["run", str(spec_file)]) == 0
    out = capsys.readouterr().out
    assert "verdict:" in out and "augmented" in out and "val acc" in out
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    run_id = int(listing.splitlines()[1].split()[0])
    assert main(["show", str(run_id)]) == 0 and "verdict:" in capsys.readouterr().out
    assert main(["export", str(run_id), "--format", "csv"]) == 0 and capsys.readouterr().out.startswith("run_id,arm")
    assert main(["show", "999"]) == 2 and "no stored run" in capsys.readouterr().err
    assert main(["run"]) == 2
