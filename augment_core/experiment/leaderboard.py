"""The leaderboard of a multi-arm experiment: paired differences with Holm-corrected intervals.

Each arm is compared replicate by replicate (same seeds, same splits, same initial weights)
with :func:`~augment_core.experiment.stats.paired_comparison`, in two families:

* every augmented arm against **no augmentation** (m = number of augmented arms), and
* every other arm against **the best arm** (m = arms - 1; "best" is the highest mean final
  validation accuracy, chosen on the same data, so these differences are slightly optimistic
  for the best arm).

**Correction: Holm's step-down method, per family**, at family-wise level α = 1 - confidence.
The comparisons are ranked by their paired t-test p-value; the i-th (from 1) gets a
``1 - α / (m - i + 1)`` interval, and once one comparison is not significant every later one
uses that same level. So an interval excludes zero exactly when Holm rejects "no difference",
and the word in the summary ("helps", "hurts", "not distinguishable") always agrees with the
interval printed beside it. The multiple-comparison step lives here, apart from ``stats``, so
a change to how one paired interval is computed composes with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from augment_core.experiment.stats import paired_comparison

NONE_ARM = "No augmentation"


def paired_p_value(differences: list[float]) -> float:
    """Two-sided paired t-test p-value of "mean difference is 0" (1.0 when it cannot be computed)."""
    x = np.asarray(differences, dtype=np.float64)
    if len(x) < 2:
        return 1.0
    if float(x.std(ddof=1)) < 1e-9:  # every replicate moved by the same amount (up to float rounding)
        return 1.0 if abs(float(x.mean())) < 1e-9 else 0.0
    return float(sps.ttest_1samp(x, 0.0).pvalue)


def holm_levels(p_values: list[float], alpha: float = 0.05) -> list[tuple[float, bool]]:
    """Holm's step-down test: (confidence level of each comparison's interval, rejected?).

    Example:
        >>> holm_levels([0.01, 0.04, 0.03], alpha=0.05)  # thresholds 0.05/3, 0.05/2, 0.05/1
        [(0.9833..., True), (0.975, False), (0.975, False)]
    """
    m = len(p_values)
    out: list[tuple[float, bool]] = [(1 - alpha, False)] * m
    stopped_at: float | None = None
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        level = alpha / (m - rank)
        if stopped_at is None and p_values[index] <= level:
            out[index] = (1 - level, True)
        else:
            stopped_at = level if stopped_at is None else stopped_at
            out[index] = (1 - stopped_at, False)
    return out


@dataclass(frozen=True)
class Difference:
    """One arm minus another, in points, with its Holm-corrected interval."""

    mean: float  # mean paired difference, percentage points
    ci_low: float  # corrected interval (nan with fewer than two replicates)
    ci_high: float
    confidence: float  # the interval's own level after correction (e.g. 0.9833 for the first of 3)
    p_value: float  # uncorrected paired t-test
    significant: bool  # Holm rejects "no difference" (the interval excludes 0)
    n: int  # replicates paired


@dataclass(frozen=True)
class Row:
    """One arm of the leaderboard."""

    arm: str  # arm name
    mean_acc: float  # mean final validation accuracy over replicates, 0-1
    std_acc: float  # its sample std (0 with one replicate)
    n: int  # replicates that finished
    vs_none: Difference | None  # this arm minus no augmentation (None for that arm itself)
    vs_best: Difference | None  # this arm minus the best arm (None for the best arm)


@dataclass(frozen=True)
class Leaderboard:
    """Arms ranked by mean final validation accuracy, with corrected comparisons and plain words."""

    rows: list[Row]  # best first
    best: str  # the arm with the highest mean
    confidence: float  # family-wise level, e.g. 0.95
    correction: str  # which correction, in words
    summary: str  # plain words

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)

    def row(self, arm: str) -> Row:
        """The row of ``arm``."""
        return next(r for r in self.rows if r.arm == arm)


def holm_differences(pairs: list[tuple[list[float], list[float]]], confidence: float) -> list[Difference]:
    """Holm-corrected differences (second minus first, in points) for one family of paired comparisons (fractions 0-1)."""
    diffs = [[100.0 * (b - a) for a, b in zip(first, second)] for first, second in pairs]
    levels = holm_levels([paired_p_value(d) for d in diffs], 1 - confidence)
    out = []
    for (first, second), d, (level, rejected) in zip(pairs, diffs, levels):
        c = paired_comparison(first, second, confidence=level)
        out.append(Difference(c.mean, c.ci_low, c.ci_high, level, paired_p_value(d), rejected, c.n))
    return out


def build_leaderboard(finals: dict[str, list[float]], *, confidence: float = 0.95) -> Leaderboard:
    """Rank arms and compare them.

    Args:
        finals: arm name -> final validation accuracy (0-1) per replicate, in the same replicate
            order for every arm; must contain :data:`NONE_ARM`. Arms with fewer replicates are
            paired on the replicates they share (the first ones).
        confidence: family-wise confidence of each family of intervals.
    """
    if NONE_ARM not in finals:
        raise ValueError(f"the leaderboard needs the {NONE_ARM!r} arm")
    means = {arm: float(np.mean(v)) if v else math.nan for arm, v in finals.items()}
    ranked = sorted(finals, key=lambda a: (-means[a] if not math.isnan(means[a]) else math.inf, a))
    best = ranked[0]

    def pair(a: str, b: str) -> tuple[list[float], list[float]]:
        n = min(len(finals[a]), len(finals[b]))
        return finals[a][:n], finals[b][:n]

    others = [a for a in ranked if a != NONE_ARM]
    vs_none = dict(zip(others, holm_differences([pair(NONE_ARM, a) for a in others], confidence)))
    rest = [a for a in ranked if a != best]
    vs_best = dict(zip(rest, holm_differences([pair(best, a) for a in rest], confidence)))
    rows = [Row(a, means[a], float(np.std(finals[a], ddof=1)) if len(finals[a]) > 1 else 0.0, len(finals[a]),
                vs_none.get(a), vs_best.get(a)) for a in ranked]
    def count(n: int) -> str:
        return f"{n} comparison" + ("" if n == 1 else "s")

    correction = (f"Holm step-down within each family (vs no augmentation: {count(len(others))}; vs the best arm: "
                  f"{count(len(rest))}), family-wise {confidence:.0%}")
    return Leaderboard(rows, best, confidence, correction, _summary(rows, best, confidence))


def _interval(d: Difference) -> str:
    if math.isnan(d.ci_low):
        return f"{d.mean:+.1f} points, one run: no interval"
    return f"{d.mean:+.1f} points, {d.ci_low:+.1f} to {d.ci_high:+.1f}"


def _summary(rows: list[Row], best: str, confidence: float) -> str:
    """"Medium is best (92.0%). Against no augmentation: …. Light is not distinguishable from Medium; …"."""
    if not rows or math.isnan(rows[0].mean_acc):
        return "No arm finished a run yet."
    parts = [f"{best} is best ({100 * rows[0].mean_acc:.1f}% final validation accuracy on average over {rows[0].n} runs)."]
    against = []
    for r in rows:
        if r.vs_none is None:
            continue
        d = r.vs_none
        word = ("helps" if d.mean > 0 else "hurts") if d.significant else "makes no clear difference"
        against.append(f"{r.arm} {word} ({_interval(d)})")
    if against:
        parts.append(f"Against no augmentation (Holm-corrected {confidence:.0%} intervals): " + "; ".join(against) + ".")
    behind = []
    for r in rows:
        if r.vs_best is None:
            continue
        d = r.vs_best
        behind.append(f"{r.arm} is worse than {best} ({_interval(d)})" if d.significant
                      else f"{r.arm} is not distinguishable from {best} ({_interval(d)})")
    if behind:
        parts.append("; ".join(behind) + ".")
    return " ".join(parts)
