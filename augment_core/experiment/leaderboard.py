"""The leaderboard of a multi-arm experiment: paired differences with Holm-corrected intervals.

Each arm is compared replicate by replicate (same seeds, same splits, same initial weights)
with :func:`~augment_core.experiment.stats.compare_arms` when the arms' final evaluations say
which validation image each got right (every run of this version): its interval is a bootstrap
over seeds *and* validation images, so a small validation set gives a wide interval even when the
seeds agree, and its "cannot tell" (both arms at chance) is kept. Without per-image data (old
leaderboards, plain accuracies) it falls back to the t-interval of
:func:`~augment_core.experiment.stats.paired_comparison`. Two families:

* every augmented arm against **no augmentation** (m = number of augmented arms), and
* every other arm against **the best arm** (m = arms - 1; "best" is the highest mean final
  validation accuracy, chosen on the same data, so these differences are slightly optimistic
  for the best arm).

**Correction: Holm's step-down method, per family**, at family-wise level α = 1 - confidence.
The comparisons are ranked by their p-value (sign-flip test; paired t-test in the fallback); the
i-th (from 1) gets a ``1 - α / (m - i + 1)`` interval, and once one comparison is not significant
every later one uses that same level. A difference counts as significant only when Holm rejects
"no difference" *and* its corrected interval excludes zero (in the fallback the two always
agree), so the word in the summary ("helps", "hurts", "not distinguishable") always agrees with
the interval printed beside it. The multiple-comparison step lives here, apart from ``stats``, so
a change to how one paired interval is computed composes with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from augment_core.experiment.stats import Comparison, chance_level, compare_arms, correctness, paired_comparison

Evaluations = Sequence[Mapping[str, Any]]  # one arm's final evaluations (FinalEvaluation.to_dict()), in replicate order

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
    significant: bool  # Holm rejects "no difference" and the interval excludes 0
    n: int  # replicates paired
    cannot_tell: bool = False  # both arms at chance: the comparison cannot answer (per-image comparisons only)


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


def _per_image(first: Evaluations, second: Evaluations) -> bool:
    """True when both arms say, per replicate, which of the same validation images they got right."""
    return bool(first) and len(first) == len(second) and all(
        a.get("val_indices") and list(a["val_indices"]) == list(b.get("val_indices", [])) for a, b in zip(first, second))


def _compare(first: list[float], second: list[float], images: tuple[Evaluations, Evaluations] | None,
             confidence: float) -> Comparison:
    if images is not None and _per_image(*images):
        a, b = [correctness(f) for f in images[0]], [correctness(f) for f in images[1]]
        return compare_arms([c for _, c in a], [c for _, c in b], image_ids=[ids for ids, _ in a],
                            chance=chance_level(images[0]), confidence=confidence)
    return paired_comparison(first, second, confidence=confidence)


def holm_differences(pairs: list[tuple[list[float], list[float]]], confidence: float, *,
                     images: Sequence[tuple[Evaluations, Evaluations] | None] | None = None) -> list[Difference]:
    """Holm-corrected differences (second minus first, in points) for one family of paired comparisons.

    Args:
        pairs: Per comparison, (first arm, second arm) final validation accuracies (0-1) by replicate.
        confidence: Family-wise confidence.
        images: Per comparison, the two arms' final evaluations (same replicates): then
            :func:`compare_arms` (validation-set noise, "cannot tell"); None: the t-interval fallback.
    """
    images = list(images) if images is not None else [None] * len(pairs)
    first_pass = [_compare(a, b, im, confidence) for (a, b), im in zip(pairs, images)]
    p_values = [c.p_value if c.method.startswith("bootstrap") and not math.isnan(c.p_value)
                else paired_p_value([100.0 * (y - x) for x, y in zip(a, b)]) for c, (a, b) in zip(first_pass, pairs)]
    out = []
    for (a, b), im, c, p, (level, rejected) in zip(pairs, images, first_pass, p_values, holm_levels(p_values, 1 - confidence)):
        if level != confidence:
            c = _compare(a, b, im, level)
        excludes = c.ci_low > 0 or c.ci_high < 0
        out.append(Difference(c.mean, c.ci_low, c.ci_high, level, p, rejected and excludes and not c.at_chance, c.n,
                              c.at_chance))
    return out


def build_leaderboard(finals: dict[str, list[float]], *, confidence: float = 0.95,
                      evaluations: Mapping[str, Evaluations] | None = None) -> Leaderboard:
    """Rank arms and compare them.

    Args:
        finals: arm name -> final validation accuracy (0-1) per replicate, in the same replicate
            order for every arm; must contain :data:`NONE_ARM`. Arms with fewer replicates are
            paired on the replicates they share (the first ones).
        confidence: family-wise confidence of each family of intervals.
        evaluations: arm name -> its final evaluations in the same replicate order (with
            ``val_indices`` and ``misclassified``): comparisons then use :func:`compare_arms`.
    """
    if NONE_ARM not in finals:
        raise ValueError(f"the leaderboard needs the {NONE_ARM!r} arm")
    means = {arm: float(np.mean(v)) if v else math.nan for arm, v in finals.items()}
    ranked = sorted(finals, key=lambda a: (-means[a] if not math.isnan(means[a]) else math.inf, a))
    best = ranked[0]

    def pair(a: str, b: str) -> tuple[list[float], list[float]]:
        n = min(len(finals[a]), len(finals[b]))
        return finals[a][:n], finals[b][:n]

    def images(a: str, b: str) -> tuple[Evaluations, Evaluations] | None:
        if evaluations is None or a not in evaluations or b not in evaluations:
            return None
        n = min(len(finals[a]), len(finals[b]))
        return list(evaluations[a])[:n], list(evaluations[b])[:n]

    others = [a for a in ranked if a != NONE_ARM]
    vs_none = dict(zip(others, holm_differences([pair(NONE_ARM, a) for a in others], confidence,
                                                images=[images(NONE_ARM, a) for a in others])))
    rest = [a for a in ranked if a != best]
    vs_best = dict(zip(rest, holm_differences([pair(best, a) for a in rest], confidence,
                                              images=[images(best, a) for a in rest])))
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
        if d.cannot_tell:
            against.append(f"for {r.arm} we cannot tell: it and no augmentation are both at chance")
            continue
        against.append(f"{r.arm} {word} ({_interval(d)})")
    if against:
        parts.append(f"Against no augmentation (Holm-corrected {confidence:.0%} intervals): " + "; ".join(against) + ".")
    behind = []
    for r in rows:
        if r.vs_best is None:
            continue
        d = r.vs_best
        if d.cannot_tell:
            behind.append(f"{r.arm} and {best} cannot be told apart: both are at chance")
            continue
        behind.append(f"{r.arm} is worse than {best} ({_interval(d)})" if d.significant
                      else f"{r.arm} is not distinguishable from {best} ({_interval(d)})")
    if behind:
        parts.append("; ".join(behind) + ".")
    return " ".join(parts)
