"""Trials and arms as runs in the run queue: the same numbers as in-process, pruning cancels the queued run."""

from __future__ import annotations

from dataclasses import replace

import pytest

import augment_core  # noqa: F401
from augment_core.errors import AugLabError
from augment_core.experiment import DataPart, LocalExecutor, QueueExecutor, RunQueue, RunRequest, RunStore
from augment_core.experiment.datasets import create_dataset
from augment_core.experiment.presets import DEMO_PIPELINE
from augment_core.experiment.search import SearchSpec, holdout_split, run_search
from augment_core.experiment.spec import ExperimentSpec
from augment_core.worker import Worker

pytest.importorskip("optuna")

TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 16}, image_size=32, epochs=2, seeds=1,
                      train_per_class=3, batch_size=6, val_fraction=0.5)


@pytest.fixture
def two_workers():
    """Two in-process workers serving the test's run database (the real run function)."""
    workers = [Worker(poll_s=0.05) for _ in range(2)]
    threads = [w.start_thread() for w in workers]
    yield workers
    for w in workers:
        w.stop()
    for t in threads:
        t.join(30)


def _values(result):
    return [(t.number, t.state, t.params, t.value) for t in sorted(result.trials, key=lambda t: t.number)]


def test_a_search_gives_the_same_trials_through_the_queue_as_in_process(two_workers, tmp_path):
    spec = SearchSpec(TINY, space="presets", budget_trials=3, budget_seconds=None, pruning=False, confirm_seeds=2)
    local = run_search(replace(spec, name="local"), storage=f"sqlite:///{tmp_path / 'a.sqlite3'}")
    queue = QueueExecutor(workers=2, poll_s=0.05)
    queued = run_search(replace(spec, name="queued"), executor=queue, storage=f"sqlite:///{tmp_path / 'b.sqlite3'}")
    assert queued.status == local.status == "completed"
    assert _values(queued) == _values(local) and all(v[3] is not None for v in _values(local))
    # every trial and confirmation arm (none, the winner) was a run in the queue, trained by a worker, only its own arm
    store = RunStore()
    runs = [store.load_run(i) for i in queue.run_ids]
    assert len(runs) == 3 + 2 and {r.status for r in runs} == {"completed"}
    assert {e.arm for e in runs[0].epochs} == {"augmented"} and {e.arm for e in runs[3].epochs} == {"plain"}
    assert RunQueue(store).state(queue.run_ids[0]).worker in {w.name for w in two_workers}
    # the confirmation on the held-out part gives the same leaderboard
    assert [(r.arm, r.mean_acc) for r in queued.confirmation.leaderboard.rows] == \
        [(r.arm, r.mean_acc) for r in local.confirmation.leaderboard.rows]


def test_a_held_out_part_is_rebuilt_by_the_worker_and_equals_the_in_memory_one(two_workers):
    data = create_dataset("shapes", image_size=32, per_class=16)
    part = DataPart("held-out", 0.3, 0, data.fingerprint)
    held_out = holdout_split(data, 0.3, 0)[1]
    assert part.select(data).fingerprint == held_out.fingerprint
    spec = replace(TINY, pipeline=DEMO_PIPELINE)
    local = LocalExecutor().run([RunRequest(spec, arms=("augmented",), dataset=held_out)])
    queued = QueueExecutor(workers=2, poll_s=0.05).run([RunRequest(spec, arms=("augmented",), dataset=held_out, part=part)])
    assert queued[0].dataset_fingerprint == held_out.fingerprint
    assert [f.val_acc for f in queued[0].finals] == [f.val_acc for f in local[0].finals]


def test_a_pruned_request_cancels_its_queued_run_and_the_others_finish(two_workers, monkeypatch):
    monkeypatch.setenv("AUGLAB_HEARTBEAT_SECONDS", "0.05")  # the worker reads the cancel flag with each heartbeat
    spec = replace(TINY, epochs=12, pipeline=DEMO_PIPELINE)
    requests = [RunRequest(spec, arms=("augmented",), label=str(i)) for i in range(3)]
    seen: list[tuple[int, int]] = []

    def on_epoch(i, record):
        seen.append((i, record.epoch))
        if i == 0:
            requests[0].cancel.set()  # what a search does when Optuna prunes the trial

    executor = QueueExecutor(workers=2, poll_s=0.05)
    results = executor.run(requests, on_epoch=on_epoch)
    assert [r.status for r in results] == ["cancelled", "completed", "completed"]
    assert len(results[0].epochs) < 12 and len(results[1].epochs) == len(results[2].epochs) == 12
    assert len([e for i, e in seen if i == 1]) == 12  # every epoch of a run is forwarded once


def test_in_memory_data_without_a_part_is_refused_not_silently_replaced():
    data = create_dataset("shapes", image_size=32, per_class=16)
    with pytest.raises(AugLabError, match="held in memory"):
        QueueExecutor(workers=1).run([RunRequest(TINY, dataset=data)])


def test_a_worker_refuses_a_part_cut_from_other_data(two_workers):
    part = DataPart("search", 0.3, 0, "not-this-data")
    [result] = QueueExecutor(workers=1, poll_s=0.05).run([RunRequest(TINY, arms=("augmented",), part=part,
                                                                     dataset=create_dataset("shapes", image_size=32))])
    assert result.status == "failed" and "not the ones this run was cut from" in result.message
