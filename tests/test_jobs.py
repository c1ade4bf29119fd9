"""The job manager without streamlit: fake quick runs for the rules, the real engine on a tiny config."""

from __future__ import annotations

import threading
import time

import pytest

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentSpec, RunStore, create_spec_preset
from tests.helpers import make_fake, wait_until
from augment_core.prove.jobs import JobLimitError, JobManager, estimate_eta, format_duration

SPEC = ExperimentSpec(epochs=3, seeds=1)


def test_quick_run_completes_and_snapshot_has_every_epoch():
    manager = JobManager(run=make_fake())
    job = manager.start("alice", SPEC)
    snap = manager.wait(job, 10)
    assert snap.status == "completed" and not snap.running
    assert len(snap.epochs) == 6 and snap.fraction == 1.0 and snap.run_id is not None
    assert RunStore().load_run(snap.run_id).status == "completed"
    assert manager.job_for("alice") == job  # a reloaded page finds its (finished) job
    assert manager.job_for("bob") is None


def test_progress_eta_and_phase_while_running():
    gate = threading.Event()
    manager = JobManager(run=make_fake(gate), max_jobs=2)
    job = manager.start("alice", SPEC)
    snap = manager.snapshot(job)
    assert snap.running and snap.eta_s is None and "Preparing" in snap.phase()
    gate.set()
    manager.wait(job, 10)
    assert manager.snapshot(job).eta_s == 0.0


def test_one_running_job_per_owner_and_a_global_limit():
    gate = threading.Event()
    manager = JobManager(run=make_fake(gate), max_jobs=1)
    job = manager.start("alice", SPEC)
    with pytest.raises(JobLimitError, match="already training"):
        manager.start("alice", SPEC)
    with pytest.raises(JobLimitError, match="busy") as refused:
        manager.start("bob", SPEC)
    assert "AUGLAB_MAX_JOBS" in refused.value.hint
    gate.set()
    manager.wait(job, 10)
    second = manager.start("bob", SPEC)  # free again once the first finished
    assert manager.wait(second, 10).status == "completed"


def test_global_limit_is_read_from_the_setting(monkeypatch):
    monkeypatch.setenv("AUGLAB_MAX_JOBS", "2")
    gate = threading.Event()
    manager = JobManager(run=make_fake(gate))
    jobs = [manager.start("alice", SPEC), manager.start("bob", SPEC)]
    with pytest.raises(JobLimitError):
        manager.start("carol", SPEC)
    assert manager.running_count() == 2
    gate.set()
    for job in jobs:
        manager.wait(job, 10)


def test_cancel_stops_within_a_step_and_keeps_finished_epochs():
    manager = JobManager(run=make_fake(pause_after=2))
    job = manager.start("alice", SPEC)
    wait_until(lambda: len(manager.snapshot(job).epochs) >= 2)
    manager.cancel(job)
    snap = manager.wait(job, 10)
    assert snap.status == "cancelled" and len(snap.epochs) == 2
    assert len(RunStore().load_run(snap.run_id).epochs) == len(snap.epochs)


def test_a_job_nobody_polls_is_cancelled_with_a_clear_message():
    now = [0.0]
    gate = threading.Event()
    manager = JobManager(run=make_fake(gate, steps=50), abandon_after_s=60, clock=lambda: now[0])
    job = manager.start("alice", SPEC)
    manager.snapshot(job)  # a poll at t=0
    now[0] = 61.0  # nobody polled for 61 s
    gate.set()
    snap = manager.wait(job, 10)
    assert snap.status == "cancelled" and "no page followed it" in snap.message
    assert "no page followed it" in RunStore().load_run(snap.run_id).message


def test_polling_keeps_a_job_alive():
    now = [0.0]
    gate = threading.Event()
    manager = JobManager(run=make_fake(gate), abandon_after_s=60, clock=lambda: now[0])
    job = manager.start("alice", SPEC)
    now[0] = 59.0
    manager.snapshot(job)  # heartbeat
    now[0] = 100.0  # 41 s since the last poll
    gate.set()
    assert manager.wait(job, 10).status == "completed"


@pytest.mark.parametrize("error", [AugLabError("The data set vanished."), RuntimeError("out of memory")])
def test_an_exception_in_the_worker_ends_the_job_with_a_message(error):
    manager = JobManager(run=make_fake(fail=error))
    snap = manager.wait(manager.start("alice", SPEC), 10)
    assert snap.status == "failed" and ("vanished" in snap.message or "out of memory" in snap.message)
    assert manager.running_count() == 0
    manager.forget(snap.job_id)
    with pytest.raises(AugLabError, match="no longer known"):
        manager.snapshot(snap.job_id)


@pytest.mark.slow
def test_real_engine_on_a_tiny_config_runs_in_the_background_and_is_stored():
    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                         epoch_repeats=1)
    manager = JobManager()
    job = manager.start("alice", spec)
    assert manager.snapshot(job).running
    snap = manager.wait(job, 120)
    assert snap.status == "completed" and len(snap.epochs) == 8
    assert snap.result is not None and snap.result.comparison["n"] == 2
    stored = RunStore().load_run(snap.run_id)
    assert len(stored.epochs) == 8 and stored.status == "completed"
    assert manager.active_run_ids() == set()


def test_eta_and_durations():
    assert estimate_eta(0.0, 10) is None
    assert estimate_eta(0.25, 10) == pytest.approx(30)
    assert [format_duration(s) for s in (None, 42, 185, 3720)] == ["—", "42 s", "3 min 5 s", "1 h 2 min"]
