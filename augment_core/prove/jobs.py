"""Background training jobs: one worker thread per run, polled by pages, never touching streamlit.

A :class:`JobManager` starts :func:`~augment_core.experiment.run_experiment` in a daemon thread
and keeps what the engine's callbacks report (finished epochs, the latest step) in a
thread-safe record. Pages ask for a :class:`JobSnapshot`, a frozen copy that is safe to draw.

Rules it enforces:

* one running job per *owner* (a token the page keeps in its URL, so a reloaded page finds its
  job again with :meth:`JobManager.job_for`);
* at most ``AUGLAB_MAX_JOBS`` running jobs on the machine (a polite :class:`JobLimitError`);
* no orphans: every :meth:`~JobManager.snapshot` is a heartbeat, and a job that nobody has
  polled for ``AUGLAB_JOB_ABANDON_MINUTES`` is cancelled by its own worker at the next step.
  Cancelled runs keep their finished epochs in the store.

Example:
    >>> manager = default_manager()
    >>> job_id = manager.start("owner-token", create_spec_preset("demo", epochs=3, seeds=2))
    >>> manager.snapshot(job_id).fraction
    0.42
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment import (BatchProgress, EpochRecord, ExperimentResult, ExperimentSpec, ImageDataset,
                                     RunStore, run_experiment)
from augment_core.settings import get_int, get_setting

RunFunction = Callable[..., ExperimentResult]  # run_experiment's signature
FINISHED = ("completed", "cancelled", "failed")


class _ReportingStore(RunStore):
    """A :class:`RunStore` that tells the job its run id as soon as the engine creates the run."""

    def __init__(self, path: Any, on_create: Callable[[int], None]) -> None:
        super().__init__(path)
        self._on_create = on_create

    def create_run(self, result: ExperimentResult) -> int:
        """Insert the run (see :meth:`RunStore.create_run`) and report its id."""
        run_id = super().create_run(result)
        self._on_create(run_id)
        return run_id


class JobLimitError(AugLabError):
    """Refused to start: the owner already runs a job, or the machine's job limit is reached."""


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of one job's state, safe to draw from any thread."""

    job_id: str  # the manager's id for the job
    spec: ExperimentSpec  # what it runs
    status: str  # running, completed, cancelled or failed
    message: str  # why it stopped (empty while running or when completed)
    run_id: int | None  # id in the run store, once the engine created the run
    epochs: tuple[EpochRecord, ...]  # every finished epoch so far, in order
    latest: BatchProgress | None  # the last training step reported
    fraction: float  # share of the whole run done, 0-1
    elapsed_s: float  # seconds since the job started
    eta_s: float | None  # estimated seconds left (None until the first step is done)
    result: ExperimentResult | None  # the engine's result once finished

    @property
    def running(self) -> bool:
        """True until the worker has finished."""
        return self.status == "running"

    def phase(self) -> str:
        """Where the run is, in words: "seed 2 of 3 · epoch 5 of 30 · augmented arm · step 3 of 4"."""
        if self.latest is None:
            return "Preparing data and models…"
        p, what = self.latest, "fold" if self.spec.folds >= 2 else "seed"
        arm = "with augmentation" if p.arm == "augmented" else "without augmentation"
        return (f"{what} {p.replicate + 1} of {self.spec.replicates} · epoch {p.epoch} of {self.spec.epochs} · "
                f"{arm} · step {p.batch} of {p.batches}")


@dataclass
class _Job:
    """Mutable job record; every field is read and written under the manager's lock."""

    job_id: str
    owner: str
    spec: ExperimentSpec
    cancel: threading.Event
    started: float
    last_seen: float
    status: str = "running"
    message: str = ""
    run_id: int | None = None
    epochs: list[EpochRecord] = field(default_factory=list)
    latest: BatchProgress | None = None
    result: ExperimentResult | None = None
    ended: float | None = None
    abandoned: bool = False
    thread: threading.Thread | None = None


def estimate_eta(fraction: float, elapsed_s: float) -> float | None:
    """Seconds left if the rest goes at the average pace so far; None before any progress."""
    if fraction <= 0 or elapsed_s <= 0:
        return None
    return max(0.0, elapsed_s * (1.0 - fraction) / fraction)


def format_duration(seconds: float | None) -> str:
    """"42 s", "3 min 5 s", "1 h 2 min"; an em dash when unknown."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def new_owner_token() -> str:
    """An unguessable token that identifies one user's page (kept in its URL)."""
    return secrets.token_urlsafe(12)


class JobManager:
    """Starts, tracks, cancels and reaps training jobs. Thread-safe; make one per server.

    Args:
        run: The run function (default :func:`run_experiment`); tests pass quick fakes with
            the same keyword arguments (``dataset, on_epoch, on_batch, cancel, store``).
        max_jobs: Running jobs allowed at once; default: the ``AUGLAB_MAX_JOBS`` setting, read
            at every start.
        abandon_after_s: Cancel a job not polled for this long; default: the
            ``AUGLAB_JOB_ABANDON_MINUTES`` setting.
        clock: Monotonic clock (tests pass a fake one).
    """

    def __init__(self, *, run: RunFunction = run_experiment, max_jobs: int | None = None,
                 abandon_after_s: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._run, self._max_jobs, self._abandon_after_s, self._clock = run, max_jobs, abandon_after_s, clock
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    @property
    def max_jobs(self) -> int:
        """Running jobs allowed at once."""
        return self._max_jobs if self._max_jobs is not None else max(1, get_int("AUGLAB_MAX_JOBS"))

    @property
    def abandon_after_s(self) -> float:
        """Seconds without a poll after which a running job is cancelled."""
        if self._abandon_after_s is not None:
            return self._abandon_after_s
        return 60.0 * float(get_setting("AUGLAB_JOB_ABANDON_MINUTES"))

    def start(self, owner: str, spec: ExperimentSpec, *, dataset: ImageDataset | None = None,
              store: RunStore | None = None) -> str:
        """Start ``spec`` for ``owner`` in a worker thread and return the job id.

        Raises:
            JobLimitError: ``owner`` already has a running job, or the machine is at its limit.
        """
        with self._lock:
            running = [j for j in self._jobs.values() if j.status == "running"]
            mine = next((j for j in running if j.owner == owner), None)
            if mine is not None:
                raise JobLimitError("This page is already training a run; one at a time.",
                                    hint="Wait for it to finish, or cancel it, then start again.", field="job")
            if len(running) >= self.max_jobs:
                left = [estimate_eta(*self._progress(j)) for j in running]
                known = [s for s in left if s is not None]
                when = f" It should be free in about {format_duration(min(known))}." if known else ""
                raise JobLimitError(
                    f"The machine is busy: {len(running)} of {self.max_jobs} training slot(s) in use by other runs.{when}",
                    hint="Please try again then; your settings stay as they are. (An administrator can raise AUGLAB_MAX_JOBS.)",
                    field="job")
            now = self._clock()
            job = _Job(secrets.token_hex(6), owner, spec, threading.Event(), now, now)
            self._jobs[job.job_id] = job

        def created(run_id: int) -> None:
            with self._lock:
                job.run_id = run_id

        reporting = _ReportingStore(store.path if store is not None else None, created)
        reporting.close()  # this thread's connection; the worker opens its own
        job.thread = threading.Thread(target=self._work, args=(job, dataset, reporting), name=f"auglab-job-{job.job_id}",
                                      daemon=True)
        job.thread.start()
        return job.job_id

    def _progress(self, job: _Job) -> tuple[float, float]:
        fraction = job.latest.fraction if job.latest is not None else 0.0
        if job.status != "running":
            fraction = 1.0 if job.status == "completed" else fraction
        end = job.ended if job.ended is not None else self._clock()
        return fraction, end - job.started

    def _work(self, job: _Job, dataset: ImageDataset | None, store: RunStore) -> None:
        """Worker thread body: no streamlit, every outcome ends in a finished status."""

        def on_epoch(record: EpochRecord) -> None:
            with self._lock:
                job.epochs.append(record)

        def on_batch(progress: BatchProgress) -> None:
            with self._lock:
                job.latest = progress
                idle = self._clock() - job.last_seen
                if idle > self.abandon_after_s and not job.cancel.is_set():
                    job.abandoned = True
                    job.cancel.set()  # the engine stops after this step, keeping finished epochs

        result: ExperimentResult | None = None
        status, message = "failed", ""
        try:
            result = self._run(job.spec, dataset=dataset, on_epoch=on_epoch, on_batch=on_batch, cancel=job.cancel,
                               store=store)
            status, message = result.status, result.message
            if job.abandoned and status == "cancelled":
                minutes = self.abandon_after_s / 60
                message = (f"Stopped because no page followed it for {minutes:g} minute(s) (the tab was closed?); "
                           "finished epochs are kept.")
                result.message = message
                if result.run_id is not None:
                    store.finish_run(result)
        except AugLabError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - a job must end with a message, never vanish
            message = f"{type(exc).__name__}: {exc}"
        finally:
            store.close()
            with self._lock:
                job.result, job.status, job.message = result, status, message
                job.run_id = result.run_id if result is not None else job.run_id
                job.ended = self._clock()

    def snapshot(self, job_id: str, *, heartbeat: bool = True) -> JobSnapshot:
        """A frozen copy of job ``job_id``; by default also records that a page is watching it.

        Raises:
            AugLabError: No such job (e.g. the server restarted).
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise AugLabError("That training job is no longer known to the server (was the app restarted?).",
                                  hint="Its finished epochs are on the Runs page.", field="job")
            if heartbeat:
                job.last_seen = self._clock()
            fraction, elapsed = self._progress(job)
            return JobSnapshot(job.job_id, job.spec, job.status, job.message, job.run_id, tuple(job.epochs), job.latest,
                               fraction, elapsed, estimate_eta(fraction, elapsed) if job.status == "running" else 0.0,
                               job.result)

    def job_for(self, owner: str) -> str | None:
        """The owner's running job, else its most recent one, else None (reattaching after a reload)."""
        with self._lock:
            mine = sorted((j for j in self._jobs.values() if j.owner == owner), key=lambda j: j.started)
            running = [j for j in mine if j.status == "running"]
            chosen = running[-1] if running else (mine[-1] if mine else None)
            return chosen.job_id if chosen else None

    def cancel(self, job_id: str) -> None:
        """Ask the job to stop after its current step (finished epochs are kept)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.cancel.set()

    def forget(self, job_id: str) -> None:
        """Drop a finished job from memory (its run stays in the store)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.status != "running":
                del self._jobs[job_id]

    def running_count(self) -> int:
        """Jobs running now, on the whole server."""
        with self._lock:
            return sum(j.status == "running" for j in self._jobs.values())

    def active_run_ids(self) -> set[int]:
        """Store ids of runs that a live job is still writing (others marked running were interrupted)."""
        with self._lock:
            return {j.run_id for j in self._jobs.values() if j.status == "running" and j.run_id is not None}

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot:
        """Block until the job finishes (or ``timeout`` passes); return its snapshot. For tests and scripts."""
        with self._lock:
            thread = self._jobs[job_id].thread
        if thread is not None:
            thread.join(timeout)
        return self.snapshot(job_id, heartbeat=False)


_DEFAULT: JobManager | None = None
_DEFAULT_LOCK = threading.Lock()


def default_manager() -> JobManager:
    """The server-wide manager that pages share (created on first use)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = JobManager()
        return _DEFAULT


def set_default_manager(manager: JobManager | None) -> None:
    """Replace (or with None, reset) the server-wide manager; for tests."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        _DEFAULT = manager

