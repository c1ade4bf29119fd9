"""The job manager (a client of the run queue) with an in-process worker: fakes for the rules, the real engine once."""

from __future__ import annotations

import threading

import pytest

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentSpec, QueueFullError, RunStore, create_spec_preset
from augment_core.prove.jobs import JobLimitError, JobManager, estimate_eta, format_duration, ordinal
from tests.helpers import make_fake, wait_until

SPEC = ExperimentSpec(epochs=3, seeds=1)


@pytest.fixture
def managers():
    """Managers made by a test; their in-process workers are stopped afterwards."""
    made: list[JobManager] = []

    def make(**kwargs) -> JobManager:
        made.append(JobManager(**kwargs))
        return made[-1]

    yield make
    for manager in made:
        manager.stop()


def test_quick_run_completes_and_snapshot_has_every_epoch(managers):
    manager = managers(run=make_fake())
    job = manager.start("alice", SPEC)
    snap = manager.wait(job, 10)
    assert snap.status == "completed" and not snap.running
    assert len(snap.epochs) == 6 and snap.fraction == 1.0 and snap.run_id == int(job)
    assert RunStore().load_run(snap.run_id).status == "completed" and snap.result is not None
    assert manager.job_for("alice") == job  # a reloaded page finds its (finished) job
    assert manager.job_for("bob") is None


def test_a_second_manager_sees_the_same_job_everything_comes_from_the_database(managers):
    gate = threading.Event()
    manager = managers(run=make_fake(gate))
    job = manager.start("alice", SPEC)
    other = JobManager()  # another server process on the same data folder: no memory of the job
    wait_until(lambda: other.snapshot(job).status == "running")
    gate.set()
    assert other.wait(job, 10).status == "completed" and len(other.snapshot(job).epochs) == 6


def test_progress_eta_and_phase_while_running(managers):
    gate = threading.Event()
    manager = managers(run=make_fake(gate))
    job = manager.start("alice", SPEC)
    wait_until(lambda: manager.snapshot(job).status == "running")
    snap = manager.snapshot(job)
    assert snap.running and snap.eta_s is None and "Preparing" in snap.phase()
    gate.set()
    assert manager.wait(job, 10).eta_s == 0.0


def test_one_active_job_per_page_and_the_next_one_queues_with_its_position(managers):
    gate = threading.Event()
    manager = managers(run=make_fake(gate))
    first = manager.start("alice", SPEC)
    with pytest.raises(JobLimitError, match="already has a run"):
        manager.start("alice", SPEC)
    wait_until(lambda: manager.snapshot(first).status == "running")
    second = manager.start("bob", SPEC)  # one worker: bob waits
    snap = manager.snapshot(second)
    assert snap.queued and snap.running and snap.position == 1 and snap.queue_text().startswith("1st in the queue")
    gate.set()
    assert manager.wait(second, 20).status == "completed"  # started by itself once the worker was free


def test_queue_position_estimate_uses_running_progress_and_typical_run_times(managers, monkeypatch):
    manager = managers()  # no worker: we play the worker by hand
    queue = manager.queue
    done = queue.enqueue(SPEC)
    queue.claim("w")
    queue.store._conn().execute("UPDATE runs SET status='completed', seconds=120 WHERE id=?", (done,))
    queue.store._conn().commit()
    running = int(manager.start("alice", SPEC))
    waiting = [int(manager.start(p, SPEC)) for p in ("bob", "carol")]
    assert manager.snapshot(str(waiting[0])).starts_in_s is None  # nothing running yet: unknown
    queue.claim("w")
    from augment_core.experiment import BatchProgress
    queue.heartbeat(running, "w", BatchProgress("plain", 0, 1, 1, 3, 0.5, 0.5, 600.0))  # the worker measured 10 min left
    first, second = (manager.snapshot(str(i)) for i in waiting)
    assert first.position == 1 and second.position == 2
    assert 590 <= first.starts_in_s <= 600  # the running run's measured time left, less the time since its heartbeat
    assert second.starts_in_s == pytest.approx(first.starts_in_s + 120, rel=0.01)
    assert "2nd in the queue, starts in about" in second.queue_text()


def test_full_queue_refuses_politely(managers, monkeypatch):
    monkeypatch.setenv("AUGLAB_MAX_QUEUED", "1")
    manager = managers()
    manager.start("alice", SPEC)
    with pytest.raises(QueueFullError):
        manager.start("bob", SPEC)


def test_cancel_needs_the_starting_session_and_keeps_finished_epochs(managers):
    manager = managers(run=make_fake(pause_after=2))
    job = manager.start("page", SPEC, secret="session-1")
    wait_until(lambda: len(manager.snapshot(job).epochs) >= 2)
    assert manager.can_cancel(job, "session-1") and not manager.can_cancel(job, "page")
    with pytest.raises(AugLabError, match="Only the session that started"):
        manager.cancel(job, "someone-with-the-link")
    with pytest.raises(AugLabError, match="Only the session"):
        manager.cancel(job)  # the follow token (what a link carries) is not the secret
    manager.cancel(job, "session-1")
    snap = manager.wait(job, 10)
    assert snap.status == "cancelled" and len(snap.epochs) == 2
    assert len(RunStore().load_run(snap.run_id).epochs) == 2
    assert manager.may_delete(job, "session-1") and not manager.may_delete(job, "page")


@pytest.mark.parametrize("error", [AugLabError("The data set vanished."), RuntimeError("out of memory")])
def test_an_exception_in_the_worker_ends_the_job_with_a_message(managers, error):
    manager = managers(run=make_fake(fail=error))
    snap = manager.wait(manager.start("alice", SPEC), 10)
    assert snap.status == "failed" and ("vanished" in snap.message or "out of memory" in snap.message)
    assert manager.running_count() == 0 and manager.active_run_ids() == set()


def test_a_deleted_job_says_so():
    manager = JobManager()
    job = manager.start("alice", SPEC)
    manager.cancel(job)
    RunStore().delete_run(int(job))
    with pytest.raises(AugLabError, match="no run"):
        manager.snapshot(job)


@pytest.mark.slow
def test_real_engine_on_a_tiny_config_runs_in_the_background_and_is_stored(managers):
    from augment_core.experiment import run_experiment

    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                              epoch_repeats=1)
    manager = managers(run=run_experiment)
    job = manager.start("alice", spec)
    assert manager.snapshot(job).running
    snap = manager.wait(job, 300)
    assert snap.status == "completed" and len(snap.epochs) == 8
    assert snap.result is not None and snap.result.comparison["n"] == 2
    stored = RunStore().load_run(snap.run_id)
    assert len(stored.epochs) == 8 and stored.versions["device"] == "cpu"
    assert manager.active_run_ids() == set()


def test_eta_durations_and_ordinals():
    assert estimate_eta(0.0, 10) is None
    assert estimate_eta(0.25, 10) == pytest.approx(30)
    assert [format_duration(s) for s in (None, 42, 185, 3720)] == ["—", "42 s", "3 min 5 s", "1 h 2 min"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 102)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "102nd"]


def test_time_left_is_the_workers_measured_pace_not_the_fraction_extrapolated(managers):
    """The worker measures the pace (set-up excluded); the page subtracts the time since that heartbeat."""
    from augment_core.experiment import BatchProgress

    manager = managers()  # no in-process worker: this test plays the worker through the queue
    job = manager.start("alice", SPEC)
    queue = manager.queue
    run_id, _ = queue.claim("w1")
    queue.heartbeat(run_id, "w1", BatchProgress("plain", 0, 1, 1, 4, 0.7, 0.05, None))
    snap = manager.snapshot(job)
    assert snap.status == "running" and snap.eta_s is None and not snap.busy  # measured pace not known yet
    queue.heartbeat(run_id, "w1", BatchProgress("plain", 0, 1, 2, 4, 0.7, 0.1, 90.0, True))
    snap = manager.snapshot(job)
    assert snap.eta_s is not None and 85.0 <= snap.eta_s <= 90.0 and snap.busy
    assert "busy" in snap.eta_text() and "1 min" in snap.eta_text()
