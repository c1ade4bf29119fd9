"""One worker: claim a queued run, train it, heartbeat beside it, honour cancel, stop politely.

Example:
    >>> worker = Worker()                 # the data folder's run database
    >>> worker.run_one()                  # trains the oldest queued run, if any; returns its id
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from augment_core.errors import AugLabError
from augment_core.experiment import BatchProgress, ExperimentResult, RunQueue, RunStore, run_queued
from augment_core.settings import get_setting

RunFunction = Callable[..., ExperimentResult]  # run_experiment's keyword signature
_CLEAN_EVERY_S = 600.0  # how often a worker deletes unreferenced saved uploads


def worker_name() -> str:
    """"host:pid:xxxx", written on the runs this worker claims (the suffix tells in-process workers apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Worker:
    """Takes queued runs from the run database, one at a time, until :meth:`stop`.

    Args:
        store_path: The run database (default: the data folder's).
        run: The engine's run function (run_experiment with the arms and data part a search or
            multi-arm run was queued with); tests pass quick fakes with the same keywords. With
            ``AUGLAB_RAY_ADDRESS`` set, the engine's replicates run as Ray tasks on that cluster.
        parent_pid: Stop when this process is no longer our parent (the app that started us died).
        poll_s: Seconds between looks at an empty queue.
        name: Name written on claimed runs (default :func:`worker_name`).
    """

    def __init__(self, store_path: Path | str | None = None, *, run: RunFunction = run_queued,
                 parent_pid: int | None = None, poll_s: float = 0.5, name: str | None = None) -> None:
        self.queue = RunQueue(RunStore(store_path))
        if run is run_queued and get_setting("AUGLAB_RAY_ADDRESS"):
            from augment_core.worker.ray_executor import RayExecutor  # Ray is optional: imported only when asked for

            run = partial(run_queued, executor=RayExecutor())
        self._run, self._parent_pid, self._poll_s = run, parent_pid, poll_s
        self.name = name or worker_name()
        self._stopping = threading.Event()
        self._cancel: threading.Event | None = None
        self._last_clean = 0.0

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop after the current training step; the current run goes back to the queue."""
        self._stopping.set()
        if self._cancel is not None:
            self._cancel.set()

    def _orphaned(self) -> bool:
        return self._parent_pid is not None and os.getppid() != self._parent_pid

    def serve(self, *, once: bool = False) -> None:
        """Claim and train runs until stopped (or after one run with ``once``)."""
        while not self._stopping.is_set():
            if self._orphaned():
                self.stop()
                break
            self._housekeeping()
            run_id = self.run_one()
            if once and run_id is not None:
                break
            if run_id is None:
                self._stopping.wait(self._poll_s)
        self.queue.store.close()

    def _housekeeping(self) -> None:
        self.queue.reap_stale()  # any worker can fail a dead worker's run; see RunQueue.reap_stale
        if time.monotonic() - self._last_clean > _CLEAN_EVERY_S:
            self._last_clean = time.monotonic()
            self.queue.clean_uploads()

    def run_one(self) -> int | None:
        """Claim the oldest queued run and train it to the end; its id, or None when nothing was queued."""
        claimed = self.queue.claim(self.name)
        if claimed is None:
            return None
        run_id, spec = claimed
        cancel = threading.Event()
        self._cancel = cancel
        if self._stopping.is_set():
            cancel.set()
        latest: list[BatchProgress | None] = [None]
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(run_id, cancel, latest, beating),
                                name=f"auglab-heartbeat-{run_id}", daemon=True)
        beat.start()

        def on_batch(progress: BatchProgress) -> None:
            latest[0] = progress  # the heartbeat thread writes it; a write per step would slow training

        try:
            result = self._run(spec, on_batch=on_batch, cancel=cancel, store=self.queue.store, run_id=run_id)
            status = result.status
        except AugLabError as exc:  # the spec's data are gone, a bad upload...
            self.queue.fail(run_id, str(exc))
            status = "failed"
        except Exception as exc:  # noqa: BLE001 - a run must end with a message, never stay "running"
            self.queue.fail(run_id, f"{type(exc).__name__}: {exc}")
            status = "failed"
        finally:
            beating.set()
            beat.join()
            self._cancel = None
        if self.queue.state(run_id).status == "running" and status != "cancelled":
            # The run function returned without recording its end: never leave the run "running".
            self.queue.fail(run_id, f"The run ended ({status}) without recording its result.")
        if self._stopping.is_set() and status == "cancelled":
            self.queue.requeue(run_id, self.name)  # unless the user also asked to cancel (see requeue)
        return run_id

    def _heartbeat(self, run_id: int, cancel: threading.Event, latest: list[BatchProgress | None],
                   done: threading.Event) -> None:
        """Side thread: heartbeat with the latest step; turn a cancel flag (or our own orphaning) into ``cancel``."""
        every = float(get_setting("AUGLAB_HEARTBEAT_SECONDS"))
        while True:
            finished = done.is_set()  # one last beat after the run ended: its final progress
            try:
                if self.queue.heartbeat(run_id, self.name, latest[0]):
                    cancel.set()
            except Exception:  # noqa: BLE001 - a locked or full disk must not kill the beat; the next one retries
                pass
            if finished:
                break
            if self._orphaned():
                self.stop()
            done.wait(every)
        self.queue.store.close()

    def start_thread(self) -> threading.Thread:
        """Serve from a daemon thread of this process (AppTests and scripts); :meth:`stop` ends it."""
        thread = threading.Thread(target=self.serve, name=f"auglab-worker-{self.name}", daemon=True)
        thread.start()
        return thread
