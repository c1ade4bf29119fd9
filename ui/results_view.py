"""The results of an experiment, drawn from plain result data: reusable by any page.

* :func:`verdict_box`: the engine's verdict in plain words, coloured by outcome.
* :func:`curve_controls` + :func:`curves_panel`: side-by-side curves with the smoothing slider and
  the seeds toggle (the live training panel uses these too).
* :func:`results_view`: everything about a finished (or stopped) run: verdict, curves,
  confusion matrices, per-class accuracy, the images each arm got wrong, downloads.

Example (the stakeholder demo can reuse it)::

    from ui.results_view import results_view
    results_view(RunStore().load_run(run_id), key="demo")
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from augment_core import AugLabError
from augment_core.experiment import (ExperimentResult, ImageDataset, RunStore, TrainedModel, export_bundle, kept_model_version,
                                     load_trained, predict, prepare_image, trained_arms)
from augment_core.prove import next_steps, training_images_per_class
from augment_core.prove import enlarge, pipeline_summary
from augment_core.prove import (ARM_TITLES, comparison_figure, confusion_figure, curves_figure, figure_html, figure_png, per_class_figure, png_export_problem)
from augment_core.prove import misclassified, run_dataset
from ui.common import show_error
from ui.kept_data import kept_data

_VERDICT_STYLE = {"helped": ("success", ":material/trending_up:"), "hurt": ("error", ":material/trending_down:"),
                  "no clear difference": ("info", ":material/balance:"), "not enough runs": ("warning", ":material/info:"),
                  "cannot tell": ("warning", ":material/help:")}


def verdict_box(comparison: dict[str, Any] | None, *, status: str = "completed") -> None:
    """The engine's sentence, with its interval, styled by the verdict."""
    if not comparison or not comparison.get("n"):
        st.info("No seed finished both arms, so there is no verdict yet.", icon=":material/hourglass_empty:")
        return
    kind, icon = _VERDICT_STYLE.get(str(comparison.get("verdict")), ("info", ":material/info:"))
    text = f"**{comparison['sentence']}**"
    if status != "completed":
        text += f"\n\nThis run was {status}: the verdict covers only the {comparison['n']} seed(s) that finished."
    getattr(st, kind)(text, icon=icon)
    if comparison.get("method", "").startswith("bootstrap"):
        st.caption(f"The interval covers both the spread between seeds and the noise of {comparison.get('validation_images')} "
                   "validation images (a bootstrap over both); the p-value is a sign-flip test over those images.")


def next_steps_links(result: ExperimentResult, key: str) -> None:
    """When the verdict cannot tell, what to try next: links that fill the form."""
    steps = next_steps(result.comparison, result.spec, images_per_class=training_images_per_class(result))
    if not steps:
        return
    st.markdown("**What to try next**")
    for i, step in enumerate(steps):
        if step.query_params:
            st.page_link("pages/experiment.py", label=step.label, icon=":material/tune:", query_params=step.query_params,
                         help=f"{step.reason} Opens the form with this setting filled in.")
        else:
            st.markdown(f"- **{step.label}**: {step.reason}")


@st.cache_resource(max_entries=4, show_spinner="Loading the trained model…")
def _trained(run_id: int, arm: str, version: str) -> TrainedModel:
    """``version`` names the kept file (kept_model_version), so another data folder's or database's run ``run_id`` is a miss."""
    return load_trained(RunStore().load_run(run_id), arm)


def try_model(result: ExperimentResult, key: str) -> None:
    """Upload a new image and see each arm's top classes side by side; download each arm's model."""
    arms = trained_arms(result)
    if not arms:
        st.info("This run kept no trained model (models are kept for stored runs whose first seed finished).",
                icon=":material/model_training:")
        return
    upload = st.file_uploader("A new image to classify", type=["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"],
                              key=f"{key}:try", help="Each arm's model (first seed) classifies it, made square the way the run's images were.")
    columns = st.columns(len(arms), gap="large")
    for column, arm in zip(columns, arms):
        with column:
            st.markdown(f"**{ARM_TITLES[arm]}**")
            try:
                trained = _trained(int(result.run_id), arm, kept_model_version(result, arm))  # type: ignore[arg-type]
                if upload is not None:
                    top = predict(trained, upload.getvalue(), name=upload.name)
                    st.image(enlarge((prepare_image(trained, upload.getvalue(), upload.name)[0].permute(1, 2, 0).numpy() * 255)
                                     .round().astype("uint8"), 160), width=160, caption="as the model sees it")
                    for label, prob in top:
                        st.progress(prob, text=f"{label}: {prob:.1%}")
            except AugLabError as exc:
                show_error(exc)
                continue
            st.download_button("Download this model (ONNX, TorchScript, labels, predict.py)",
                               data=lambda t=trained: export_bundle(t), file_name=f"run{result.run_id}_{arm}_model.zip",
                               mime="application/zip", key=f"{key}:export:{arm}", icon=":material/download:", on_click="ignore",
                               help="A zip: model.onnx (checked with onnxruntime against torch), model.torchscript.pt, "
                                    "model.json (labels, input size, squaring, normalisation, pipeline) and predict.py.")


def curve_controls(key: str) -> tuple[float, bool]:
    """The smoothing slider and the individual-seeds toggle; returns (smoothing, show_seeds)."""
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    smoothing = left.slider("Smoothing (display only)", 0.0, 0.95, 0.0, 0.05, key=f"{key}:smoothing",
                            help="TensorBoard-style exponential moving average of the curves. 0 shows the raw numbers; "
                                 "when smoothing, the raw mean stays visible as a faint line. The verdict never uses it.")
    show_seeds = right.toggle("Show individual seeds", key=f"{key}:seeds",
                              help="Draw every seed's curve as a thin line beside the mean and its ±1 std band.")
    # One preference for every chart of the session (read by the charts through FULL_RANGE).
    st.session_state.setdefault(FULL_RANGE, False)
    right.toggle("Accuracy axis 0–100 %", key=FULL_RANGE,
                 help="Off: the accuracy axis is fitted to the curves, so small differences show. On: the full 0–100 % range.")
    return smoothing, show_seeds


FULL_RANGE = "curves:full_range"  # session preference: accuracy axes from 0 to 100 % instead of fitted


def _downloads(fig: go.Figure, name: str, key: str) -> None:
    """HTML always; PNG when kaleido and a browser are available, otherwise why not."""
    html_col, png_col = st.columns(2)
    html_col.download_button("Curves as interactive HTML", data=lambda: figure_html(fig), file_name=f"{name}.html",
                             mime="text/html", key=f"{key}:html", icon=":material/download:", on_click="ignore",
                             help="An interactive chart in one HTML file that opens offline.")
    problem = png_export_problem()
    if problem is None:
        png_col.download_button("Curves as PNG", data=lambda: figure_png(fig), file_name=f"{name}.png", mime="image/png",
                                key=f"{key}:png", icon=":material/image:", on_click="ignore",
                                help="The same chart as a picture, for slides and documents.")
    else:
        png_col.caption(problem)


def curves_panel(records: list[dict[str, Any]], *, epochs: int, key: str, smoothing: float, show_seeds: bool,
                 file_name: str = "curves") -> None:
    """Side-by-side curves (without | with augmentation) and their downloads."""
    if not records:
        st.info("The curves appear when the first epoch finishes.", icon=":material/show_chart:")
        return
    fig = curves_figure(records, smoothing=smoothing, show_seeds=show_seeds, epochs=epochs,
                        full_range=bool(st.session_state.get(FULL_RANGE)))
    st.plotly_chart(fig, key=f"{key}:curves", config={"displaylogo": False})
    _downloads(fig, file_name, key)


def _dataset(spec_json: str, fingerprint: str) -> ImageDataset:
    """The images of a stored run (rebuilt once per spec and data, kept within the server's data budget)."""
    from augment_core.experiment import ExperimentSpec

    return kept_data(("run", spec_json, fingerprint), "Loading the run's images…",
                     lambda: run_dataset(ExperimentResult(ExperimentSpec.from_json(spec_json), dataset_fingerprint=fingerprint)))


def _mistakes(result: ExperimentResult, key: str) -> None:
    if not result.finals:
        st.info("No seed finished, so there are no final predictions.", icon=":material/hourglass_empty:")
        return
    try:
        dataset = _dataset(result.spec.to_json(), result.dataset_fingerprint)
    except AugLabError as exc:
        show_error(exc)
        return
    replicates = sorted({f.replicate for f in result.finals})
    replicate = st.selectbox("Seed", replicates, format_func=lambda r: f"seed {r + 1}", key=f"{key}:mistake_seed",
                             help="Each seed has its own split, so each has its own validation images.")
    for column, arm in zip(st.columns(2, gap="large"), ("plain", "augmented")):
        wrong = misclassified(result, dataset, arm=arm, replicate=replicate)
        column.markdown(f"**{ARM_TITLES[arm]}**: {wrong.total} validation image(s) wrong"
                        + (f" (first {len(wrong.images)} shown)" if wrong.total > len(wrong.images) else ""))
        if wrong.images:
            column.image([enlarge(im, 96) for im in wrong.images], caption=wrong.captions, width=96)


def _exports(result: ExperimentResult, key: str) -> None:
    if result.run_id is None:
        st.caption("This result is not stored, so it has no CSV or JSON export.")
        return
    run_id = int(result.run_id)
    csv_col, json_col = st.columns(2)
    csv_col.download_button("Metrics as CSV", data=lambda: RunStore().export_csv(run_id), file_name=f"run{run_id}_metrics.csv",
                            mime="text/csv", key=f"{key}:csv", icon=":material/table:", on_click="ignore",
                            help="Every epoch's metrics, one row per arm, seed and epoch, for a spreadsheet.")
    json_col.download_button("The whole run as JSON", data=lambda: RunStore().export_json(run_id), file_name=f"run{run_id}.json",
                             mime="application/json", key=f"{key}:json", icon=":material/data_object:", on_click="ignore",
                             help="Settings, metrics, final evaluations and versions, as one JSON file.")


def results_view(result: ExperimentResult, *, key: str) -> None:
    """Everything about one run: verdict, curves, confusion, per-class accuracy, mistakes, downloads."""
    spec = result.spec
    if result.status != "completed":
        kind = st.error if result.status in ("failed", "interrupted") else st.warning
        kind(f"This run was **{result.status}**" + (f": {result.message}" if result.message else "."), icon=":material/info:")
    verdict_box(result.comparison, status=result.status)
    next_steps_links(result, key)
    st.caption(f"{spec.name} · data: {spec.dataset if '/' not in spec.dataset else 'uploaded images'} · "
               f"pipeline: {pipeline_summary(spec)} · {len(result.epochs)} of {2 * spec.epochs * spec.replicates} "
               f"epochs finished · {result.seconds:.0f} s")
    records = [e.to_dict() for e in result.epochs]
    curves_tab, confusion_tab, class_tab, mistakes_tab, model_tab, spec_tab = st.tabs(
        ["Curves", "Confusion matrices", "Per-class accuracy", "Misclassified images", "Try the model", "Settings and exports"])
    with curves_tab:
        smoothing, show_seeds = curve_controls(key)
        if records:
            st.plotly_chart(comparison_figure(records, smoothing=smoothing, show_seeds=show_seeds, epochs=spec.epochs,
                                              full_range=bool(st.session_state.get(FULL_RANGE))),
                            key=f"{key}:headline", config={"displaylogo": False})
        curves_panel(records, epochs=spec.epochs, key=key, smoothing=smoothing, show_seeds=show_seeds,
                     file_name=f"run{result.run_id or ''}_curves")
    finals = [f.to_dict() for f in result.finals]
    with confusion_tab:
        if finals:
            st.plotly_chart(confusion_figure(finals, result.class_names), key=f"{key}:confusion")
        else:
            st.info("No seed finished, so there are no confusion matrices.", icon=":material/hourglass_empty:")
    with class_tab:
        if finals:
            st.plotly_chart(per_class_figure(finals, result.class_names), key=f"{key}:per_class")
        else:
            st.info("No seed finished, so there is no per-class accuracy.", icon=":material/hourglass_empty:")
    with mistakes_tab:
        _mistakes(result, key)
    with model_tab:
        try_model(result, key)
    with spec_tab:
        _exports(result, key)
        st.code(spec.to_json(), language="json")
        if result.versions:
            st.caption("Library versions: " + ", ".join(f"{k} {v}" for k, v in result.versions.items()))
