"""Statistics over replicates: curves with spread, and the paired augmented-minus-plain comparison.

Pure functions on plain data (lists of :class:`EpochRecord`-like dicts), so pages can plot the
output directly and tests can check them against hand-computed numbers.

Two comparisons, one result type (:class:`Comparison`):

* :func:`compare_arms` (what the engine uses) takes every seed's per-validation-image
  correctness. Its interval includes the noise of a *finite validation set*, not only the
  spread between seeds: a two-level bootstrap resamples seeds and, within them, validation
  images (an image validated under several seeds is one cluster, so three seeds that disagree
  on the same 3 of 74 images count as 3 images of evidence, not 9). Its p-value is a sign-flip
  randomisation test over those image clusters (McNemar's exact test for one seed). It is never
  zero-width: one imaginary image that each arm gets right and the other wrong is added to the
  bootstrap (as Agresti-Caffo add pseudo-counts), so "every seed agreed exactly" is not
  certainty. Before any of that, a chance check: when both arms are within a few points of the
  better of guessing and always predicting the largest class, the verdict is "cannot tell".
* :func:`paired_comparison` is the fallback when only per-seed accuracies exist (old runs,
  lessons): a t-interval over seeds, widened by binomial validation noise when ``n_val`` is
  known.

Verdicts: "cannot tell" (both at chance), "helped", "hurt", "no clear difference" and
"not enough runs" (one replicate).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

ARMS: tuple[str, str] = ("plain", "augmented")
METRICS: tuple[str, ...] = ("train_loss", "train_acc", "val_loss", "val_acc")
CHANCE_MIN_MARGIN = 5.0  # points: an arm this close to chance has not learned (the binomial margin may be wider)
_EXACT_FLIPS = 16  # enumerate all 2**k sign flips up to this many disagreeing images, else sample


@dataclass(frozen=True)
class Comparison:
    """Paired difference of final validation accuracy (augmented minus plain), in points (0-100)."""

    differences: list[float]  # per replicate, percentage points
    mean: float  # mean difference (the estimate)
    std: float  # sample standard deviation of the differences (ddof=1; 0 for one replicate)
    ci_low: float  # lower end of the confidence interval (nan when it cannot be computed)
    ci_high: float  # upper end
    confidence: float  # e.g. 0.95
    n: int  # replicates compared
    verdict: str  # "cannot tell", "helped", "hurt", "no clear difference" or "not enough runs"
    sentence: str  # the verdict in plain words, with the numbers
    p_value: float = math.nan  # two-sided p-value of "no difference" (nan when unknown)
    method: str = "t over seeds"  # how the interval was computed
    validation_images: int = 0  # distinct validation images behind the comparison (0 = unknown)
    plain_acc: float = math.nan  # mean final validation accuracy of the plain arm, points
    augmented_acc: float = math.nan  # same for the augmented arm
    chance_acc: float = math.nan  # best of uniform guessing and always predicting the largest class, points
    chance_margin: float = math.nan  # an arm below chance_acc + this has not learned, points
    at_chance: bool = False  # both arms are at chance: the comparison cannot answer

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


def chance_margin(chance: float, n_val: float) -> float:
    """Points above ``chance`` (0-1) an accuracy on ``n_val`` images must clear to show learning.

    The larger of :data:`CHANCE_MIN_MARGIN` and the 95% binomial half-width at chance, so a
    74-image validation set needs about 11 points above 50%.
    """
    if n_val <= 0:
        return CHANCE_MIN_MARGIN
    return max(CHANCE_MIN_MARGIN, 100.0 * 1.96 * math.sqrt(chance * (1 - chance) / n_val))


def _verdict(low: float, high: float, p: float, confidence: float) -> str:
    if low > 0 and p < 1 - confidence:
        return "helped"
    if high < 0 and p < 1 - confidence:
        return "hurt"
    return "no clear difference"


def _sentence(verdict: str, mean: float, low: float, high: float, n: int, confidence: float, *,
              p: float = math.nan, images: int = 0, plain: float = math.nan, augmented: float = math.nan,
              chance: float = math.nan) -> str:
    if verdict == "cannot tell":
        return (f"Neither model learned to tell these classes apart: both are at chance (without augmentation "
                f"{plain:.1f}%, with {augmented:.1f}%; guessing or always answering the largest class scores "
                f"{chance:.1f}%). The comparison cannot tell whether augmentation helps.")
    if verdict == "not enough runs":
        return (f"Augmentation changed final validation accuracy by {mean:+.1f} points in a single run; "
                "repeat over at least two seeds to get a confidence interval." if n else "No run finished both arms.")
    what = {"helped": "Augmentation helped", "hurt": "Augmentation hurt", "no clear difference": "No clear difference"}[verdict]
    over = f"over {n} runs" + (f" and {images} validation images" if images else "")
    alpha = 1 - confidence
    if verdict == "no clear difference" and p < alpha and low <= 0 <= high:
        # The two answer different questions; say which, rather than print a small p beside "no clear difference".
        return (f"{what}: final validation accuracy changed by {mean:+.1f} points on average {over} "
                f"({confidence:.0%} confidence interval {low:+.1f} to {high:+.1f}). The models trained here do differ "
                f"on these images (p = {p:.2g}), but the interval, which also covers how much the result moves from "
                "one seed to the next, includes no change: more seeds would tell.")
    pval = "" if math.isnan(p) else f", p = {p:.2g}"
    return (f"{what}: final validation accuracy changed by {mean:+.1f} points on average {over} "
            f"({confidence:.0%} confidence interval {low:+.1f} to {high:+.1f}{pval}).")


def paired_comparison(plain: list[float], augmented: list[float], *, confidence: float = 0.95,
                      n_val: int | None = None) -> Comparison:
    """Compare final validation accuracies (fractions 0-1) replicate by replicate (the fallback).

    Without ``n_val`` this is a t-interval over seeds, which sees only the spread between seeds;
    if the seeds agree exactly it is not shown as certainty (the verdict is "no clear
    difference"). With ``n_val`` (validation images per seed, assumed different per seed) each
    seed's difference also carries binomial validation noise, ``|d| / n_val`` at least
    (discordant pairs are at least the net difference). Prefer :func:`compare_arms`.
    """
    if len(plain) != len(augmented):
        raise ValueError("paired comparison needs the same replicates in both arms")
    diffs = [100.0 * (a - p) for p, a in zip(plain, augmented)]
    mean, std, low, high = t_interval(diffs, confidence)
    n = len(diffs)
    p = math.nan
    if n >= 2:
        var = std**2 / n
        if n_val:
            var += sum(max(abs(d) / 100, 1 / n_val) / n_val for d in diffs) * 100**2 / n**2
        half = float(sps.t.ppf(0.5 + confidence / 2, df=n - 1)) * math.sqrt(var)
        low, high = mean - half, mean + half
        p = float(2 * sps.t.sf(abs(mean) / math.sqrt(var), df=n - 1)) if var > 0 else math.nan
    if n < 2:
        verdict = "not enough runs"
    elif not (high > low):  # zero width: the seeds agreed exactly, which is not certainty
        verdict = "no clear difference"
    else:
        verdict = _verdict(low, high, 0.0 if math.isnan(p) else p, confidence)
    sentence = _sentence(verdict, mean, low, high, n, confidence, p=p)
    if n >= 2 and not (high > low):
        sentence += " Every seed gave the same change, so this interval shows no validation noise; it is not certainty."
    return Comparison(diffs, mean, std, low, high, confidence, n, verdict, sentence, p,
                      "t over seeds" + (" + binomial validation noise" if n_val else ""), int(n_val or 0))


def _clusters(plain: Sequence[Sequence[bool]], augmented: Sequence[Sequence[bool]],
              image_ids: Sequence[Sequence[int]] | None) -> tuple[np.ndarray, np.ndarray]:
    """(C, S) matrices: net per-image difference (-1, 0, +1) and presence, one row per distinct image."""
    seeds = len(plain)
    if image_ids is None:  # every seed validated on its own images
        image_ids = []
        offset = 0
        for p in plain:
            image_ids.append(range(offset, offset + len(p)))
            offset += len(p)
    keys = sorted({int(i) for ids in image_ids for i in ids})
    row = {k: r for r, k in enumerate(keys)}
    diff = np.zeros((len(keys), seeds))
    present = np.zeros((len(keys), seeds))
    for s, (p, a, ids) in enumerate(zip(plain, augmented, image_ids)):
        p_arr, a_arr = np.asarray(p, dtype=bool), np.asarray(a, dtype=bool)
        if not (len(p_arr) == len(a_arr) == len(ids)):
            raise ValueError(f"seed {s}: both arms need the correctness of the same validation images")
        rows = np.asarray([row[int(i)] for i in ids], dtype=np.int64)
        diff[rows, s] = a_arr.astype(np.float64) - p_arr.astype(np.float64)
        present[rows, s] = 1.0
    return diff, present


def _sign_flip_p(units: np.ndarray, rng: np.random.Generator, draws: int = 20_000) -> float:
    """Two-sided p-value that the sum of ``units`` is 0 when each unit's sign is a coin flip."""
    units = units[np.abs(units) > 1e-12]
    if len(units) == 0:
        return 1.0
    observed = abs(units.sum()) - 1e-9
    if len(units) <= _EXACT_FLIPS:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(units))))
        return float(np.mean(np.abs(signs @ units) >= observed))
    signs = rng.choice((-1.0, 1.0), size=(draws, len(units)))
    return float((np.sum(np.abs(signs @ units) >= observed) + 1) / (draws + 1))


def compare_arms(plain: Sequence[Sequence[bool]], augmented: Sequence[Sequence[bool]], *,
                 image_ids: Sequence[Sequence[int]] | None = None, chance: float | None = None,
                 confidence: float = 0.95, n_boot: int = 4000, seed: int = 0) -> Comparison:
    """Compare two arms from every seed's per-validation-image correctness (the engine's comparison).

    Args:
        plain: Per seed, whether the plain arm got each validation image right.
        augmented: The same for the other arm, same seeds, same images in the same order.
        image_ids: Per seed, an id of each validation image (e.g. its data set index), so an image
            validated under several seeds is one unit of evidence; None: each seed's images are its own.
        chance: Accuracy (0-1) of the best trivial answer (always the largest class, or 1/classes);
            when both arms are within :func:`chance_margin` of it the verdict is "cannot tell".
        confidence: Of the interval; the test's level is ``1 - confidence``.
        n_boot: Bootstrap resamples.
        seed: Seeds the bootstrap and any sampled sign flips (results are reproducible).

    Returns:
        A :class:`Comparison` in points: estimate (mean over seeds of the per-seed accuracy
        difference), interval, p-value and verdict.

    Example:
        >>> same3 = [[False] * 3 + [True] * 71] * 3  # augmented misses the same 3 of 74 images
        >>> compare_arms([[True] * 74] * 3, same3, image_ids=[range(74)] * 3).verdict
        'no clear difference'
    """
    if len(plain) != len(augmented):
        raise ValueError("compare_arms needs the same seeds in both arms")
    n = len(plain)
    if n == 0:
        return Comparison([], math.nan, math.nan, math.nan, math.nan, confidence, 0, "not enough runs",
                          _sentence("not enough runs", math.nan, math.nan, math.nan, 0, confidence))
    diff, present = _clusters(plain, augmented, image_ids)  # (C, S)
    counts = present.sum(0)  # validation images per seed
    per_seed = 100.0 * diff.sum(0) / counts
    mean = float(per_seed.mean())
    std = float(per_seed.std(ddof=1)) if n > 1 else 0.0
    plain_acc = float(np.mean([100.0 * np.mean(np.asarray(p, dtype=bool)) for p in plain]))
    aug_acc = float(np.mean([100.0 * np.mean(np.asarray(a, dtype=bool)) for a in augmented]))
    rng = np.random.default_rng(seed)
    # Bootstrap data: the real images plus one imaginary image per direction present in every seed.
    boot_diff = np.vstack([diff, np.ones((1, n)), -np.ones((1, n))])
    boot_present = np.vstack([present, np.ones((2, n))])
    clusters = len(boot_diff)
    estimates = []
    for start in range(0, n_boot, 250):  # chunks keep the (B, C) weight matrix small for big sets
        b = min(250, n_boot - start)
        w_img = rng.multinomial(clusters, np.full(clusters, 1 / clusters), size=b).astype(np.float64)  # (b, C)
        w_seed = rng.multinomial(n, np.full(n, 1 / n), size=b).astype(np.float64)  # (b, S)
        num, den = w_img @ boot_diff, w_img @ boot_present  # (b, S)
        seed_diff = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        weight = w_seed * (den > 0)
        estimates.append(100.0 * (weight * seed_diff).sum(1) / np.maximum(weight.sum(1), 1))
    boot = np.concatenate(estimates)
    alpha = 1 - confidence
    low, high = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    # Each image's share of the estimate; flipping its arms' labels negates it (exact under "no difference").
    units = (diff / counts).sum(1) / n
    p = _sign_flip_p(units, rng)
    images = len(diff)
    chance_pts = margin = math.nan
    at_chance = False
    if chance is not None:
        chance_pts = 100.0 * chance
        margin = chance_margin(chance, float(counts.mean()))
        at_chance = plain_acc < chance_pts + margin and aug_acc < chance_pts + margin
    if at_chance:
        verdict = "cannot tell"
    elif n < 2:
        verdict = "not enough runs"
    else:
        verdict = _verdict(low, high, p, confidence)
    sentence = _sentence(verdict, mean, low, high, n, confidence, p=p, images=images, plain=plain_acc,
                         augmented=aug_acc, chance=chance_pts)
    return Comparison([float(d) for d in per_seed], mean, std, low, high, confidence, n, verdict, sentence, p,
                      "bootstrap over seeds and validation images; sign-flip test", images, plain_acc, aug_acc,
                      chance_pts, margin, at_chance)


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


def correctness(final: Mapping[str, Any]) -> tuple[list[int], list[bool]]:
    """(validation image ids, right or wrong) of one arm of one replicate, from its final evaluation."""
    ids = [int(i) for i in final.get("val_indices", [])]
    wrong = {int(m["index"]) for m in final.get("misclassified", [])}
    return ids, [i not in wrong for i in ids]


def chance_level(finals: Iterable[Mapping[str, Any]]) -> float | None:
    """Best trivial accuracy (0-1): always predicting the largest validation class (>= 1/classes)."""
    shares = []
    for f in finals:
        support = np.asarray(f.get("confusion", []), dtype=np.float64).sum(axis=1) if f.get("confusion") else np.array([])
        if support.size and support.sum() > 0:
            shares.append(max(float(support.max() / support.sum()), 1.0 / len(support)))
    return float(np.mean(shares)) if shares else None


def analyse(records: list[Mapping[str, Any]], finals: list[Mapping[str, Any]], *, confidence: float = 0.95) -> dict[str, Any]:
    """Curves of every metric plus the paired comparison over replicates where both arms finished.

    ``finals`` items need ``arm``, ``replicate`` and ``val_acc``; with ``val_indices`` and
    ``misclassified`` (every run since per-image statistics) the comparison is
    :func:`compare_arms`, otherwise the :func:`paired_comparison` fallback.
    """
    by_key = {(str(f["arm"]), int(f["replicate"])): f for f in finals}
    paired = sorted({rep for arm, rep in by_key if ("plain", rep) in by_key and ("augmented", rep) in by_key})
    per_image = bool(paired) and all(by_key[(arm, r)].get("val_indices") for arm in ARMS for r in paired)
    if per_image:
        plain = [correctness(by_key[("plain", r)]) for r in paired]
        augmented = [correctness(by_key[("augmented", r)]) for r in paired]
        comparison = compare_arms([c for _, c in plain], [c for _, c in augmented], image_ids=[ids for ids, _ in plain],
                                  chance=chance_level(by_key[("plain", r)] for r in paired), confidence=confidence)
    else:
        comparison = paired_comparison([float(by_key[("plain", r)]["val_acc"]) for r in paired],
                                       [float(by_key[("augmented", r)]["val_acc"]) for r in paired], confidence=confidence)
    return {"curves": {m: curves(records, m) for m in METRICS}, "comparison": comparison.to_dict(),
            "replicates_compared": paired}
