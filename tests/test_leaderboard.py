"""The leaderboard compares arms with compare_arms (seeds and validation images), Holm-corrected, in honest words."""

from __future__ import annotations

import numpy as np

from augment_core.experiment.leaderboard import NONE_ARM, build_leaderboard


def _final(replicate: int, right: list[bool], classes: int = 2) -> dict:
    """A final evaluation whose validation images are 0..n-1 (the same for every arm of a replicate)."""
    n = len(right)
    labels = [i % classes for i in range(n)]
    confusion = np.zeros((classes, classes), dtype=int)
    for i, ok in enumerate(right):
        confusion[labels[i], labels[i] if ok else (labels[i] + 1) % classes] += 1
    return {"arm": "plain", "replicate": replicate, "seed": replicate, "val_acc": sum(right) / n, "confusion": confusion.tolist(),
            "per_class_acc": [], "val_indices": list(range(n)),
            "misclassified": [{"index": i, "true": labels[i], "predicted": (labels[i] + 1) % classes} for i, ok in enumerate(right) if not ok]}


def _arms(correct: dict[str, list[int]], n: int = 20, seeds: int = 3, classes: int = 2):
    """Arm -> per replicate, the first ``k`` of ``n`` images right."""
    evaluations = {arm: [_final(r, [i < k for i in range(n)], classes) for r, k in enumerate(ks)] for arm, ks in correct.items()}
    finals = {arm: [f["val_acc"] for f in fs] for arm, fs in evaluations.items()}
    return finals, evaluations


def test_seeds_that_agree_on_a_tiny_validation_set_are_not_certainty():
    # one more image right out of 20 in every seed: the t-interval over seeds has zero width and calls it a help
    finals, evaluations = _arms({NONE_ARM: [15, 15, 15], "A": [16, 16, 16]})
    old = build_leaderboard(finals).row("A").vs_none
    new = build_leaderboard(finals, evaluations=evaluations).row("A").vs_none
    assert old.significant and old.ci_high - old.ci_low < 1e-9
    assert not new.significant and new.ci_low < 0 < new.ci_high, "validation-set noise widens the interval"
    assert "A makes no clear difference" in build_leaderboard(finals, evaluations=evaluations).summary


def test_a_large_consistent_difference_is_still_found_and_words_agree_with_intervals():
    finals, evaluations = _arms({NONE_ARM: [40, 42, 41], "Medium": [70, 72, 71], "Light": [41, 43, 40], "Heavy": [20, 22, 21]},
                                n=80, classes=5)  # chance is 20%: no augmentation (51%) learned something
    board = build_leaderboard(finals, evaluations=evaluations)
    assert board.best == "Medium" and "Medium helps" in board.summary and "Heavy hurts" in board.summary
    assert "Light makes no clear difference" in board.summary
    for row in board.rows:
        for d in (row.vs_none, row.vs_best):
            if d is not None and d.significant:
                assert d.ci_low > 0 or d.ci_high < 0
    single = build_leaderboard({k: v for k, v in finals.items() if k in (NONE_ARM, "Medium")},
                               evaluations={k: v for k, v in evaluations.items() if k in (NONE_ARM, "Medium")})
    corrected, alone = board.row("Medium").vs_none, single.row("Medium").vs_none
    assert corrected.confidence > alone.confidence and corrected.ci_high - corrected.ci_low >= alone.ci_high - alone.ci_low


def test_arms_at_chance_say_cannot_tell():
    # ten classes, about 10% right in every arm: nobody learned anything
    finals, evaluations = _arms({NONE_ARM: [2, 2, 3], "A": [3, 3, 4], "B": [1, 2, 2]}, n=30, classes=10)
    board = build_leaderboard(finals, evaluations=evaluations)
    diffs = [d for r in board.rows for d in (r.vs_none, r.vs_best) if d is not None]
    assert all(d.cannot_tell and not d.significant for d in diffs)
    assert "cannot tell" in board.summary and "helps" not in board.summary and "hurts" not in board.summary


def test_without_per_image_data_the_t_interval_fallback_is_used():
    board = build_leaderboard({NONE_ARM: [0.80, 0.82, 0.81], "A": [0.90, 0.93, 0.91]})
    d = board.row("A").vs_none
    assert d.significant == (d.ci_low > 0 or d.ci_high < 0) and not d.cannot_tell
