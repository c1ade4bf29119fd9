"""Progress of a run: the steps done out of its total, and the time left measured from them.

Pure bookkeeping (a clock and counts), shared by every executor: the local loop counts each
step, a replicate trained elsewhere (another process, a Ray node) arrives as one chunk.
"""

from __future__ import annotations

import bisect
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def machine_load() -> float:
    """The 1-minute load average per CPU core (0 where the platform has none); above 1, other work shares the CPU."""
    try:
        return os.getloadavg()[0] / max(1, os.cpu_count() or 1)
    except (AttributeError, OSError):
        return 0.0


_MAX_MARKS = 4096  # pace marks kept per run; past it every other one is dropped (the recent half stays dense enough)


@dataclass
class StepCounter:
    """Training steps done out of the run's total, shared by its replicates: the progress fraction and the time left.

    The time left is measured, not extrapolated from the fraction. Time is split in two:

    - *Steps*: the time between one step and the next within a replicate (training, and the
      evaluation after each epoch). Each step leaves a mark (steps counted, step time so far); the
      pace is taken over the more recent half of the marks, so when other work slows the
      machine, the estimate follows.
    - *Set-ups*: the time from a replicate's start (:meth:`new_replicate`; for the first, from
      the counter's creation) to its first step, which also covers the previous replicate's final
      evaluation. Each replicate still to start is charged the latest measured set-up.

    So the set-up before the first step (data, models, caches) is never spread over the steps
    that follow, and a run of several seeds still counts the set-ups to come. A replicate
    trained elsewhere arrives as one chunk (:meth:`step` with its step count, no
    :meth:`new_replicate`); its set-up then falls inside the chunk's time.
    """

    total: int
    replicates: int = 1  # replicates the run trains (for the set-ups still to come)
    done: int = 0
    clock: Callable[[], float] = time.monotonic
    _marks: list[tuple[int, float]] = field(default_factory=list, repr=False)  # (steps counted, step seconds so far)
    _counted: int = field(default=0, repr=False)  # steps whose time is in _stepping
    _stepping: float = field(default=0.0, repr=False)  # seconds spent between steps, set-ups excluded
    _last: float | None = field(default=None, repr=False)  # clock at the last step (or at creation)
    _first_pending: bool = field(default=False, repr=False)  # the next step is a replicate's first
    _started: int = field(default=0, repr=False)  # replicates started (new_replicate calls)
    _setup: float | None = field(default=None, repr=False)  # the latest measured set-up, seconds
    _load_at: float = field(default=-1.0, repr=False)
    _busy: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self._last = self.clock()

    def new_replicate(self) -> None:
        """A replicate starts here: the time until its first step is its set-up, not step time."""
        self._started += 1
        self._first_pending = True

    def step(self, steps: int = 1) -> float:
        """Count ``steps`` finished steps (a replicate trained elsewhere arrives as one chunk); return the fraction done."""
        now = self.clock()
        self.done += steps
        if self._first_pending:
            self._setup, self._first_pending = now - self._last, False
        else:
            self._counted += steps
            self._stepping += now - self._last
            self._marks.append((self._counted, self._stepping))
            if len(self._marks) > _MAX_MARKS:
                self._marks = self._marks[:-1:2] + self._marks[-1:]
        self._last = now
        return min(1.0, self.done / max(1, self.total))

    def busy(self) -> bool:
        """True when other work shares the CPU (load per core above 1), sampled at most every 5 s of the clock."""
        now = self.clock()
        if now - self._load_at >= 5.0 or self._load_at < 0:
            self._load_at, self._busy = now, machine_load() > 1.0
        return self._busy

    def seconds_left(self) -> float | None:
        """Seconds the remaining steps and set-ups take at the measured pace; None until two marks exist."""
        if len(self._marks) < 2:
            return None
        counted, stepping = self._marks[-1]
        start = min(bisect.bisect_left(self._marks, (counted // 2, -math.inf)), len(self._marks) - 2)
        first_counted, first_stepping = self._marks[start]
        pace = (stepping - first_stepping) / max(1, counted - first_counted)
        left = (self.total - self.done) * pace
        if self._setup is not None:
            left += max(0, self.replicates - self._started) * self._setup
        return max(0.0, left)
