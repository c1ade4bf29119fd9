"""Background tasks for the Search page and the Pipeline page's ablation: a thread per task, polled by pages.

A task is any function ``(emit, cancel) -> result`` (a search, an ablation, a confirmation).
It runs in a daemon thread; what it ``emit``\\ s (finished trials, finished epochs) is kept in a
thread-safe list, and pages draw a frozen :class:`TaskSnapshot`. One task of each kind per owner
(the page's URL token, as for training jobs), so a reloaded page finds its task again.

This is deliberately small: the run queue (issue 11) will execute the *runs* inside these tasks
through :class:`~augment_core.experiment.executor.Executor`; only the orchestration (asking
Optuna for trials, combining arms) stays in this thread.

Example:
    >>> tasks = default_tasks()
    >>> task_id = tasks.start("owner", "search", lambda emit, cancel: run_search(spec, on_trial=emit, cancel=cancel))
    >>> tasks.snapshot(task_id).events
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from augment_core.errors import AugLabError
from augment_core.prove.server_wide import ServerWide

TaskFunction = Callable[[Callable[[Any], None], threading.Event], Any]


@dataclass(frozen=True)
class TaskSnapshot:
    """A consistent copy of one task's state."""

    task_id: str  # the manager's id
    kind: str  # "search", "ablation", "confirm"...
    status: str  # running, completed or failed (a cancelled search completes with its own status)
    message: str  # why it failed
    events: tuple[Any, ...]  # everything emitted so far, in order
    result: Any  # the function's return value once finished
    elapsed_s: float  # seconds since start (until end)

    @property
    def running(self) -> bool:
        """True until the function has returned or raised."""
        return self.status == "running"


@dataclass
class _Task:
    task_id: str
    owner: str
    kind: str
    cancel: threading.Event
    started: float
    status: str = "running"
    message: str = ""
    events: list[Any] = field(default_factory=list)
    result: Any = None
    ended: float | None = None


class TaskManager:
    """Starts, tracks and cancels background tasks. Thread-safe; one per server."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tasks: dict[str, _Task] = {}

    def start(self, owner: str, kind: str, function: TaskFunction) -> str:
        """Run ``function(emit, cancel)`` in a thread; refuse a second running task of ``kind`` for ``owner``."""
        with self._lock:
            if any(t.owner == owner and t.kind == kind and t.status == "running" for t in self._tasks.values()):
                raise AugLabError(f"This page is already running a {kind}; one at a time.",
                                  hint="Wait for it to finish, or stop it, then start again.", field="task")
            task = _Task(secrets.token_hex(6), owner, kind, threading.Event(), self._clock())
            self._tasks[task.task_id] = task

        def emit(event: Any) -> None:
            with self._lock:
                task.events.append(event)

        def work() -> None:
            status, message, result = "failed", "", None
            try:
                result = function(emit, task.cancel)
                status = "completed"
            except AugLabError as exc:
                message = str(exc)
            except Exception as exc:  # noqa: BLE001 - a task must end with a message, never vanish
                message = f"{type(exc).__name__}: {exc}"
            with self._lock:
                task.status, task.message, task.result, task.ended = status, message, result, self._clock()

        threading.Thread(target=work, name=f"auglab-{kind}-{task.task_id}", daemon=True).start()
        return task.task_id

    def snapshot(self, task_id: str) -> TaskSnapshot:
        """A frozen copy of task ``task_id``; :class:`AugLabError` if the server no longer knows it."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise AugLabError("That task is no longer known to the server (was the app restarted?).",
                                  hint="A search's trials are kept in its database; confirm it by name.", field="task")
            end = task.ended if task.ended is not None else self._clock()
            return TaskSnapshot(task.task_id, task.kind, task.status, task.message, tuple(task.events), task.result,
                                end - task.started)

    def task_for(self, owner: str, kind: str) -> str | None:
        """The owner's running task of ``kind``, else its latest one, else None."""
        with self._lock:
            mine = sorted((t for t in self._tasks.values() if t.owner == owner and t.kind == kind), key=lambda t: t.started)
            running = [t for t in mine if t.status == "running"]
            chosen = running[-1] if running else (mine[-1] if mine else None)
            return chosen.task_id if chosen else None

    def cancel(self, task_id: str) -> None:
        """Ask the task to stop after the current training step."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None:
                task.cancel.set()

    def wait(self, task_id: str, timeout: float | None = None) -> TaskSnapshot:
        """Poll until the task finishes or ``timeout`` passes (tests and scripts)."""
        deadline = None if timeout is None else self._clock() + timeout
        while self.snapshot(task_id).running and (deadline is None or self._clock() < deadline):
            time.sleep(0.05)
        return self.snapshot(task_id)


_DEFAULT: ServerWide[TaskManager] = ServerWide(TaskManager)


def default_tasks() -> TaskManager:
    """The server-wide task manager (created on first use)."""
    return _DEFAULT.get()


def set_default_tasks(manager: TaskManager | None) -> None:
    """Replace (or with None, reset) the server-wide task manager; for tests."""
    _DEFAULT.replace(manager)
