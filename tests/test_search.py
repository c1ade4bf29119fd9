"""Search: spaces obey label safety, budgets and hold-out refusals, Optuna study storage, resume, confirmation, CLI."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

import augment_core  # noqa: F401
from augment_core.errors import AugLabError
from augment_core.experiment.cli import main
from augment_core.experiment.datasets import create_dataset
from augment_core.experiment.presets import DEMO_PIPELINE, WRONG_DIGITS_PIPELINE
from augment_core.experiment.search import (SEARCH_FORMAT, WINNER, SearchSpec, confirm_search, holdout_split, load_search,
                                            open_study, parse_budget, run_search, storage_url)
from augment_core.experiment.search_space import SPACES, create_space, safe_operations, safe_presets, scale_args
from augment_core.experiment.spec import ExperimentSpec
from augment_core.pipelines import label_warnings, list_data_kinds

optuna = pytest.importorskip("optuna")

TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 16}, image_size=32, epochs=2, seeds=1,
                      train_per_class=3, batch_size=6, val_fraction=0.5)


@pytest.mark.parametrize("text, expected", [("10m", (None, 600.0)), ("90s", (None, 90.0)), ("1h", (None, 3600.0)),
                                            ("20", (20, None)), ("3 trials", (3, None)), ("1.5min", (None, 90.0))])
def test_parse_budget(text, expected):
    assert parse_budget(text) == expected


def test_budget_refusals():
    with pytest.raises(AugLabError, match="not a budget"):
        parse_budget("soon")
    with pytest.raises(AugLabError, match="too small for even one trial"):
        SearchSpec(TINY, budget_trials=0, budget_seconds=None)
    with pytest.raises(AugLabError, match="Give a budget"):
        SearchSpec(TINY, budget_trials=None, budget_seconds=None)


@pytest.mark.parametrize("kind", list_data_kinds())
@pytest.mark.parametrize("space", ["presets", "families"])
def test_every_candidate_is_label_safe(space, kind):
    built = create_space(space, kind)
    sampler = optuna.samplers.RandomSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    for _ in range(15):
        trial = study.ask()
        assert label_warnings(built.build(trial), kind) == []
        study.tell(trial, 0.0)


def test_digits_space_has_no_flips_and_small_turns():
    ops = safe_operations("Digits and handwriting")
    assert "flip" not in ops and ops["rotate"] * 180 <= 30
    assert "Natural photos · light" not in safe_presets("Digits and handwriting")
    assert "flip" in safe_operations("Natural photos")


def test_around_refuses_unsafe_or_missing_pipeline_and_unknown_space():
    with pytest.raises(AugLabError, match="not label-safe"):
        create_space("around", "Digits and handwriting", WRONG_DIGITS_PIPELINE)
    with pytest.raises(AugLabError, match="needs a pipeline"):
        create_space("around", "Natural photos", None)
    with pytest.raises(AugLabError, match="Unknown search space"):
        create_space("everything", "Natural photos")
    assert set(SPACES) == {"presets", "families", "around"}


def test_around_builds_the_same_pipeline_from_the_same_params():
    space = create_space("around", "Natural photos", DEMO_PIPELINE)
    params = {"step1.p": 0.5, "step1.scale": 2.0, "step2.p": 0.2, "step2.scale": 1.0, "step3.p": 1.0, "step3.scale": 0.5,
              "step4.p": 0.0, "step4.scale": 1.0}
    a = space.build(optuna.trial.FixedTrial(params))
    assert a == space.build(optuna.trial.FixedTrial(params))
    assert a.items[0].args["rotate"] == (-360.0, 360.0) and a.items[1].p == 0.2
    assert scale_args({"std_range": (0.02, 0.08)}, 3.0)["std_range"][0] == 0.0, "non-negative ranges stay non-negative"


def test_holdout_split_is_stratified_disjoint_and_refuses_tiny_data():
    data = create_dataset("shapes", image_size=32, per_class=20)
    search, held = holdout_split(data, 0.3, seed=0)
    assert len(search.labels) + len(held.labels) == len(data.labels)
    assert all(n == 6 for n in np.bincount(held.labels))
    search_pixels = {im.tobytes() for im in search.images}
    assert not any(im.tobytes() in search_pixels for im in held.images), "no held-out image is seen by the search"
    with pytest.raises(AugLabError, match="too small to hold out a confirmation split"):
        holdout_split(create_dataset("shapes", image_size=32, per_class=6), 0.3, seed=0)


def test_study_name_clash_resume_and_other_format(tmp_path):
    url = storage_url(tmp_path / "s.sqlite3")
    spec = SearchSpec(TINY, name="mine", budget_trials=1)
    study = open_study(spec, storage=url)
    assert study.user_attrs["auglab_format"] == SEARCH_FORMAT
    with pytest.raises(AugLabError, match="already exists"):
        open_study(spec, storage=url)
    assert open_study(spec, resume=True, storage=url).study_name == "mine"
    with pytest.raises(AugLabError, match="no stored search"):
        open_study(replace(spec, name="other"), resume=True, storage=url)
    old = optuna.create_study(study_name="old", storage=url)
    old.set_user_attr("auglab_format", 0)
    with pytest.raises(AugLabError, match="another version"):
        load_search("old", storage=url)
    assert load_search("mine", storage=url)[0] == spec


def test_search_spec_round_trip():
    spec = SearchSpec(replace(TINY, pipeline=DEMO_PIPELINE), space="around", name="x", budget_trials=3, budget_seconds=None)
    assert SearchSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.slow
def test_search_then_confirm_on_held_out_data_and_resume(tmp_path):
    url = storage_url(tmp_path / "s.sqlite3")
    spec = SearchSpec(replace(TINY, pipeline=DEMO_PIPELINE), space="presets", name="tiny", budget_trials=2, budget_seconds=None,
                      confirm_seeds=2)
    seen = []
    result = run_search(spec, storage=url, on_trial=seen.append)
    assert result.status == "completed" and len(result.trials) == 2 == len(seen)
    assert result.best is not None and result.confirmation is not None
    names = [r.arm for r in result.confirmation.leaderboard.rows]
    assert set(names) == {"No augmentation", WINNER, "Your pipeline"}
    assert all(r.n == 2 for r in result.confirmation.leaderboard.rows)
    assert result.optimism is not None
    assert result.confirmation.results[WINNER].spec.seed == TINY.seed + 10_000, "confirmation uses fresh seeds"
    resumed = run_search(spec, storage=url, resume=True, confirm=False)
    assert len(resumed.trials) == 4, "a resumed search keeps the stored trials and adds its budget"


@pytest.mark.slow
def test_cancelled_search_keeps_trials_and_can_be_confirmed(tmp_path, monkeypatch):
    url = storage_url(tmp_path / "s.sqlite3")
    monkeypatch.setattr("augment_core.experiment.search.storage_url", lambda path=None: url)
    cancel = threading.Event()
    spec = SearchSpec(TINY, space="families", name="stop", budget_trials=5, budget_seconds=None, confirm_seeds=2)
    result = run_search(spec, on_trial=lambda row: cancel.set() if row.state == "COMPLETE" else None, cancel=cancel)
    assert result.status == "cancelled" and result.confirmation is None and result.best is not None
    confirmed = confirm_search("stop")
    assert confirmed.confirmation.leaderboard is not None and confirmed.best.number == result.best.number


@pytest.mark.slow
def test_budget_too_small_for_one_trial_says_so(tmp_path):
    spec = SearchSpec(replace(TINY, epochs=30), name="short", budget_seconds=0.3)
    result = run_search(spec, storage=storage_url(tmp_path / "s.sqlite3"))
    assert result.status == "failed" and "too small for even one trial" in result.message
    assert result.trials and result.trials[0].note == "stopped when the time budget ran out"


@pytest.mark.slow
def test_cli_search(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(TINY.to_json())
    code = main(["search", str(path), "--budget", "1", "--space", "families", "--name", "cli", "--kind", "Digits and handwriting"])
    out = capsys.readouterr().out
    assert code == 0 and "trial   0" in out and "confirmed on the held-out part" in out
    assert main(["search", str(path), "--budget", "1", "--name", "cli"]) == 2
    assert "already exists" in capsys.readouterr().err
