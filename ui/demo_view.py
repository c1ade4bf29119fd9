"""The stakeholder demo's views: the before/after strip, the slide-like summary and its exports.

The page (``pages/demo.py``) decides which state it is in; these functions only draw plain
data that :mod:`augment_core.prove.demo` and the engine produced.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from augment_core.prove import BeforeAfter, demo_title, demo_why
from augment_core.experiment import ExperimentResult
from augment_core.prove import enlarge, pipeline_summary
from augment_core.prove import comparison_figure, figure_png, png_export_problem
from augment_core.prove import report_html
from ui.results_view import verdict_box

TILE = 88  # pixels per image in the strip


def before_after_strip(strip: BeforeAfter) -> None:
    """Two aligned rows: the stored images, then the same images after the pipeline."""
    label, images = st.columns([1, 7], vertical_alignment="center")
    label.markdown("**Before**  \nas stored")
    images.image([enlarge(im, TILE) for im in strip.originals], caption=strip.captions, width=TILE)
    label, images = st.columns([1, 7], vertical_alignment="center")
    label.markdown("**After**  \nthe pipeline")
    images.image([enlarge(im, TILE) for im in strip.augmented], caption=strip.captions, width=TILE)


def _final_mean(result: ExperimentResult, arm: str) -> float | None:
    values = [f.val_acc for f in result.finals if f.arm == arm]
    return float(np.mean(values)) * 100 if values else None


def summary_view(result: ExperimentResult, strip: BeforeAfter | None, *, key: str) -> None:
    """The slide: verdict with its interval, the two curves, the numbers, before/after, why."""
    spec = result.spec
    st.subheader(demo_title())
    verdict_box(result.comparison, status=result.status)
    chart, numbers = st.columns([3, 1.2], gap="large")
    records = [e.to_dict() for e in result.epochs]
    with chart:
        if records:  # the engine's curves as measured: no smoothing, mean ±1 std over seeds
            st.plotly_chart(comparison_figure(records, epochs=spec.epochs), key=f"{key}:curves", theme="streamlit",
                            config={"displaylogo": False})
        else:
            st.info("No epoch finished, so there are no curves.", icon=":material/show_chart:")
    with numbers:
        plain, augmented = _final_mean(result, "plain"), _final_mean(result, "augmented")
        comparison = result.comparison or {}
        if plain is not None:
            st.metric("Without augmentation", f"{plain:.1f}%", help="Final validation accuracy, mean over seeds.")
        if augmented is not None:
            st.metric("With augmentation", f"{augmented:.1f}%", help="Final validation accuracy, mean over seeds.")
        if comparison.get("n"):
            low, high = comparison.get("ci_low"), comparison.get("ci_high")
            interval = f"95% CI {low:+.1f} to {high:+.1f}" if low == low and high == high else "no interval (one seed)"
            st.metric("Change (points)", f"{comparison['mean']:+.1f}", delta=interval, delta_color="off",
                      help="Mean over seeds of (with − without), paired by seed, and its confidence interval.")
        st.caption(f"{spec.replicates} seeds × {spec.epochs} epochs per arm · {spec.train_per_class or 'all'} training "
                   f"images per class · {result.seconds:.0f} s on this machine")
    if strip is not None:
        st.markdown("**What the augmented model saw** · one image of each class, before and after the pipeline "
                    f"({pipeline_summary(spec)})")
        before_after_strip(strip)
    st.markdown("**Why augmentation helps here**")
    st.markdown(demo_why())


def exports(result: ExperimentResult, strip: BeforeAfter | None, *, key: str) -> None:
    """The single-file HTML report, and the curves as PNG (or the one-line reason why not)."""
    html_col, png_col = st.columns(2)
    html_col.download_button(
        "Download the report (HTML)", data=lambda: report_html(result, title=demo_title(), why=demo_why(), strip=strip),
        file_name="augmentation_demo_report.html", mime="text/html", key=f"{key}:report", icon=":material/download:",
        on_click="ignore", type="primary",
        help="One self-contained file: the curves (interactive), verdict, images, settings and versions. Opens offline.")
    problem = png_export_problem()
    if problem is None and result.epochs:
        fig = comparison_figure([e.to_dict() for e in result.epochs], epochs=result.spec.epochs)
        png_col.download_button("Download the curves (PNG)", data=lambda: figure_png(fig), file_name="augmentation_demo_curves.png",
                                mime="image/png", key=f"{key}:png", icon=":material/image:", on_click="ignore",
                                help="The two validation-accuracy curves as a picture for slides.")
    elif problem is not None:
        png_col.caption(f"No PNG here: {problem}")
