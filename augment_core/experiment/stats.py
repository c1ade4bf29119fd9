"""Statistics over replicates: curves with spread, and the paired augmented-minus-plain test.

Pure functions on plain data (lists of :class:`EpochRecord`-like dicts), so pages can plot the
output directly and tests can check them against hand-computed numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

ARMS: tuple[str, str] = ("plain", "augmented")
METRICS: tuple[str, ...] = ("train_loss", "train_acc", "val_loss", "val_acc")


@dataclass(frozen=True)
class Comparison:
    """Paired difference of final validation accuracy (augmented minus plain), in points (0-100)."""

    differences: list[float]  # per replicate, percentage points
    mean: float  # mean difference
    std: float  # sample standard deviation of the differences (ddof=1; 0 for one replicate)
    ci_low: float  # lower end of the confidence interval (nan with one replicate)
    ci_high: float  # upper end
    confidence: float  # e.g. 0.95
    n: int  # replicates compared
    verdict: str  # "helped", "hurt", "no clear difference" or "not enough runs"
    sentence: str  # the verdict in plain words, with the numbers

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def t_interval(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, sample std and Student-t confidence interval of the mean of ``values``."""
    x = np.asarray(list(values), dtype=np.float64)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return mean, 0.0 if n else math.nan, math.nan, math.nan
    std = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + confidence / 2, df=n - 1)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def paired_comparison(plain: list[float], augmented: list[float], *, confidence: float = 0.95) -> Comparison:
    """Compare final validation accuracies (fractions 0-1) replicate by replicate.

    The verdict is "helped" when the whole interval is above zero, "hurt" when it is below, and
    "no clear difference" otherwise. A t-interval over few seeds is wide: that is the honest
    answer, not a defect.
    """
    if len(plain) != len(augmented):
        raise ValueError("paired comparison needs the same replicates in both arms")
    diffs = [100.0 * (a - p) for p, a in zip(plain, augmented)]
    mean, std, low, high = t_interval(diffs, confidence)
    n = len(diffs)
    pct = f"{confidence:.0%}"
    if n < 2:
        verdict = "not enough runs"
        sentence = (f"Augmentation changed final validation accuracy by {mean:+.1f} points in a single run; "
                    "repeat over at least two seeds to get a confidence interval." if n else "No run finished both arms.")
    else:
        if low > 0:
            verdict = "helped"
        elif high < 0:
            verdict = "hurt"
        else:
            verdict = "no clear difference"
        what = {"helped": "Augmentation helped", "hurt": "Augmentation hurt",
                "no clear difference": "No clear difference"}[verdict]
        sentence = (f"{what}: final validation accuracy changed by {mean:+.1f} points on average over {n} runs "
                    f"({pct} confidence interval {low:+.1f} to {high:+.1f}).")
    return Comparison(diffs, mean, std, low, high, confidence, n, verdict, sentence)


def curves(records: Iterable[Mapping[str, Any]], metric: str = "val_acc") -> dict[str, list[dict[str, float]]]:
    """Mean and std over replicates of ``metric`` per epoch, for each arm.

    Returns:
        ``{"plain": [{"epoch": 1, "mean": .., "std": .., "n": ..}, ...], "augmented": [...]}``;
        std is the sample std (0 with one replicate).
    """
    by_arm: dict[str, dict[int, list[float]]] = {arm: {} for arm in ARMS}
    for r in records:
        by_arm.setdefault(str(r["arm"]), {}).setdefault(int(r["epoch"]), []).append(float(r[metric]))
    out: dict[str, list[dict[str, float]]] = {}
    for arm, epochs in by_arm.items():
        rows = []
        for epoch in sorted(epochs):
            values = np.asarray(epochs[epoch])
            rows.append({"epoch": epoch, "mean": float(values.mean()),
                         "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "n": len(values)})
        out[arm] = rows
    return out


def analyse(records: list[Mapping[str, Any]], finals: list[Mapping[str, Any]], *, confidence: float = 0.95) -> dict[str, Any]:
    """Curves of every metric plus the paired comparison over replicates where both arms finished.

    ``finals`` items need ``arm``, ``replicate`` and ``val_acc``.
    """
    final = {(str(f["arm"]), int(f["replicate"])): float(f["val_acc"]) for f in finals}
    paired = sorted({rep for arm, rep in final if ("plain", rep) in final and ("augmented", rep) in final})
    comparison = paired_comparison([final[("plain", r)] for r in paired], [final[("augmented", r)] for r in paired],
                                   confidence=confidence)
    return {"curves": {m: curves(records, m) for m in METRICS}, "comparison": comparison.to_dict(),
            "replicates_compared": paired}
