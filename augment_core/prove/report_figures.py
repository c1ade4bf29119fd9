"""Plotly figures of an experiment, built from plain result data (no streamlit).

Every function takes epoch records or final evaluations as dicts (``EpochRecord.to_dict()``,
``FinalEvaluation.to_dict()``), so live snapshots, stored runs and tests all use the same code.
Curves are never altered: smoothing is an optional display aid (TensorBoard's debiased
exponential moving average), always labelled, with the raw curve drawn beside it.

Example:
    >>> fig = curves_figure([e.to_dict() for e in result.epochs], smoothing=0.6)
    >>> html = figure_html(fig)
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from augment_core.errors import AugLabError

ARMS: tuple[str, str] = ("plain", "augmented")
ARM_TITLES = {"plain": "Without augmentation", "augmented": "With augmentation"}
ARM_COLOURS = {"plain": (76, 120, 168), "augmented": (245, 133, 24)}
METRIC_TITLES = {"val_acc": "Validation accuracy (%)", "train_acc": "Training accuracy (%)",
                 "val_loss": "Validation loss", "train_loss": "Training loss"}
PERCENT = {"val_acc", "train_acc"}

Records = Iterable[Mapping[str, Any]]


def ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: a debiased exponential moving average (``weight`` 0 = raw, <1).

    Debiasing (dividing by ``1 - weight**k``) keeps the first points from being pulled to zero.

    Example:
        >>> ema([1.0, 1.0, 1.0], 0.9)
        [1.0, 1.0, 1.0]
    """
    if not 0 <= weight < 1:
        raise ValueError("smoothing weight must be in [0, 1)")
    out, last, count = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last, count = last * weight + (1 - weight) * v, count + 1
        out.append(last / (1 - weight**count))
    return out


def _rgba(arm: str, alpha: float) -> str:
    r, g, b = ARM_COLOURS[arm]
    return f"rgba({r},{g},{b},{alpha})"


def _scale(metric: str) -> float:
    return 100.0 if metric in PERCENT else 1.0


def by_replicate(records: Records, metric: str) -> dict[str, dict[int, list[tuple[int, float]]]]:
    """``{arm: {replicate: [(epoch, value), ...]}}`` sorted by epoch, in display units (% for accuracies)."""
    out: dict[str, dict[int, list[tuple[int, float]]]] = {arm: {} for arm in ARMS}
    for r in records:
        out.setdefault(str(r["arm"]), {}).setdefault(int(r["replicate"]), []).append(
            (int(r["epoch"]), float(r[metric]) * _scale(metric)))
    for reps in out.values():
        for series in reps.values():
            series.sort()
    return out


def mean_band(records: Records, metric: str) -> dict[str, tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
    """Per arm: (epochs, mean, std, n) over replicates, in display units; std is the sample std (0 for one)."""
    grouped: dict[str, dict[int, list[float]]] = {arm: {} for arm in ARMS}
    for arm, reps in by_replicate(records, metric).items():
        for series in reps.values():
            for epoch, value in series:
                grouped.setdefault(arm, {}).setdefault(epoch, []).append(value)
    out = {}
    for arm, epochs in grouped.items():
        xs = sorted(epochs)
        vals = [np.asarray(epochs[e]) for e in xs]
        out[arm] = (xs, np.array([v.mean() for v in vals]), np.array([v.std(ddof=1) if len(v) > 1 else 0.0 for v in vals]),
                    np.array([len(v) for v in vals]))
    return out


def _add_arm(fig: go.Figure, records: list[Mapping[str, Any]], metric: str, arm: str, *, row: int | None, col: int | None,
             smoothing: float, show_seeds: bool, dash: str = "solid", name: str | None = None, legend: bool = True) -> None:
    """Mean line, ±1 std band and (optionally) each replicate, for one arm and metric."""
    xs, mean, std, n = mean_band(records, metric).get(arm, ([], np.array([]), np.array([]), np.array([])))
    if not xs:
        return
    where = {"row": row, "col": col} if row is not None else {}
    label = name or ARM_TITLES[arm]
    smooth = (lambda v: ema(list(v), smoothing)) if smoothing > 0 else list
    group = f"{arm}-{metric}"
    if n.max() > 1:
        fig.add_trace(go.Scatter(x=xs, y=smooth(mean + std), mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=group), **where)
        fig.add_trace(go.Scatter(x=xs, y=smooth(mean - std), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(arm, 0.18), hoverinfo="skip", name=f"{label}: ±1 std over seeds",
                                 showlegend=False, legendgroup=group), **where)
    if show_seeds:
        for rep, series in sorted(by_replicate(records, metric).get(arm, {}).items()):
            sx, sy = zip(*series)
            fig.add_trace(go.Scatter(x=list(sx), y=smooth(sy), mode="lines", line={"width": 1, "color": _rgba(arm, 0.45), "dash": dash},
                                     name=f"{label}: seed {rep + 1}", legendgroup=group, showlegend=False,
                                     hovertemplate=f"seed {rep + 1}, epoch %{{x}}: %{{y:.3g}}<extra></extra>"), **where)
    if smoothing > 0:  # the raw mean stays visible: smoothing never hides the data
        fig.add_trace(go.Scatter(x=xs, y=list(mean), mode="lines", line={"width": 1, "color": _rgba(arm, 0.35), "dash": dash},
                                 name=f"{label} (raw mean)", legendgroup=group, showlegend=False,
                                 hovertemplate="raw mean, epoch %{x}: %{y:.3g}<extra></extra>"), **where)
    suffix = f" (smoothed, EMA {smoothing:g})" if smoothing > 0 else ""
    fig.add_trace(go.Scatter(x=xs, y=smooth(mean), mode="lines+markers" if len(xs) < 3 else "lines",
                             line={"width": 2.5, "color": _rgba(arm, 1.0), "dash": dash}, name=f"{label}{suffix}",
                             legendgroup=group, showlegend=legend,
                             customdata=np.stack([std, n], axis=1),
                             hovertemplate="epoch %{x}: mean %{y:.3g} ± %{customdata[0]:.2g} (n=%{customdata[1]})<extra></extra>"),
                  **where)


def _note(smoothing: float, show_seeds: bool, replicates: int) -> str:
    parts = [f"mean over {replicates} seed(s)" + (", band = ±1 std" if replicates > 1 else "")]
    if show_seeds:
        parts.append("thin lines = individual seeds")
    if smoothing > 0:
        parts.append(f"smoothed for display (EMA {smoothing:g}); faint line = raw mean")
    return " · ".join(parts)


def accuracy_range(records: Records, metrics: Sequence[str], *, full_range: bool = False) -> list[float]:
    """The y range for accuracy panels: fitted to the data (with a margin), or 0–100 % with ``full_range``.

    A fixed 0–100 % axis squashes an 8-point difference between the arms into a sliver; fitting
    the axis shows it. The margin is a tenth of the spread, at least 2 points, and the range never
    leaves 0–101 %.
    """
    values = [float(r[m]) * 100 for r in records for m in metrics if r.get(m) is not None and math.isfinite(float(r[m]))]
    groups: dict[tuple[Any, Any, str], list[float]] = {}  # the ±1 std bands reach past the seeds' own values
    for r in records:
        for m in metrics:
            if r.get(m) is not None and math.isfinite(float(r[m])):
                groups.setdefault((r.get("arm"), r.get("epoch"), m), []).append(float(r[m]) * 100)
    for group in groups.values():
        if len(group) > 1:
            mean, std = statistics.fmean(group), statistics.stdev(group)
            values += [mean - std, mean + std]
    if full_range or not values:
        return [0.0, 101.0]
    low, high = min(values), max(values)
    margin = max(2.0, (high - low) * 0.1)
    return [max(0.0, low - margin), min(101.0, high + margin)]


def curves_figure(records: Records, *, smoothing: float = 0.0, show_seeds: bool = False,
                  epochs: int | None = None, full_range: bool = False) -> go.Figure:
    """Without | with augmentation side by side: validation accuracy, training accuracy and loss.

    Rows share their y axis across the two columns and every panel shares the x axis, so the
    arms compare at a glance. ``epochs`` fixes the x range (live curves grow into a fixed frame).
    """
    records = list(records)
    fig = make_subplots(rows=3, cols=2, shared_xaxes="all", shared_yaxes="rows", vertical_spacing=0.07,
                        horizontal_spacing=0.04, subplot_titles=[ARM_TITLES["plain"], ARM_TITLES["augmented"], "", "", "", ""])
    for col, arm in enumerate(ARMS, start=1):
        for row, metric in enumerate(("val_acc", "train_acc"), start=1):
            _add_arm(fig, records, metric, arm, row=row, col=col, smoothing=smoothing, show_seeds=show_seeds,
                     legend=row == 1)
        _add_arm(fig, records, "val_loss", arm, row=3, col=col, smoothing=smoothing, show_seeds=show_seeds,
                 name=f"{ARM_TITLES[arm]}: validation loss", legend=True)
        _add_arm(fig, records, "train_loss", arm, row=3, col=col, smoothing=smoothing, show_seeds=show_seeds,
                 dash="dot", name=f"{ARM_TITLES[arm]}: training loss (dotted)", legend=True)
    for row, title in enumerate(("Validation accuracy (%)", "Training accuracy (%)", "Loss (solid: validation, dotted: training)"), 1):
        fig.update_yaxes(title_text=title if row < 3 else "Loss", row=row, col=1)
    # Both accuracy rows share one fitted range, so training and validation stay comparable.
    fitted = accuracy_range(records, ("val_acc", "train_acc"), full_range=full_range)
    fig.update_yaxes(range=fitted, row=1)
    fig.update_yaxes(range=fitted, row=2)
    fig.update_yaxes(rangemode="tozero", row=3)
    fig.update_xaxes(title_text="epoch", row=3)
    if epochs:
        fig.update_xaxes(range=[0.8, epochs + 0.2], dtick=max(1, math.ceil(epochs / 10)))
    replicates = len({int(r["replicate"]) for r in records}) or 1
    fig.update_layout(height=760, margin={"l": 60, "r": 20, "t": 60, "b": 40}, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.08}, title={"text": _note(smoothing, show_seeds, replicates),
                                                                          "font": {"size": 12}, "x": 0.01})
    return fig


def comparison_figure(records: Records, *, smoothing: float = 0.0, show_seeds: bool = False,
                      epochs: int | None = None, metric: str = "val_acc", full_range: bool = False) -> go.Figure:
    """Both arms on one axis for one metric (default validation accuracy): the headline chart."""
    records = list(records)
    fig = go.Figure()
    for arm in ARMS:
        _add_arm(fig, records, metric, arm, row=None, col=None, smoothing=smoothing, show_seeds=show_seeds)
    replicates = len({int(r["replicate"]) for r in records}) or 1
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 50, "b": 40}, hovermode="x unified",
                      xaxis_title="epoch", yaxis_title=METRIC_TITLES[metric], legend={"orientation": "h", "y": -0.2},
                      title={"text": _note(smoothing, show_seeds, replicates), "font": {"size": 12}, "x": 0.01})
    if metric in PERCENT:
        fig.update_yaxes(range=accuracy_range(records, (metric,), full_range=full_range))
    if epochs:
        fig.update_xaxes(range=[0.8, epochs + 0.2], dtick=max(1, math.ceil(epochs / 10)))
    return fig


def overlay_figure(runs: Sequence[tuple[str, Records]], *, metric: str = "val_acc", smoothing: float = 0.0) -> go.Figure:
    """Mean curves of several runs on one axis: solid = with augmentation, dotted = without."""
    fig = go.Figure()
    palette = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC"]
    for i, (label, records) in enumerate(runs):
        colour = palette[i % len(palette)]
        for arm, dash in (("augmented", "solid"), ("plain", "dot")):
            xs, mean, _, _ = mean_band(list(records), metric).get(arm, ([], np.array([]), None, None))
            if not xs:
                continue
            ys = ema(list(mean), smoothing) if smoothing > 0 else list(mean)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "dash": dash, "width": 2},
                                     name=f"{label} · {ARM_TITLES[arm].lower()}"))
    title = f"{METRIC_TITLES[metric]}, mean over seeds" + (f" · smoothed for display (EMA {smoothing:g})" if smoothing > 0 else "")
    fig.update_layout(height=460, xaxis_title="epoch", yaxis_title=METRIC_TITLES[metric], hovermode="x unified",
                      title={"text": title, "font": {"size": 13}}, legend={"orientation": "h", "y": -0.2},
                      margin={"l": 60, "r": 20, "t": 50, "b": 40})
    return fig


def summed_confusion(finals: Iterable[Mapping[str, Any]], arm: str, classes: int) -> np.ndarray:
    """Confusion counts of ``arm`` summed over replicates: ``[true, predicted]``."""
    total = np.zeros((classes, classes), dtype=np.int64)
    for f in finals:
        if f["arm"] == arm:
            total += np.asarray(f["confusion"], dtype=np.int64)
    return total


def confusion_figure(finals: Iterable[Mapping[str, Any]], class_names: Sequence[str]) -> go.Figure:
    """Both arms' confusion matrices side by side (rows: true class, columns: predicted), summed over seeds."""
    finals = list(finals)
    names = list(class_names)
    fig = make_subplots(rows=1, cols=2, subplot_titles=[ARM_TITLES[a] for a in ARMS], horizontal_spacing=0.12)
    for col, arm in enumerate(ARMS, start=1):
        cm = summed_confusion(finals, arm, len(names))
        support = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, support, out=np.zeros(cm.shape), where=support > 0) * 100
        fig.add_trace(go.Heatmap(z=share, x=names, y=names, text=cm, texttemplate="%{text}", zmin=0, zmax=100,
                                 colorscale="Blues", showscale=col == 2, colorbar={"title": "% of true"},
                                 hovertemplate="true %{y}, predicted %{x}: %{text} (%{z:.0f}%)<extra></extra>"), row=1, col=col)
        fig.update_yaxes(autorange="reversed", title_text="true class" if col == 1 else None, row=1, col=col)
        fig.update_xaxes(title_text="predicted class", row=1, col=col)
    reps = len({int(f["replicate"]) for f in finals})
    fig.update_layout(height=420, margin={"l": 60, "r": 20, "t": 70, "b": 40},
                      title={"text": f"Final epoch, validation images, counts summed over {reps} seed(s)", "font": {"size": 12}})
    return fig


def per_class_figure(finals: Iterable[Mapping[str, Any]], class_names: Sequence[str]) -> go.Figure:
    """Per-class validation accuracy of both arms (mean over seeds, error bar ±1 std)."""
    finals = list(finals)
    fig = go.Figure()
    for arm in ARMS:
        rows = np.array([f["per_class_acc"] for f in finals if f["arm"] == arm], dtype=np.float64) * 100
        if rows.size == 0:
            continue
        mean = np.nanmean(rows, axis=0)
        std = np.nanstd(rows, axis=0, ddof=1) if len(rows) > 1 else np.zeros(len(class_names))
        fig.add_trace(go.Bar(x=list(class_names), y=mean, name=ARM_TITLES[arm], marker_color=_rgba(arm, 0.9),
                             error_y={"type": "data", "array": std, "visible": len(rows) > 1}))
    fig.update_layout(barmode="group", height=360, yaxis={"title": "validation accuracy (%)", "range": [0, 105]},
                      margin={"l": 60, "r": 20, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.2},
                      title={"text": "Per-class accuracy at the final epoch (mean over seeds, bar = ±1 std)", "font": {"size": 12}})
    return fig


def figure_html(fig: go.Figure) -> str:
    """A self-contained interactive HTML page (plotly.js embedded: opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def png_export_problem() -> str | None:
    """Why PNG export cannot work here, or None when it can (kaleido installed and a Chrome/Chromium found)."""
    try:
        import kaleido  # noqa: F401
        from choreographer.browsers.chromium import Chromium
    except ImportError:
        return "PNG export needs the kaleido package (pip install kaleido); the interactive HTML works without it."
    path = Chromium.find_browser(skip_local=False)  # BROWSER_PATH, then PATH, then typical install places
    if not path or not os.access(path, os.X_OK):
        return ("PNG export needs Chrome or Chromium, which kaleido could not find (install chromium, or point "
                "BROWSER_PATH at it); the interactive HTML works without it.")
    return None


def figure_png(fig: go.Figure, *, width: int = 1400, height: int | None = None, scale: float = 2.0) -> bytes:
    """Render ``fig`` to PNG bytes with kaleido, or raise :class:`AugLabError` saying what is missing."""
    problem = png_export_problem()
    if problem is not None:
        raise AugLabError(problem, field="png")
    try:
        return fig.to_image(format="png", width=width, height=height or fig.layout.height or 600, scale=scale)
    except Exception as exc:  # kaleido/choreographer raise their own types when the browser fails
        raise AugLabError(f"PNG export failed ({type(exc).__name__}: {exc}).", hint="Download the HTML instead.",
                          field="png") from exc
