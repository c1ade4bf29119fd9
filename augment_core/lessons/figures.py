"""Plotly figure helpers shared by the lessons: plain figure construction, no Streamlit.

Colours are chosen to read on both the light and the dark theme; the page draws the figures
with Streamlit's theme, which sets fonts and backgrounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

BEFORE = "#7f8c9d"  # grey-blue: the original
AFTER = "#e4572e"  # orange-red: after the transform
ACCENT = "#2e86de"  # blue: a second result
GOOD = "#29a36a"  # green: kept, trainable, label preserved
FROZEN = "#8395a7"  # grey: frozen, lost


def finish(fig: go.Figure, title: str, *, height: int = 340, x_title: str = "", y_title: str = "") -> go.Figure:
    """Common layout: title, compact margins, legend on top, axis titles."""
    fig.update_layout(
        title={"text": title, "font": {"size": 15}}, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "xanchor": "left", "x": 0.0},  # below: titles stay readable
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def level_histogram(values: np.ndarray, bins: int = 256, low: float = 0, high: float = 256) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``values`` in ``bins`` equal bins over [low, high); returns (centres, counts)."""
    counts, edges = np.histogram(np.asarray(values).ravel(), bins=bins, range=(low, high))
    return (edges[:-1] + edges[1:]) / 2, counts


def histogram_figure(series: dict[str, np.ndarray], title: str, *, colours: Sequence[str] = (BEFORE, AFTER, ACCENT),
                     bins: int = 64, low: float = 0, high: float = 256, x_title: str = "intensity",
                     log_y: bool = False) -> go.Figure:
    """Overlaid step histograms of each named array over the same bins."""
    fig = go.Figure()
    for (name, values), colour in zip(series.items(), colours):
        centres, counts = level_histogram(values, bins, low, high)
        fig.add_trace(go.Scatter(x=centres, y=counts, name=name, mode="lines", line={"shape": "hvh", "color": colour},
                                 fill="tozeroy", opacity=0.6))
    if log_y:
        fig.update_yaxes(type="log")
    return finish(fig, title, x_title=x_title, y_title="pixels")


def curve_figure(x: np.ndarray, curves: dict[str, np.ndarray], title: str, *, marker: tuple[float, float] | None = None,
                 colours: Sequence[str] = (AFTER, ACCENT, BEFORE, GOOD), x_title: str = "", y_title: str = "",
                 height: int = 340) -> go.Figure:
    """Line plot of several named curves over the same ``x``, with an optional marked point."""
    fig = go.Figure()
    for (name, y), colour in zip(curves.items(), colours):
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line={"color": colour, "width": 2.5}))
    if marker is not None:
        fig.add_trace(go.Scatter(x=[marker[0]], y=[marker[1]], name="now", mode="markers",
                                 marker={"size": 12, "color": AFTER, "line": {"width": 2, "color": "white"}}))
    return finish(fig, title, x_title=x_title, y_title=y_title, height=height)


def heatmap_figure(values: np.ndarray, title: str, *, digits: int = 3, colourscale: str = "Blues") -> go.Figure:
    """A matrix (a blur kernel, a confusion of classes) as a heatmap with each value written in its cell."""
    values = np.asarray(values, dtype=float)
    text = [[f"{v:.{digits}f}" for v in row] for row in values]
    show_text = values.size <= 121  # past 11x11 the numbers no longer fit
    fig = go.Figure(go.Heatmap(z=values, text=text if show_text else None, texttemplate="%{text}" if show_text else None,
                               colorscale=colourscale, showscale=False))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return finish(fig, title)


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str, *, colours: Sequence[str] | str = ACCENT,
               text: Sequence[str] | None = None, y_title: str = "", y_range: tuple[float, float] | None = None) -> go.Figure:
    """Vertical bars with their values written on them."""
    fig = go.Figure(go.Bar(x=list(labels), y=list(values), marker_color=colours if isinstance(colours, str) else list(colours),
                           text=list(text) if text is not None else [f"{v:.2f}" for v in values], textposition="auto"))
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return finish(fig, title, y_title=y_title)
