"""Background tasks and the Search page's tables and figures, without training."""

from __future__ import annotations

import threading

import pytest

import augment_core  # noqa: F401
from augment_core.errors import AugLabError
from augment_core.experiment import NONE_ARM, build_leaderboard
from augment_core.experiment.presets import WRONG_DIGITS_PIPELINE
from augment_core.experiment.search import TrialRow
from augment_core.experiment import LocalExecutor, QueueExecutor
from augment_core.prove import (TaskManager, ablation_epochs, best_so_far_figure, leaderboard_table, page_executor, page_search_spec,
                                parallel_figure, trial_table)

ROWS = [TrialRow(0, "COMPLETE", 0.70, {"flip": True, "flip.p": 0.5}, None, 3.0),
        TrialRow(1, "PRUNED", None, {"flip": False}, None, 1.0, "pruned: behind"),
        TrialRow(2, "COMPLETE", 0.65, {"flip": True, "flip.p": 0.9}, None, 3.0),
        TrialRow(3, "COMPLETE", 0.80, {"flip": False}, None, 3.0)]


def test_task_runs_emits_and_finishes():
    tasks = TaskManager()
    gate = threading.Event()

    def work(emit, cancel):
        emit("a")
        gate.wait(5)
        emit("b")
        return 42

    task_id = tasks.start("me", "search", work)
    with pytest.raises(AugLabError, match="already running a search"):
        tasks.start("me", "search", work)
    gate.set()
    snap = tasks.wait(task_id, timeout=5)
    assert snap.status == "completed" and snap.events == ("a", "b") and snap.result == 42
    assert tasks.task_for("me", "search") == task_id and tasks.task_for("me", "ablation") is None


def test_task_failure_and_cancel_reach_the_page_as_words():
    tasks = TaskManager()

    def fails(emit, cancel):
        raise AugLabError("The data set is too small to hold out a confirmation split.")

    assert "too small" in tasks.wait(tasks.start("me", "search", fails), timeout=5).message

    def waits(emit, cancel):
        cancel.wait(5)
        return "stopped" if cancel.is_set() else "timeout"

    task_id = tasks.start("me", "ablation", waits)
    tasks.cancel(task_id)
    assert tasks.wait(task_id, timeout=5).result == "stopped"
    with pytest.raises(AugLabError, match="no longer known"):
        tasks.snapshot("nope")


def test_trial_table_and_best_so_far():
    table = trial_table(ROWS)
    assert [r["state"] for r in table] == ["complete", "pruned", "complete", "complete"]
    assert table[0]["val acc %"] == 70.0 and table[1]["val acc %"] is None and "flip.p=0.50" in table[0]["tried"]
    fig = best_so_far_figure(ROWS)
    assert list(fig.data[1].y) == [70.0, 70.0, 80.0], "best so far never goes down and skips pruned trials"
    assert parallel_figure(ROWS[:1]) is None
    parallel = parallel_figure(ROWS)
    assert parallel.data[0].dimensions[-1].label == "val acc %"


def test_leaderboard_table_marks_significant_intervals():
    board = build_leaderboard({NONE_ARM: [0.5, 0.52, 0.51], "A": [0.8, 0.82, 0.81]})
    rows = leaderboard_table(board)
    assert rows[0]["arm"] == "A" and rows[0]["vs no augmentation (points)"].endswith("*")
    assert rows[1]["vs no augmentation (points)"] == "—"


def test_when_no_augmentation_is_best_its_column_is_not_repeated():
    board = build_leaderboard({NONE_ARM: [0.8, 0.82, 0.81], "A": [0.5, 0.52, 0.51]})
    assert board.best == NONE_ARM
    assert list(leaderboard_table(board)[0]) == ["arm", "final val acc %", "± std", "runs", "vs no augmentation (points)"]
    other = build_leaderboard({NONE_ARM: [0.5, 0.52, 0.51], "A": [0.8, 0.82, 0.81]})
    assert "vs A (points)" in leaderboard_table(other)[0]


def test_parallel_coordinates_leave_room_for_the_outer_labels():
    margin = parallel_figure(ROWS).layout.margin
    assert margin.l >= 80 and margin.r >= 80 and margin.t >= 80


def test_the_page_trains_through_the_queue_when_the_app_has_workers(monkeypatch):
    assert isinstance(page_executor(0), LocalExecutor)
    monkeypatch.setenv("AUGLAB_WORKERS", "2")
    executor = page_executor()
    assert isinstance(executor, QueueExecutor) and executor.workers == 2


def test_page_spec_refuses_unsafe_space_before_starting():
    with pytest.raises(AugLabError, match="not label-safe"):
        page_search_spec(dataset="digits", space="around", data_kind="Digits and handwriting", epochs=2, minutes=1,
                         trials=None, pipeline=WRONG_DIGITS_PIPELINE)
    spec = page_search_spec(dataset="shapes", space="families", data_kind="Natural photos", epochs=2, minutes=None, trials=3,
                            pipeline=None)
    assert spec.budget_trials == 3 and spec.budget_seconds is None and spec.base.epochs == 2


def test_search_budget_is_bounded_by_the_setting(monkeypatch):
    monkeypatch.setenv("AUGLAB_SEARCH_MAX_MINUTES", "2")
    with pytest.raises(AugLabError, match="at most 2 minutes"):
        page_search_spec(dataset="shapes", space="presets", data_kind="Natural photos", epochs=2, minutes=5, trials=None,
                         pipeline=None)


def test_ablation_epochs_counts_every_arm():
    assert ablation_epochs(4, singles=False, epochs=10, seeds=3) == (1 + 1 + 4) * 30
    assert ablation_epochs(1, singles=True, epochs=10, seeds=3) == 2 * 30
