"""The paired comparison on small validation sets: validation noise, never zero width, chance first."""

from __future__ import annotations

import math

import numpy as np
import pytest

from augment_core.experiment.stats import analyse, chance_level, chance_margin, compare_arms, paired_comparison


def _effect(rng: np.random.Generator, n: int, base: float, gained: int, lost: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain correctness at ``base``; the augmented arm gets ``gained`` of its misses right and ``lost`` of its hits wrong."""
    plain = rng.random(n) < base
    augmented = plain.copy()
    augmented[rng.permutation(np.flatnonzero(~plain))[:gained]] = True
    augmented[rng.permutation(np.flatnonzero(plain))[:lost]] = False
    return plain, augmented


def test_the_minus_4_1_case_is_no_clear_difference():
    # Issue 13: three seeds that differ on the same 3 of 74 validation images gave
    # "hurt: -4.1 (95% CI -4.1 to -4.1)". Three images are not evidence of anything.
    plain = [[True] * 50 + [False] * 24] * 3
    augmented = [[False] * 3 + [True] * 47 + [False] * 24] * 3
    c = compare_arms(plain, augmented, image_ids=[list(range(74))] * 3)
    assert c.differences == pytest.approx([-300 / 74] * 3) and round(c.mean, 1) == -4.1
    assert c.verdict == "no clear difference"
    assert c.ci_low < c.mean < c.ci_high and c.ci_high >= 0 and c.ci_high - c.ci_low > 3
    assert c.p_value == pytest.approx(0.25)  # exact sign-flip test on 3 images: 2 x (1/2)^3
    assert c.validation_images == 74 and "74 validation images" in c.sentence


def test_the_per_seed_fallback_never_shows_a_zero_width_interval_as_certainty():
    c = paired_comparison([50 / 74] * 3, [47 / 74] * 3)
    assert c.verdict == "no clear difference" and "not certainty" in c.sentence
    widened = paired_comparison([50 / 74] * 3, [47 / 74] * 3, n_val=74)
    assert widened.ci_high - widened.ci_low > 3 and widened.verdict == "no clear difference"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_large_real_effect_still_helped(seed):
    rng = np.random.default_rng(seed)
    pairs = [_effect(rng, 74, 0.6, gained=18, lost=2) for _ in range(3)]
    ids = [rng.permutation(148)[:74] for _ in range(3)]
    c = compare_arms([p for p, _ in pairs], [a for _, a in pairs], image_ids=ids, chance=0.5)
    assert c.verdict == "helped" and c.ci_low > 5 and c.p_value < 0.001
    flipped = compare_arms([a for _, a in pairs], [p for p, _ in pairs], image_ids=ids, chance=0.5)
    assert flipped.verdict == "hurt" and flipped.ci_high < -5


def test_no_effect_gives_no_clear_difference_and_the_interval_covers_zero():
    rng = np.random.default_rng(7)
    plain = [rng.random(200) < 0.8 for _ in range(5)]
    augmented = [rng.random(200) < 0.8 for _ in range(5)]  # same accuracy, independent errors
    c = compare_arms(plain, augmented)
    assert c.verdict == "no clear difference" and c.ci_low < 0 < c.ci_high


def test_agreement_on_every_image_still_has_a_nonzero_interval():
    same = [[True] * 30 + [False] * 10] * 3
    c = compare_arms(same, same, image_ids=[range(40)] * 3)
    assert c.mean == 0 and c.ci_low < 0 < c.ci_high and c.p_value == 1.0 and c.verdict == "no clear difference"


def test_chance_comes_first_even_with_a_consistent_difference():
    rng = np.random.default_rng(3)
    pairs = [_effect(rng, 74, 0.45, gained=8, lost=0) for _ in range(3)]  # 45% -> about 56%: both near 50%
    c = compare_arms([p for p, _ in pairs], [a for _, a in pairs], chance=0.5)
    assert c.at_chance and c.verdict == "cannot tell"
    assert c.sentence.startswith("Neither model learned to tell these classes apart: both are at chance")
    assert "cannot tell whether augmentation helps" in c.sentence
    # The same numbers with a 10-class chance level are far above chance: a normal verdict.
    assert compare_arms([p for p, _ in pairs], [a for _, a in pairs], chance=0.1).verdict != "cannot tell"


def test_one_arm_above_chance_is_not_cannot_tell():
    rng = np.random.default_rng(4)
    pairs = [_effect(rng, 100, 0.5, gained=40, lost=0) for _ in range(3)]
    assert compare_arms([p for p, _ in pairs], [a for _, a in pairs], chance=0.5).verdict == "helped"


def test_chance_margin_and_level():
    assert chance_margin(0.5, 74) == pytest.approx(100 * 1.96 * math.sqrt(0.25 / 74))
    assert chance_margin(0.5, 100_000) == 5.0
    finals = [{"confusion": [[30, 0], [10, 0]]}, {"confusion": [[5, 5], [5, 5]]}]
    assert chance_level(finals) == pytest.approx((0.75 + 0.5) / 2)


def test_results_are_reproducible_and_validated():
    rng = np.random.default_rng(5)
    pairs = [_effect(rng, 60, 0.7, gained=5, lost=2) for _ in range(3)]
    args = ([p for p, _ in pairs], [a for _, a in pairs])
    assert compare_arms(*args).to_dict() == compare_arms(*args).to_dict()
    with pytest.raises(ValueError):
        compare_arms([[True, False]], [[True]])
    assert compare_arms([], []).verdict == "not enough runs"
    assert compare_arms([[True, False]], [[True, True]]).verdict == "not enough runs"


def test_analyse_uses_per_image_correctness_from_the_finals():
    finals = []
    for rep in range(3):
        ids = list(range(74))
        finals.append({"arm": "plain", "replicate": rep, "val_acc": 50 / 74, "val_indices": ids,
                       "misclassified": [{"index": i} for i in range(50, 74)], "confusion": [[37, 0], [24, 13]]})
        finals.append({"arm": "augmented", "replicate": rep, "val_acc": 47 / 74, "val_indices": ids,
                       "misclassified": [{"index": i} for i in [0, 1, 2, *range(50, 74)]], "confusion": [[37, 0], [27, 10]]})
    out = analyse([], finals)["comparison"]
    assert out["method"].startswith("bootstrap") and out["verdict"] == "no clear difference"
    assert out["chance_acc"] == pytest.approx(50.0)
    old = [{k: v for k, v in f.items() if k in ("arm", "replicate", "val_acc")} for f in finals]
    assert analyse([], old)["comparison"]["method"] == "t over seeds"


def test_a_small_p_beside_an_interval_that_includes_zero_is_explained_not_printed_bare():
    """Two seeds that disagree (+10 and -1.25 points): the image-level test is sure, the seed spread is not.

    The page used to read "No clear difference … (95% CI -1.3 to +7.2, p = 0.0023)", a contradiction
    on its face; the sentence now says which question each number answers.
    """
    from augment_core.experiment import compare_arms

    n = 400
    plain_1, plain_2 = [i >= 40 for i in range(n)], [True] * n  # seed 1: augmentation fixes 40 images
    augmented_2 = [not 100 <= i < 105 for i in range(n)]  # seed 2: augmentation breaks 5
    result = compare_arms([plain_1, plain_2], [[True] * n, augmented_2], image_ids=[range(n)] * 2)
    assert result.verdict == "no clear difference" and result.p_value < 0.05 and result.ci_low < 0 < result.ci_high
    assert "do differ on these images" in result.sentence and "more seeds would tell" in result.sentence
