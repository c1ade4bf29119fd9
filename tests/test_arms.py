"""Many arms and ablation: Holm levels, the leaderboard's words, pairing, one-arm engine runs."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pytest

import augment_core  # noqa: F401
from augment_core.errors import AugLabError
from augment_core.experiment.ablation import FULL_ARM, ablation_arms, run_ablation
from augment_core.experiment.arms import Arm, ArmsSpec, arm_requests, run_arms
from augment_core.experiment.executor import LocalExecutor, RunRequest
from augment_core.experiment.leaderboard import NONE_ARM, build_leaderboard, holm_levels, paired_p_value
from augment_core.experiment.presets import DEMO_PIPELINE, WRONG_DIGITS_PIPELINE
from augment_core.experiment.runner import run_experiment
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.stats import paired_comparison

TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 8}, image_size=32, epochs=2, seeds=2,
                      train_per_class=3, batch_size=6, val_fraction=0.5)


def test_holm_levels_step_down_and_stop():
    levels = holm_levels([0.01, 0.04, 0.03], alpha=0.05)
    # ranked 0.01 (threshold 0.05/3: rejected), 0.03 (0.05/2: not), then 0.04 keeps the stopping level
    assert levels[0] == (pytest.approx(1 - 0.05 / 3), True)
    assert levels[2] == (pytest.approx(0.975), False) and levels[1] == (pytest.approx(0.975), False)
    assert [r for _, r in holm_levels([0.001, 0.002, 0.003])] == [True, True, True]


def test_holm_interval_excludes_zero_exactly_when_rejected():
    finals = {NONE_ARM: [0.80, 0.82, 0.81, 0.79], "Medium": [0.90, 0.93, 0.91, 0.92], "Light": [0.81, 0.83, 0.80, 0.80],
              "Heavy": [0.70, 0.71, 0.69, 0.72]}
    board = build_leaderboard(finals)
    for row in board.rows:
        for d in (row.vs_none, row.vs_best):
            if d is not None:
                assert d.significant == (d.ci_low > 0 or d.ci_high < 0)
    medium = board.row("Medium").vs_none
    plain = paired_comparison(finals[NONE_ARM], finals["Medium"], confidence=0.95)
    assert medium.ci_high - medium.ci_low > plain.ci_high - plain.ci_low, "corrected intervals are wider"
    assert board.best == "Medium" and [r.arm for r in board.rows][0] == "Medium"
    assert "Medium is best" in board.summary and "Heavy hurts" in board.summary and "Medium helps" in board.summary
    assert "Light makes no clear difference" in board.summary and "Holm" in board.correction


def test_leaderboard_single_replicate_says_no_interval():
    board = build_leaderboard({NONE_ARM: [0.5], "A": [0.6]})
    assert math.isnan(board.row("A").vs_none.ci_low) and not board.row("A").vs_none.significant
    assert "no interval" in board.summary


def test_p_value_of_constant_differences():
    assert paired_p_value([2.0, 2.0, 2.0]) == 0.0 and paired_p_value([0.0, 0.0]) == 1.0 and paired_p_value([1.0]) == 1.0


def test_arms_spec_round_trip_and_refusals():
    spec = ArmsSpec(TINY, (Arm("Demo", DEMO_PIPELINE), Arm("Mixup", None, mixup_alpha=0.4)))
    assert ArmsSpec.from_dict(spec.to_dict()) == spec
    assert spec.names == [NONE_ARM, "Demo", "Mixup"]
    with pytest.raises(AugLabError, match="at least one pipeline"):
        ArmsSpec(TINY, ())
    with pytest.raises(AugLabError, match="own non-empty name"):
        ArmsSpec(TINY, (Arm("A", DEMO_PIPELINE), Arm("A", None)))
    with pytest.raises(AugLabError, match="MixUp"):
        ArmsSpec(TINY, (Arm("A", None, mixup_alpha=-1),))


def test_requests_train_the_plain_arm_once():
    requests = arm_requests(ArmsSpec(TINY, (Arm("Demo", DEMO_PIPELINE), Arm("Wrong", WRONG_DIGITS_PIPELINE))))
    assert [r.arms for r in requests] == [("plain",), ("augmented",), ("augmented",)]
    assert requests[0].spec.pipeline is None and requests[2].spec.pipeline == WRONG_DIGITS_PIPELINE


def test_ablation_arms_cover_each_step():
    arms = ablation_arms(DEMO_PIPELINE, singles=True)
    names = [a.name for a in arms]
    assert names[0] == FULL_ARM and "without 1. Affine" in names and "only 4. ChannelShuffle" in names
    assert len(arms) == 1 + 4 + 4
    without_flip = next(a for a in arms if a.name == "without 2. HorizontalFlip")
    assert [t["__class_fullname__"] for t in without_flip.pipeline["transform"]["transforms"]] == ["Affine", "ColorJitter", "ChannelShuffle"]
    with pytest.raises(AugLabError, match="no enabled step"):
        ablation_arms({"transform": {"__class_fullname__": "Compose", "transforms": []}})


@pytest.mark.slow
def test_one_arm_run_equals_that_arm_of_a_two_arm_run():
    spec = replace(TINY, pipeline=DEMO_PIPELINE)
    both = run_experiment(spec)
    alone = run_experiment(spec, arms=("augmented",))
    key = lambda r, arm: [(e.replicate, e.epoch, e.val_acc, e.train_loss) for e in r.epochs if e.arm == arm]  # noqa: E731
    assert key(alone, "augmented") == key(both, "augmented") and key(alone, "plain") == []
    plain = run_experiment(spec, arms=("plain",))
    assert key(plain, "plain") == key(both, "plain")


@pytest.mark.slow
def test_run_arms_pairs_every_arm_and_reports_epochs():
    seen: list[tuple[str, int]] = []
    spec = ArmsSpec(TINY, (Arm("Demo", DEMO_PIPELINE), Arm("Same as none", None)))
    result = run_arms(spec, on_epoch=lambda arm, r: seen.append((arm, r.epoch)))
    assert result.status == "completed" and result.leaderboard is not None
    finals = result.finals()
    assert set(finals) == {NONE_ARM, "Demo", "Same as none"} and all(len(v) == 2 for v in finals.values())
    assert finals["Same as none"] == finals[NONE_ARM], "an arm without augmentation equals the reference exactly"
    assert (NONE_ARM, 2) in seen and ("Demo", 1) in seen
    assert set(result.curves()) == set(finals) and len(result.curves()["Demo"]) == 2


@pytest.mark.slow
def test_cancelled_request_keeps_finished_epochs():
    stop = threading.Event()
    request = RunRequest(replace(TINY, pipeline=DEMO_PIPELINE), arms=("augmented",), cancel=stop)
    results = LocalExecutor().run([request], on_epoch=lambda i, r: stop.set())
    assert results[0].status == "cancelled" and len(results[0].epochs) == 1


@pytest.mark.slow
def test_ablation_of_a_one_step_pipeline_compares_with_none():
    one = {"__version__": "2.0.8", "transform": {"__class_fullname__": "Compose", "p": 1.0,
                                                 "transforms": [DEMO_PIPELINE["transform"]["transforms"][1]]}}
    result = run_ablation(replace(TINY, seeds=2), one)
    assert [a.name for a in result.arms.spec.arms] == [FULL_ARM]
    assert len(result.steps) == 1 and result.steps[0].effect is not None and result.steps[0].effect.n == 2
    assert "1. HorizontalFlip" in result.summary


def test_the_augmented_arm_trains_alone_with_a_frozen_prefix():
    # the plain arm's feature cache once looked up models["plain"] when only the augmented arm trained
    from augment_core.experiment import create_spec_preset, run_experiment

    spec = create_spec_preset("demo", epochs=1, seeds=1, strategy="head", dataset_options={"per_class": 8, "seed": 1},
                              train_per_class=3)
    result = run_experiment(spec, arms=("augmented",))
    assert result.status == "completed", result.message
    assert {e.arm for e in result.epochs} == {"augmented"}
