"""Worker processes started and stopped with the app.

Example:
    >>> pool = start_workers()            # AUGLAB_WORKERS processes, each `python -m augment_core.worker`
    >>> pool.alive()
    1
    >>> pool.stop()                       # SIGTERM: each puts its current run back in the queue
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from augment_core.errors import AugLabError
from augment_core.settings import get_int


class WorkerPool:
    """``count`` worker processes, children of this one, sharing its environment (and so its data folder).

    Each is started with ``--parent-pid`` so it stops by itself if this process dies without
    stopping it (killed with SIGKILL, say).
    """

    def __init__(self, count: int) -> None:
        if count < 0:
            raise AugLabError(f"AUGLAB_WORKERS is {count}; it must be 0 or more.", field="AUGLAB_WORKERS")
        self.count = count
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def start(self) -> WorkerPool:
        """Start the processes (once); return self."""
        with self._lock:
            if not self._procs:
                command = [sys.executable, "-m", "augment_core.worker", "--parent-pid", str(os.getpid())]
                self._procs = [subprocess.Popen(command, env=dict(os.environ)) for _ in range(self.count)]
        return self

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return [p.pid for p in self._procs]

    def alive(self) -> int:
        """How many workers are still running."""
        return sum(p.poll() is None for p in self._procs)

    def stop(self, timeout: float = 20.0) -> None:
        """Ask every worker to stop (its run goes back to the queue), then kill any that did not within ``timeout``."""
        with self._lock:
            for proc in self._procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in self._procs:
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()  # its heartbeat goes stale, and its run is marked failed
                    proc.wait()
            self._procs = []


def start_workers(count: int | None = None) -> WorkerPool:
    """Start ``count`` workers (default: the ``AUGLAB_WORKERS`` setting)."""
    return WorkerPool(get_int("AUGLAB_WORKERS") if count is None else count).start()
