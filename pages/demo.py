"""Demo: one click trains the built-in demo with and without augmentation and ends on a one-slide summary."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError
from augment_core.prove import BeforeAfter, before_after, demo_spec, demo_title, demo_why, is_demo, stored_demo_run
from augment_core.experiment import ImageDataset, RunStore, load_dataset
from augment_core.prove import pipeline_summary
from augment_core.prove import default_manager
from ui.common import page_header, show_error
from ui.demo_view import before_after_strip, exports, summary_view
from ui.job_panel import current_snapshot, live_job_panel, owner_token, session_secret

page_header("Demo", "One click: the built-in shapes data, the recommended pipeline, a fair comparison with and without "
            "augmentation over 3 seeds, and a one-slide summary you can export. Under a minute on two idle CPU cores "
            "(longer while other runs share the machine).")


@st.cache_resource(max_entries=2, show_spinner="Loading the demo data set…")
def _demo_data(spec_json: str) -> tuple[ImageDataset, BeforeAfter]:  # noqa: ARG001 - the spec keys the cache
    spec = demo_spec()
    dataset = load_dataset(spec)
    return dataset, before_after(spec, dataset, seed=spec.seed)


spec = demo_spec()
manager = default_manager()
owner = owner_token()
snap = current_snapshot(manager, owner)
try:
    dataset, strip = _demo_data(spec.to_json())
except AugLabError as exc:
    show_error(exc)
    st.stop()

if snap is not None and snap.running and not is_demo(snap.spec):
    st.info(f"This browser tab already has “{snap.spec.name}” queued or training on the Experiment page; one run at a time. "
            "The demo can start when it has finished or been cancelled.", icon=":material/hourglass_top:")
    st.page_link("pages/experiment.py", label="Watch it on the Experiment page", icon=":material/science:",
                 help="Follow or cancel that run; the demo can start afterwards.")
    st.stop()

# A finished demo of the same spec stored earlier (another tab, before a restart) is shown rather than run again.
stored = None if snap is not None and is_demo(snap.spec) else stored_demo_run(RunStore())
if stored is not None:
    result = RunStore().load_run(stored)
    st.caption(f"The stored result of this demo (run #{stored}, {result.started_at.replace('T', ' ')[:16]} UTC); "
               "the same seeds give the same result if you run it again.")
    with st.container(border=True):
        summary_view(result, strip, key="demo:stored")
    exports(result, strip, key="demo:stored_export")
    start = st.button("Run the demo again", icon=":material/replay:", key="demo:again",
                      help="Trains the same comparison again from scratch (same seeds, so the same result).")
elif snap is not None and is_demo(snap.spec):
    if snap.running:
        st.subheader(demo_title())
        st.caption(f"{len(dataset.class_names)} shapes · {spec.train_per_class} training images per class · pipeline: "
                   f"{pipeline_summary(spec)} · the curves fill in as each epoch finishes")
        before_after_strip(strip)
        live_job_panel(manager, snap.job_id, key="demo:live")
        st.stop()
    if snap.result is None or (snap.status == "failed" and not snap.result.finals):
        st.error(f"**The demo could not run.** {snap.message}", icon=":material/error:")
    else:
        result = snap.result if snap.run_id is None else RunStore().load_run(snap.run_id)
        with st.container(border=True):
            summary_view(result, strip, key="demo:summary")
        exports(result, strip, key="demo:export")
        if result.run_id is not None:
            st.page_link("pages/runs.py", label="Confusion matrices, per-class accuracy and mistakes on the Runs page",
                         icon=":material/history:", query_params={"run": str(result.run_id)},
                         help="The same run with every detail: confusion matrices, per-class accuracy, the images each model got wrong.")
    start = st.button("Run the demo again", icon=":material/replay:", key="demo:again",
                      help="Trains the same comparison again from scratch (same seeds, so the same result).")
else:
    st.markdown(f"**{demo_title()}**")
    st.markdown(demo_why())
    st.caption(f"The data: {dataset.description}")
    start = st.button("Run the demo", type="primary", icon=":material/play_arrow:", key="demo:start",
                      help="Loads the shapes data and the recommended pipeline, then trains both models in the background.")

if start:
    try:
        manager.start(owner, spec, secret=session_secret())
    except AugLabError as exc:
        show_error(exc)
    else:
        st.rerun()
