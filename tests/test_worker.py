"""Workers: in-process with fakes for the loop's rules; real `python -m augment_core.worker` processes for faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from augment_core.experiment import ExperimentSpec, RunQueue, RunStore, create_spec_preset, run_experiment
from augment_core.worker import Worker, WorkerPool
from tests.helpers import make_fake, wait_until

ROOT = Path(__file__).resolve().parents[1]
SPEC = ExperimentSpec(epochs=2, seeds=1)
# Real training, small enough for two shared cores, long enough to be caught mid-run (tens of epochs).
TINY = create_spec_preset("demo", epochs=30, seeds=1, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                          epoch_repeats=1)


def test_worker_trains_queued_runs_in_order_and_heartbeats_progress(monkeypatch):
    monkeypatch.setenv("AUGLAB_HEARTBEAT_SECONDS", "0.05")
    queue = RunQueue()
    ids = [queue.enqueue(SPEC) for _ in range(2)]
    gate = threading.Event()
    worker = Worker(run=make_fake(gate), poll_s=0.01)
    thread = worker.start_thread()
    wait_until(lambda: queue.state(ids[0]).status == "running")
    wait_until(lambda: queue.state(ids[0]).heartbeat_age_s is not None and queue.state(ids[0]).heartbeat_age_s < 1)
    assert queue.state(ids[1]).status == "queued"  # one at a time
    gate.set()
    wait_until(lambda: queue.state(ids[1]).status == "completed")
    assert queue.state(ids[0]).status == "completed" and queue.state(ids[0]).progress.fraction == pytest.approx(1.0)
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_cancel_flag_set_by_a_page_stops_the_worker_run(monkeypatch):
    monkeypatch.setenv("AUGLAB_HEARTBEAT_SECONDS", "0.05")
    queue = RunQueue()
    run_id = queue.enqueue(SPEC, owner="alice")
    worker = Worker(run=make_fake(pause_after=1), poll_s=0.01)
    worker.start_thread()
    wait_until(lambda: len(queue.store.load_run(run_id).epochs) == 1)
    queue.request_cancel(run_id, "alice")
    wait_until(lambda: queue.state(run_id).status == "cancelled")
    assert len(queue.store.load_run(run_id).epochs) == 1
    worker.stop()


def test_a_disk_full_error_ends_the_run_failed_with_that_reason(monkeypatch):
    import sqlite3

    class FullStore(RunStore):
        def add_epoch(self, run_id, record):  # noqa: ANN001
            raise sqlite3.OperationalError("database or disk is full")

    queue = RunQueue(FullStore())
    spec = create_spec_preset("demo", epochs=1, seeds=1, dataset_options={"per_class": 6, "seed": 1}, train_per_class=2,
                              epoch_repeats=1)
    run_id = queue.enqueue(spec)
    queue.claim("w")
    result = run_experiment(spec, store=queue.store, run_id=run_id)
    assert result.status == "failed" and "disk holding the data folder is full" in result.message
    assert RunStore(queue.store.path).load_run(run_id).message == result.message  # what the page shows


def _worker_process(data_dir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "AUGLAB_DATA_DIR": str(data_dir), "AUGLAB_HEARTBEAT_SECONDS": "0.2", "PYTHONPATH": str(ROOT),
           "AUGLAB_TORCH_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "augment_core.worker", *args], env=env, cwd=ROOT)


@pytest.mark.slow
def test_killed_worker_leaves_a_failed_run_with_its_epochs_and_the_next_worker_takes_the_next_run(isolated_data_dir):
    queue = RunQueue()
    killed_run = queue.enqueue(TINY)
    next_run = queue.enqueue(ExperimentSpec(**{**TINY.to_dict(), "epochs": 1}))
    worker = _worker_process(isolated_data_dir)  # a worker started without the app
    try:
        wait_until(lambda: len(queue.store.load_run(killed_run).epochs) >= 2, timeout=240, interval=0.1)
        worker.send_signal(signal.SIGKILL)  # no goodbye: out of memory, kill -9
        worker.wait(10)
    finally:
        worker.kill()
    kept = len(queue.store.load_run(killed_run).epochs)
    time.sleep(1.2)
    assert queue.reap_stale(stale_s=1.0) == [killed_run]
    state = queue.state(killed_run)
    assert state.status == "failed" and f"{kept} finished epoch" in state.message
    assert len(queue.store.load_run(killed_run).epochs) == kept  # no finished epoch lost
    second = _worker_process(isolated_data_dir, "--once")
    assert second.wait(240) == 0
    assert queue.state(next_run).status == "completed" and queue.state(killed_run).status == "failed"


@pytest.mark.slow
def test_politely_stopped_worker_requeues_and_the_rerun_equals_an_uninterrupted_run(isolated_data_dir, monkeypatch):
    queue = RunQueue()
    run_id = queue.enqueue(TINY)
    pool = WorkerPool(0)  # the app's path: SIGTERM
    worker = _worker_process(isolated_data_dir)
    pool._procs = [worker]  # noqa: SLF001 - drive the pool's stop on our process
    wait_until(lambda: len(queue.store.load_run(run_id).epochs) >= 2, timeout=240, interval=0.1)
    pool.stop(timeout=60)
    assert worker.returncode == 0
    state = queue.state(run_id)
    assert state.status == "queued" and state.position == 1 and queue.store.load_run(run_id).epochs == []
    second = _worker_process(isolated_data_dir, "--once")
    assert second.wait(300) == 0
    resumed = queue.store.load_run(run_id)
    assert resumed.status == "completed"
    monkeypatch.setenv("AUGLAB_TORCH_THREADS", "1")  # as the workers: thread count can change float sums
    reference = run_experiment(TINY)  # the same spec, never interrupted
    assert [e.val_acc for e in resumed.epochs] == [e.val_acc for e in reference.epochs]
    assert [round(e.train_loss, 6) for e in resumed.epochs] == [round(e.train_loss, 6) for e in reference.epochs]


@pytest.mark.slow
def test_replicates_spread_over_two_processes_give_the_local_numbers():
    from augment_core.worker import ProcessExecutor

    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                              epoch_repeats=1)
    spread = run_experiment(spec, executor=ProcessExecutor(2))
    local = run_experiment(spec)
    assert spread.status == "completed" and spread.versions["executor"] == "processes"
    key = lambda e: (e.replicate, e.epoch, e.arm)  # noqa: E731
    assert [(key(e), e.val_acc) for e in sorted(spread.epochs, key=key)] == [(key(e), e.val_acc) for e in sorted(local.epochs, key=key)]
    assert spread.comparison["n"] == 2


def test_app_started_workers_train_at_a_lower_priority_than_the_server(isolated_data_dir, monkeypatch):
    """Pages and previews get the CPU first: each worker process adds AUGLAB_WORKER_NICE to its niceness."""
    from augment_core.worker import start_workers

    monkeypatch.setenv("AUGLAB_WORKER_NICE", "7")
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    pool = start_workers(1)
    try:
        pid = pool.pids[0]
        wait_until(lambda: os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + 7), timeout=60, interval=0.1)
    finally:
        pool.stop()
