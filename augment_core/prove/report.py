"""A single, self-contained HTML report of an experiment: opens on its own, offline, years later.

Everything is inside the one file: plotly.js inline (once), the figures as plotly JSON, images
as ``data:`` URIs, the engine's verdict sentence, the spec and the library versions. There is
no external script, stylesheet, font or image, so the report opens from a USB stick or an
e-mail attachment without a network.

Example:
    >>> html = report_html(result, title="Augmentation demo", why=demo_why(), strip=before_after(spec, dataset))
    >>> Path("report.html").write_text(html, encoding="utf-8")
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from augment_core.prove.demo import BeforeAfter
from augment_core.experiment import ExperimentResult
from augment_core.prove.setup import enlarge, pipeline_summary
from augment_core.prove.report_figures import comparison_figure, curves_figure

_VERDICT_COLOURS = {"helped": "#1b7f3b", "hurt": "#b3261e", "no clear difference": "#3b5b8c", "not enough runs": "#8a6d00",
                    "cannot tell": "#8a6d00"}
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 24px; color: #1f2328; background: #ffffff; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .sub { color: #59636e; margin-top: 0; }
.verdict { border-left: 6px solid var(--c); background: #f6f8fa; padding: 12px 16px; font-size: 1.15em; }
.strip { display: grid; grid-template-columns: 9em repeat(var(--n), 1fr); gap: 6px; align-items: center; }
.strip img { width: 100%; image-rendering: pixelated; border-radius: 4px; }
.strip .label { font-weight: 600; } .strip .cap { text-align: center; font-size: 0.85em; color: #59636e; }
pre { background: #f6f8fa; padding: 12px; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; }
footer { color: #59636e; font-size: 0.85em; margin-top: 2em; }
"""


def image_data_uri(image: np.ndarray, *, side: int = 96) -> str:
    """A ``data:image/png;base64,...`` URI of an (H, W, 3) uint8 image, upscaled with nearest neighbour."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(np.asarray(image, dtype=np.uint8), side)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_div(fig: go.Figure, *, include_plotlyjs: bool) -> str:
    """A ``<div>`` with the figure; ``include_plotlyjs`` embeds plotly.js (do it for the first figure only)."""
    return fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True})


def strip_html(strip: BeforeAfter, *, side: int = 96) -> str:
    """Two rows of images, "before" above "after", each column one class."""
    cells = ['<div class="label">Before (as stored)</div>']
    cells += [f'<img alt="original {html.escape(c)}" src="{image_data_uri(im, side=side)}">'
              for im, c in zip(strip.originals, strip.captions)]
    cells.append('<div class="label">After (the pipeline)</div>')
    cells += [f'<img alt="augmented {html.escape(c)}" src="{image_data_uri(im, side=side)}">'
              for im, c in zip(strip.augmented, strip.captions)]
    cells.append("<div></div>")
    cells += [f'<div class="cap">{html.escape(c)}</div>' for c in strip.captions]
    return f'<div class="strip" style="--n:{len(strip.originals)}">' + "".join(cells) + "</div>"


def report_versions(result: ExperimentResult) -> dict[str, str]:
    """The run's stored library versions plus those that drew the report."""
    versions = dict(result.versions)
    for package in ("plotly", "streamlit"):
        try:
            versions.setdefault(package, importlib.metadata.version(package))
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _table(rows: Mapping[str, str]) -> str:
    return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items()) + "</table>"


def _verdict(comparison: Mapping[str, Any] | None, status: str) -> str:
    if not comparison or not comparison.get("n"):
        return '<p class="verdict" style="--c:#8a6d00">No seed finished both arms, so there is no verdict.</p>'
    colour = _VERDICT_COLOURS.get(str(comparison.get("verdict")), "#3b5b8c")
    text = html.escape(str(comparison["sentence"]))
    if status != "completed":
        text += f" (This run was {html.escape(status)}: the verdict covers only the seeds that finished.)"
    gains = ", ".join(f"{d:+.1f}" for d in comparison.get("differences", []))
    return (f'<p class="verdict" style="--c:{colour}" id="verdict">{text}</p>'
            f"<p>Per-seed change in final validation accuracy (points, with minus without): {html.escape(gains)}.</p>")


def report_html(result: ExperimentResult, *, title: str, why: str = "", strip: BeforeAfter | None = None,
                extra_figures: Sequence[tuple[str, go.Figure]] = ()) -> str:
    """The whole report as one HTML document (UTF-8 text).

    Args:
        result: A finished (or stopped) run; its curves are drawn unsmoothed, as measured.
        title: The report's heading.
        why: Plain-words explanation of why augmentation should help (the preset's text).
        strip: Before/after images to include, if any.
        extra_figures: More (heading, figure) pairs to append after the curves.
    """
    spec = result.spec
    records = [e.to_dict() for e in result.epochs]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="sub">{html.escape(spec.name)} · data: {html.escape(spec.dataset)} · '
             f"{len(result.epochs)} of {2 * spec.epochs * spec.replicates} epochs · {result.seconds:.0f} s of training"
             + (f" · finished {html.escape(result.finished_at[:16].replace('T', ' '))} UTC" if result.finished_at else "")
             + "</p>",
             "<h2>Verdict</h2>", _verdict(result.comparison, result.status)]
    figures: list[tuple[str, go.Figure]] = []
    if records:
        figures.append(("Validation accuracy, with and without augmentation",
                        comparison_figure(records, epochs=spec.epochs)))
        figures.append(("All curves side by side", curves_figure(records, epochs=spec.epochs)))
    figures.extend(extra_figures)
    for i, (heading, fig) in enumerate(figures):
        parts += [f"<h2>{html.escape(heading)}</h2>", figure_div(fig, include_plotlyjs=i == 0)]
    if not figures:
        parts.append("<p>No epoch finished, so there are no curves.</p>")
    if strip is not None and strip.originals:
        parts += ["<h2>Before and after</h2>", strip_html(strip)]
    if why:
        parts += ["<h2>Why augmentation helps here</h2>", f"<p>{html.escape(why)}</p>"]
    parts += ["<h2>Settings</h2>", f"<p>Augmentation: {html.escape(pipeline_summary(spec))}</p>",
              f"<pre id=\"spec\">{html.escape(json.dumps(spec.to_dict(), indent=2, sort_keys=True))}</pre>",
              "<h2>Library versions</h2>", _table(report_versions(result)),
              "<footer>Made with Augmentation Lab. The curves are the engine's measurements, unsmoothed; the interval is "
              "a Student-t interval over the paired per-seed differences.</footer>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>\n")
