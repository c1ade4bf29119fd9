"""One instance per server process, made on first use: what the pages of every session share.

Example:
    >>> _JOBS = ServerWide(JobManager)
    >>> _JOBS.get() is _JOBS.get()
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ServerWide(Generic[T]):
    """A lazily made, lock-guarded instance of ``make()``; tests may swap it with :meth:`replace`."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The instance, made now if there is none yet (at most once, however many sessions ask)."""
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

    def replace(self, value: T | None) -> T | None:
        """Put ``value`` in place (``None``: make a new one on the next :meth:`get`); return the old one."""
        with self._lock:
            old, self._value = self._value, value
            return old
