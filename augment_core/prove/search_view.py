"""What the Search page and the ablation panel need: specs from widget values, tasks, tables and figures.

Pure functions over the engine's plain results (no streamlit), so the page stays a thin script
and tests can check every table and figure without a browser.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import plotly.graph_objects as go

from augment_core.experiment import (NONE_ARM, AblationResult, Executor, LocalExecutor, QueueExecutor, SearchResult, SearchSpec,
                                     TrialRow, confirm_search, create_space, create_spec_preset, run_ablation, run_search)
from augment_core.experiment.leaderboard import Leaderboard
from augment_core.settings import get_int

SEARCH_DATASETS = {"shapes": "Shapes (built-in, 6 classes)", "digits": "Handwritten digits (built-in, 10 classes)"}


def page_search_spec(*, dataset: str, space: str, data_kind: str, epochs: int, minutes: float | None, trials: int | None,
                     pipeline: dict[str, Any] | None, name: str | None = None) -> SearchSpec:
    """A search on the demo's settings (5 training images per class, last block + head) for a built-in data set."""
    options = {"per_class": 120, "seed": 1234} if dataset == "shapes" else {}
    base = replace(create_spec_preset("demo"), name=f"search on {dataset}", dataset=dataset, dataset_options=options,
                   epochs=epochs, pipeline=pipeline)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    create_space(space, data_kind, pipeline)  # refuse an empty or unsafe space now, not in the background
    return SearchSpec(base, space=space, data_kind=data_kind, name=name or f"{space} on {dataset} {stamp}",
                      budget_trials=trials, budget_seconds=None if minutes is None else 60.0 * minutes)


def page_executor(workers: int | None = None) -> Executor:
    """Who trains the page's trials and arms: the run queue when the app has worker processes, else this process.

    With ``AUGLAB_WORKERS`` >= 1 (the app's default) every trial is a queued run, so all the
    workers (and a Ray cluster behind them, with ``AUGLAB_RAY_ADDRESS``) train that many at once;
    with 0 the page trains one at a time in its own background thread.
    """
    workers = get_int("AUGLAB_WORKERS") if workers is None else workers
    return QueueExecutor(workers) if workers >= 1 else LocalExecutor()


def search_task(spec: SearchSpec) -> Callable[[Callable[[Any], None], threading.Event], SearchResult]:
    """The background function of a search: emits each finished trial."""
    return lambda emit, cancel: run_search(spec, executor=page_executor(), on_trial=emit, cancel=cancel)


def confirm_task(name: str) -> Callable[[Callable[[Any], None], threading.Event], SearchResult]:
    """The background function that confirms a stored search."""
    return lambda emit, cancel: confirm_search(name, executor=page_executor(), cancel=cancel)


def ablation_task(pipeline: dict[str, Any], *, singles: bool = False, epochs: int = 15,
                  seeds: int = 3) -> Callable[[Callable[[Any], None], threading.Event], AblationResult]:
    """The background function of an ablation on the demo's data and settings: emits (arm, epoch record)."""
    base = create_spec_preset("demo", epochs=epochs, seeds=seeds)
    return lambda emit, cancel: run_ablation(base, pipeline, singles=singles, executor=page_executor(),
                                             on_epoch=lambda arm, r: emit((arm, r)), cancel=cancel)


def ablation_epochs(pipeline_steps: int, *, singles: bool, epochs: int, seeds: int) -> int:
    """Epochs an ablation trains in all (for a progress bar): none, full, each without, each alone."""
    arms = 1 + 1 + (pipeline_steps if pipeline_steps > 1 else 0) + (pipeline_steps if singles and pipeline_steps > 1 else 0)
    return arms * epochs * seeds


def trial_table(rows: list[TrialRow]) -> list[dict[str, Any]]:
    """One row per trial for a data frame: number, state, accuracy, seconds, what it tried."""
    return [{"trial": r.number, "state": r.state.lower(), "val acc %": None if r.value is None else round(100 * r.value, 1),
             "seconds": round(r.seconds, 1), "tried": ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                             for k, v in r.params.items() if v is not False),
             "note": r.note} for r in rows]


def best_so_far_figure(rows: list[TrialRow]) -> go.Figure:
    """Each completed trial's score and the best so far, by trial number."""
    done = [r for r in sorted(rows, key=lambda r: r.number) if r.value is not None and r.state == "COMPLETE"]
    best, running = [], -math.inf
    for r in done:
        running = max(running, r.value)
        best.append(100 * running)
    fig = go.Figure([go.Scatter(x=[r.number for r in done], y=[100 * r.value for r in done], mode="markers", name="trial"),
                     go.Scatter(x=[r.number for r in done], y=best, mode="lines", name="best so far", line={"shape": "hv"})])
    fig.update_layout(xaxis_title="trial", yaxis_title="validation accuracy on the search part (%)", height=320,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Search progress")
    return fig


def parallel_figure(rows: list[TrialRow]) -> go.Figure | None:
    """Parallel coordinates of the parameters of completed trials (choices as categories), coloured by score (None with < 2)."""
    done = [r for r in rows if r.value is not None and r.state == "COMPLETE"]
    if len(done) < 2:
        return None
    names = sorted({k for r in done for k in r.params})[:12]
    dims = []
    for n in names:
        values = [r.params.get(n) for r in done]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dims.append({"label": n, "values": [float(v) for v in values]})
        else:  # choices (a preset, an operation on/off) become numbered categories with their names as ticks
            levels = sorted({str(v) for v in values})
            dims.append({"label": n, "values": [levels.index(str(v)) for v in values], "tickvals": list(range(len(levels))),
                         "ticktext": levels})
    dims.append({"label": "val acc %", "values": [100 * r.value for r in done]})
    fig = go.Figure(go.Parcoords(line={"color": [100 * r.value for r in done], "colorscale": "Viridis"}, dimensions=dims))
    # Parcoords draws each axis label centred above its axis and the tick texts beside it: without wide side
    # margins and room on top the first and last labels are cut off
    fig.update_layout(height=360, margin={"l": 90, "r": 90, "t": 90, "b": 30}, title={"text": "What the trials tried", "y": 0.98},
                      font={"size": 11})
    return fig


def leaderboard_table(board: Leaderboard) -> list[dict[str, Any]]:
    """The confirmed leaderboard as rows: accuracy and both corrected differences with intervals."""
    def cell(d: Any) -> str:
        if d is None:
            return "—"
        if d.cannot_tell:
            return f"{d.mean:+.1f} (cannot tell: at chance)"
        if math.isnan(d.ci_low):
            return f"{d.mean:+.1f} (one run)"
        return f"{d.mean:+.1f} [{d.ci_low:+.1f}, {d.ci_high:+.1f}]" + (" *" if d.significant else "")

    rows = []
    for r in board.rows:
        row = {"arm": r.arm, "final val acc %": round(100 * r.mean_acc, 1), "± std": round(100 * r.std_acc, 1), "runs": r.n,
               "vs no augmentation (points)": cell(r.vs_none)}
        if board.best != NONE_ARM:  # else "vs best" is the same column twice
            row[f"vs {board.best} (points)"] = cell(r.vs_best)
        rows.append(row)
    return rows


def winner_pipeline(result: SearchResult) -> dict[str, Any] | None:
    """The confirmed winner's pipeline in the engine's form (None when nothing completed)."""
    return None if result.best is None else result.best.pipeline


def with_epochs(spec: SearchSpec, epochs: int) -> SearchSpec:
    """``spec`` with a different number of epochs per trial."""
    return replace(spec, base=replace(spec.base, epochs=epochs))
