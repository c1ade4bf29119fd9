"""Training jobs as the pages see them: a thin client of the run queue in the database.

Starting a job writes a queued run (:meth:`augment_core.experiment.RunQueue.enqueue`); worker
processes (:mod:`augment_core.worker`) train it. Everything a page shows (status, queue position,
progress, ETA, curves) is read from the database, so a reload, a server restart or a second
browser sees the same run. Nothing about a job is kept in this process's memory.

Ownership: a page has a public *follow* token (in its URL, ``?lab=…``: anyone with the link can
watch its runs) and a private *secret* (in the session only, or the logged-in user): only the
secret that started a run may cancel or delete it.

Rules it enforces: one queued or running run per follow token (a polite :class:`JobLimitError`),
and ``AUGLAB_MAX_QUEUED`` waiting runs on the machine.

Example:
    >>> manager = default_manager()
    >>> job_id = manager.start("page-token", create_spec_preset("demo", epochs=3, seeds=2), secret="session-secret")
    >>> manager.snapshot(job_id).queue_text()
    '1st in the queue, starts when a worker is free'
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from augment_core.errors import AugLabError
from augment_core.experiment import (BatchProgress, EpochRecord, ExperimentResult, ExperimentSpec, ImageDataset,
                                     RunQueue, RunState, RunStore)
from augment_core.prove.server_wide import ServerWide
from augment_core.worker import Worker

RunFunction = Callable[..., ExperimentResult]  # run_experiment's signature
FINISHED = ("completed", "cancelled", "failed")


class JobLimitError(AugLabError):
    """Refused to start: this page already has a run queued or running."""


@dataclass(frozen=True)
class JobSnapshot:
    """One job as the database has it now; safe to draw."""

    job_id: str  # the run's store id, as text
    spec: ExperimentSpec  # what it runs
    status: str  # queued, running, completed, cancelled or failed
    message: str  # why it stopped (empty while it goes and when completed)
    run_id: int  # id in the run store
    epochs: tuple[EpochRecord, ...]  # every finished epoch so far, in order
    latest: BatchProgress | None  # the last training step the worker reported
    fraction: float  # share of the whole run done, 0-1
    elapsed_s: float  # seconds since a worker started it (0 while queued)
    eta_s: float | None  # estimated seconds left (None until the first step is done)
    result: ExperimentResult | None  # the stored run once finished
    position: int | None = None  # 1-based place in the queue while queued
    starts_in_s: float | None = None  # guess of when a queued run starts (None: unknown)
    cancel_requested: bool = False  # a cancel was asked; the worker stops after its current step
    busy: bool = False  # the worker's machine had other work sharing its CPU at the last step

    def eta_text(self) -> str:
        """"about 3 min 5 s left" (and that it may move when the machine is busy); "estimating time left…" before."""
        if self.eta_s is None:
            return "estimating time left…"
        text = f"about {format_duration(self.eta_s)} left"
        return text + " (the machine is busy with other work, so this may move)" if self.busy else text

    @property
    def running(self) -> bool:
        """True while the run is queued or training (the page follows it live)."""
        return self.status in ("queued", "running")

    @property
    def queued(self) -> bool:
        """True while it waits for a worker."""
        return self.status == "queued"

    def phase(self) -> str:
        """Where the run is, in words: "seed 2 of 3 · epoch 5 of 30 · augmented arm · step 3 of 4"."""
        if self.queued:
            return self.queue_text()
        if self.latest is None:
            return "Preparing data and models…"
        p, what = self.latest, "fold" if self.spec.folds >= 2 else "seed"
        arm = "with augmentation" if p.arm == "augmented" else "without augmentation"
        return (f"{what} {p.replicate + 1} of {self.spec.replicates} · epoch {p.epoch} of {self.spec.epochs} · "
                f"{arm} · step {p.batch} of {p.batches}")

    def queue_text(self) -> str:
        """"2nd in the queue, starts in about 3 min 0 s" (or "…when a worker is free")."""
        if self.position is None:
            return ""
        when = ("starts when a worker is free" if self.starts_in_s is None
                else f"starts in about {format_duration(self.starts_in_s)}")
        return f"{ordinal(self.position)} in the queue, {when}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def estimate_eta(fraction: float, elapsed_s: float) -> float | None:
    """Seconds left if the rest goes at the average pace so far; None before any progress.

    A fallback for callers with nothing better: it charges the set-up before the first step to
    every later step. Running jobs use the worker's measured pace instead (:func:`_time_left`).
    """
    if fraction <= 0 or elapsed_s <= 0:
        return None
    return max(0.0, elapsed_s * (1.0 - fraction) / fraction)


def _time_left(state: RunState) -> float | None:
    """The worker's measured time left at its last heartbeat, less the time since; None until it has measured."""
    progress = state.progress
    if progress is None or progress.eta_s is None:
        return None
    return max(0.0, progress.eta_s - (state.heartbeat_age_s or 0.0))


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
    """An unguessable token (a page's follow token, or a session's secret)."""
    return secrets.token_urlsafe(12)


def _elapsed(started_at: str) -> float:
    if not started_at:
        return 0.0
    return max(0.0, (datetime.now(timezone.utc) - datetime.fromisoformat(started_at)).total_seconds())


class JobManager:
    """Starts, reads and cancels queued runs. Holds no job state; make one per server (or per test).

    Args:
        run: When given, train queued runs in a worker thread of this process with this run
            function (AppTests and scripts without worker processes; tests pass quick fakes).
            Default: none here; the app's worker processes do the training.
        store_path: The run database (default: the data folder's).
    """

    def __init__(self, *, run: RunFunction | None = None, store_path: str | None = None) -> None:
        self._store_path = store_path
        self._store: RunStore | None = None
        self._run = run
        self._worker: Worker | None = None
        self._lock = threading.Lock()

    @property
    def queue(self) -> RunQueue:
        """The queue in the run database (opened on first use; one connection per thread)."""
        with self._lock:
            if self._store is None:
                self._store = RunStore(self._store_path)
            return RunQueue(self._store)

    def _ensure_worker(self) -> None:
        path = self.queue.store.path
        with self._lock:
            if self._run is not None and self._worker is None:
                self._worker = Worker(path, run=self._run, poll_s=0.05)
                self._worker.start_thread()

    def stop(self) -> None:
        """Stop this manager's in-process worker, if it has one."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    def start(self, owner: str, spec: ExperimentSpec, *, secret: str | None = None, dataset: ImageDataset | None = None,
              store: RunStore | None = None) -> str:
        """Queue ``spec`` for page ``owner`` (its follow token) and return the job id.

        Args:
            owner: The page's public follow token (who may watch the run by link).
            spec: What to run; ``spec.dataset`` is how the worker finds the data (built-in or saved upload).
            secret: Who may cancel and delete it (default: ``owner`` itself, for scripts).
            dataset: Accepted for compatibility and ignored: the worker loads the data from the spec.
            store: Accepted for compatibility and ignored.

        Raises:
            JobLimitError: this page already has a run queued or running.
            augment_core.experiment.QueueFullError: ``AUGLAB_MAX_QUEUED`` runs are waiting.
        """
        del dataset, store  # a worker process cannot use this process's memory; the spec names the data
        queue = self.queue
        current = queue.latest_for(owner)
        if current is not None and queue.state(current).status in ("queued", "running"):
            raise JobLimitError("This page already has a run queued or training; one at a time.",
                                hint="Wait for it to finish, or cancel it, then start again.", field="job")
        run_id = queue.enqueue(spec, owner=secret if secret is not None else owner, follow=owner)
        self._ensure_worker()
        return str(run_id)

    def snapshot(self, job_id: str, *, heartbeat: bool = True) -> JobSnapshot:  # noqa: ARG002 - kept for callers
        """The job as the database has it now.

        Raises:
            AugLabError: No such run (deleted).
        """
        queue = self.queue
        queue.reap_stale()  # so a run whose worker died shows "failed" even where no other worker runs
        state = queue.state(int(job_id))
        stored = queue.store.load_run(state.run_id)
        fraction = 1.0 if state.status == "completed" else (state.progress.fraction if state.progress else 0.0)
        elapsed = stored.seconds if state.status in FINISHED else _elapsed(state.started_at)
        eta = _time_left(state) if state.status == "running" else (None if state.status == "queued" else 0.0)
        starts = self._starts_in(queue, state) if state.status == "queued" else None
        return JobSnapshot(str(state.run_id), state.spec, state.status, state.message, state.run_id, tuple(stored.epochs),
                           state.progress, fraction, elapsed, eta, stored if state.status in FINISHED else None,
                           state.position, starts, state.cancel_requested,
                           bool(state.progress and state.progress.busy and state.status == "running"))

    def _starts_in(self, queue: RunQueue, state: RunState) -> float | None:
        """Guess: the soonest running run's time left, plus a typical run's time per run ahead, shared by the workers."""
        active = queue.active()
        lefts = []
        for run_id in active["running"]:
            other = queue.state(run_id)
            lefts.append(_time_left(other))
        known = [x for x in lefts if x is not None]
        typical = queue.recent_seconds()
        if not active["running"]:
            return None
        if not known:
            return None
        ahead = (state.position or 1) - 1
        if ahead and not typical:
            return None
        per_run = statistics.median(typical) if typical else 0.0
        return min(known) + ahead * per_run / max(1, len(active["running"]))

    def job_for(self, owner: str) -> str | None:
        """The page's queued or running run, else its most recent one, else None (a reloaded page finds it)."""
        run_id = self.queue.latest_for(owner)
        return None if run_id is None else str(run_id)

    def can_cancel(self, job_id: str, secret: str) -> bool:
        """True when ``secret`` started the job (so it may cancel or delete it)."""
        try:
            return self.queue.state(int(job_id)).owned_by(secret)
        except AugLabError:
            return False

    def may_delete(self, job_id: str, secret: str) -> bool:
        """True when ``secret`` started the run, or the run has no owner (stored before the queue existed)."""
        try:
            state = self.queue.state(int(job_id))
        except AugLabError:
            return False
        return not state.owner or state.owned_by(secret)

    def cancel(self, job_id: str, secret: str | None = None) -> str:
        """Ask the job to stop (queued: at once; running: after the current step). Returns its status after.

        Args:
            job_id: The job.
            secret: The starting session's secret (default: refuse, unless the job was started with
                ``secret=None``, in which case its follow token is the secret).

        Raises:
            AugLabError: ``secret`` did not start it.
        """
        queue = self.queue
        state = queue.state(int(job_id))
        return queue.request_cancel(state.run_id, secret if secret is not None else state.follow)

    def running_count(self) -> int:
        """Runs training now, on the whole machine (every server on this data folder)."""
        return len(self.queue.active()["running"])

    def active_run_ids(self) -> set[int]:
        """Store ids of runs queued or running now."""
        active = self.queue.active()
        return set(active["queued"]) | set(active["running"])

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot:
        """Block until the job finishes (or ``timeout`` passes); return its snapshot. For tests and scripts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snap = self.snapshot(job_id, heartbeat=False)
            if not snap.running or (deadline is not None and time.monotonic() > deadline):
                return snap
            time.sleep(0.05)


_DEFAULT: ServerWide[JobManager] = ServerWide(JobManager)


def default_manager() -> JobManager:
    """The server-wide manager that pages share (created on first use)."""
    return _DEFAULT.get()


def set_default_manager(manager: JobManager | None) -> None:
    """Replace (or with None, reset) the server-wide manager; for tests. The old one's worker is stopped."""
    old = _DEFAULT.replace(manager)
    if old is not None and old is not manager:
        old.stop()
