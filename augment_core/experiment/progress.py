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

    The time left is measured, not extrapolated from the fraction: every step leaves a mark
    (steps done, clock), and the pace is taken over the more recent half of the steps so far,
    starting no earlier than the first step. So the set-up before the first step (data, models,
    caches) is never charged to the rest of the run; evaluations and later replicates' set-up,
    which fall between steps, are; and when other work slows the machine, the estimate follows.
    """

    total: int
    done: int = 0
    clock: Callable[[], float] = time.monotonic
    _marks: list[tuple[int, float]] = field(default_factory=list, repr=False)
    _load_at: float = field(default=-1.0, repr=False)
    _busy: bool = field(default=False, repr=False)

    def step(self, steps: int = 1) -> float:
        """Count ``steps`` finished steps (a replicate trained elsewhere arrives as one chunk); return the fraction done."""
        self.done += steps
        self._marks.append((self.done, self.clock()))
        if len(self._marks) > _MAX_MARKS:
            self._marks = self._marks[:-1:2] + self._marks[-1:]
        return min(1.0, self.done / max(1, self.total))

    def busy(self) -> bool:
        """True when other work shares the CPU (load per core above 1), sampled at most every 5 s of the clock."""
        now = self.clock()
        if now - self._load_at >= 5.0 or self._load_at < 0:
            self._load_at, self._busy = now, machine_load() > 1.0
        return self._busy

    def seconds_left(self) -> float | None:
        """Seconds the remaining steps take at the recent pace; None until two marks exist."""
        if len(self._marks) < 2:
            return None
        done, now = self._marks[-1]
        start = min(bisect.bisect_left(self._marks, (done // 2, -math.inf)), len(self._marks) - 2)
        first_done, first_time = self._marks[start]
        pace = (now - first_time) / max(1, done - first_done)
        return max(0.0, (self.total - done) * pace)
