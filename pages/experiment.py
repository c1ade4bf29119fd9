"""Experiment: train with and without augmentation, watch both curves grow, read the verdict."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError
from augment_core.experiment import DEMO_PIPELINE, RunStore, get_spec_preset_info
from augment_core.prove import (check_pipeline, enlarge, estimate_time, pipeline_summary, show_batch, training_data_line,
                                 validation_warning)
from augment_core.prove import default_manager, format_duration
from ui.common import page_header, show_error
from ui.experiment_form import augmentation_section, build_spec, data_section, training_section
from ui.form_memory import apply_link, remember_form, restore_form
from ui.job_panel import current_snapshot, live_job_panel, owner_token, session_secret
from ui.results_view import results_view

page_header("Experiment", "Fine-tune the same model twice, with and without your augmentation, everything else identical, "
            "over several seeds, and see whether augmentation really helps.")
manager = default_manager()
owner = owner_token()
snap = current_snapshot(manager, owner)

if snap is not None and snap.running:
    st.subheader(f"{'Queued' if snap.queued else 'Training'}: {snap.spec.name}")
    st.caption(f"Pipeline: {pipeline_summary(snap.spec)} · a worker process trains it and stores every finished epoch "
               "at once; you can reload this page, visit others, or send this page's link to someone to watch it.")
    live_job_panel(manager, snap.job_id)
    st.stop()

if snap is not None and st.session_state.get("exp:hidden") != snap.job_id:
    st.subheader(f"Result: {snap.spec.name}")
    if snap.result is not None:
        results_view(snap.result if snap.run_id is None else RunStore().load_run(snap.run_id), key=f"result:{snap.job_id}")
    else:
        st.error(f"**The run could not start.** {snap.message}", icon=":material/error:")
    if st.button("Hide this result", icon=":material/visibility_off:", help="It stays on the Runs page."):
        st.session_state["exp:hidden"] = snap.job_id
        st.rerun()
    st.divider()
    st.header("Set up the next run")

restore_form()  # the form shows what the user chose before this run, page visit or rerun
for problem in apply_link():  # links from the Learn lessons preset the form
    st.warning(problem, icon=":material/link_off:")
st.subheader("1 · Data")
choice = data_section()
data_line = st.empty()  # filled once the training settings are known: what the run will really train on
st.subheader("2 · Augmentation")
pipeline, mixup, cutmix = augmentation_section(choice.prepared, choice.source)
st.subheader("3 · Training")
spec = None
try:
    training = training_section(choice.source, choice.prepared)
    if choice.prepared is not None:
        spec = build_spec(choice, pipeline, mixup, cutmix, training)
        check_pipeline(spec, choice.prepared.dataset)
except AugLabError as exc:
    show_error(exc)
    spec = None
remember_form()
if spec is not None and choice.prepared is not None:
    data_line.info(f"**This run trains on {training_data_line(spec, choice.prepared.dataset)}** "
                   "(set by the validation share and training images per class below).", icon=":material/dataset:")
if spec is not None and choice.prepared is not None and (too_few := validation_warning(spec, choice.prepared.dataset)):
    st.warning(too_few, icon=":material/straighten:")
if spec is not None and spec.dataset == "shapes" and spec.pipeline == DEMO_PIPELINE:
    with st.expander("Why augmentation should help here", icon=":material/lightbulb:"):
        st.markdown(get_spec_preset_info("demo").why)

start_col, batch_col, estimate_col = st.columns(3)
start = start_col.button("Start training", type="primary", icon=":material/play_arrow:", disabled=spec is None,
                         help="Trains in the background; the curves update as each epoch finishes.")
if batch_col.button("Show a batch", icon=":material/grid_view:", disabled=spec is None,
                    help="The first training batch exactly as the augmented model will see it."):
    st.session_state["exp:show_batch"] = True
if estimate_col.button("Estimate the time", icon=":material/timer:", disabled=spec is None,
                       help="Times a few training steps on this machine and scales up to the whole run."):
    st.session_state["exp:estimate_for"] = None
    try:
        with st.spinner("Timing a few training steps…"):
            st.session_state["exp:estimate"] = (spec.to_json(), estimate_time(spec, choice.prepared.dataset))  # type: ignore[union-attr]
    except AugLabError as exc:
        show_error(exc)

if spec is not None and choice.prepared is not None:
    estimate = st.session_state.get("exp:estimate")
    if estimate is not None and estimate[0] == spec.to_json():
        est = estimate[1]
        busy = (f" **The machine is busy** (load {est.load:.1f} per core as measured): the run will take longer or "
                "shorter as that work changes." if est.busy else "")
        st.info(f"Estimated time on this machine: **about {format_duration(est.seconds)}** for {est.steps:,} training steps, "
                f"measured just now: {est.plain_step_seconds * 1000:.0f} ms per step without augmentation, "
                f"{est.augmented_step_seconds * 1000:.0f} ms with it, {est.eval_seconds:.1f} s per evaluation after each epoch "
                f"of each arm.{busy}", icon=":material/timer:")
    if st.session_state.get("exp:show_batch"):
        try:
            batch = show_batch(spec, choice.prepared.dataset)
            st.markdown("**The first training batch** · top: as stored · bottom: what the augmented model receives")
            st.image([enlarge(im, 72) for im in batch.originals], width=72)
            st.image([enlarge(im, 72) for im in batch.augmented], caption=batch.captions, width=72)
        except AugLabError as exc:
            show_error(exc)

if start and spec is not None and choice.prepared is not None:
    try:
        manager.start(owner, spec, secret=session_secret())
    except AugLabError as exc:
        show_error(exc)
    else:
        st.session_state.pop("exp:hidden", None)
        st.rerun()
