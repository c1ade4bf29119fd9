"""Runs: every stored experiment; open one, overlay several, delete, or run one again."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError
from augment_core.experiment import RunStore
from augment_core.prove import default_manager
from augment_core.prove import METRIC_TITLES, overlay_figure
from augment_core.prove import overlay_runs, rerun_spec, run_rows
from ui.common import page_header, show_error
from ui.job_panel import current_snapshot, owner_token, progress_text, session_secret
from ui.results_view import results_view

page_header("Runs", "Every experiment stored on this machine. Open one to see its results, select several to overlay "
            "their curves, delete the ones you no longer need, or run one again with exactly the same settings.")
manager = default_manager()
owner = owner_token()
secret = session_secret()
store = RunStore()


@st.fragment(run_every=2.0)
def running_banner() -> None:
    """This page's running job, if any (polling it also keeps it alive while the user browses runs)."""
    snap = current_snapshot(manager, owner)
    if snap is not None and snap.running:
        st.info(f"{'Queued' if snap.queued else 'Training now'}: {snap.spec.name} · {progress_text(snap)}",
                icon=":material/hourglass_top:")
        st.page_link("pages/experiment.py", label="Watch it on the Experiment page", icon=":material/science:",
                     help="Open the live progress and curves of this run.")


running_banner()
rows = run_rows(store, active_run_ids=manager.active_run_ids())
if not rows:
    st.info("No runs yet. Start one on the Experiment page; it will be listed here, even after the app restarts.",
            icon=":material/history:")
    st.page_link("pages/experiment.py", label="Go to the Experiment page", icon=":material/science:",
                 help="Set up and start a comparison with and without augmentation.")
    st.stop()

st.dataframe(
    # Status in words, not emoji: emoji show as empty boxes where the system has no emoji font.
    [{"id": r.run_id, "status": r.status, "name": r.name, "data set": r.dataset,
      "backbone": r.backbone, "pipeline": r.pipeline, "verdict": r.verdict or r.message,
      "epochs": f"{r.epochs_done}/{r.epochs_planned}", "started (UTC)": r.started_at.replace("T", " ")[:16],
      "seconds": round(r.seconds)} for r in rows],
    hide_index=True, width="stretch",
    column_config={"verdict": st.column_config.TextColumn(width="large"), "pipeline": st.column_config.TextColumn(width="medium")})

by_id = {r.run_id: r for r in rows}
linked = [int(x) for x in st.query_params.get("run", "").split(",") if x.isdigit() and int(x) in by_id]
# Open the newest run that has something to show: a run still training has no results yet.
finished = [r.run_id for r in rows if r.status != "running"]
chosen = st.multiselect("Select runs: one to open it, two or more to overlay their curves", list(by_id),
                        default=linked or [(finished or [rows[0].run_id])[0]], key="runs:selected", select_all=False,
                        format_func=lambda i: f"#{i} {by_id[i].name} · {by_id[i].status}",
                        help="Pick one run to see all its results, or several to compare their curves on one chart.")
if not chosen:
    st.stop()

actions = st.columns([1, 1, 3])
with actions[0].popover(f"Delete {len(chosen)} run(s)", icon=":material/delete:", help="Remove the selected runs and their metrics (asks first)."):
    st.write("Delete " + ", ".join(f"#{i}" for i in chosen) + " and all their metrics? This cannot be undone.")
    if st.button("Yes, delete", type="primary", key="runs:confirm_delete", help="Delete them for good; this cannot be undone."):
        busy = [i for i in chosen if i in manager.active_run_ids()]
        # Runs started from the queue belong to their session (older runs have no owner and anyone may delete them).
        theirs = [i for i in chosen if i not in busy and not manager.may_delete(str(i), secret)]
        for run_id in chosen:
            if run_id not in busy and run_id not in theirs:
                try:
                    store.delete_run(run_id)
                except AugLabError:  # claimed by a worker between the check and the delete
                    busy.append(run_id)
        if busy:
            st.warning(f"Run(s) {', '.join(map(str, busy))} are queued or training; cancel them first.", icon=":material/warning:")
        if theirs:
            st.warning(f"Run(s) {', '.join(map(str, theirs))} were started by another session; only it can delete them.",
                       icon=":material/lock:")
        if not busy and not theirs:
            st.session_state.pop("runs:selected", None)
            st.rerun()
if len(chosen) == 1 and actions[1].button("Run again", icon=":material/replay:", key="runs:rerun",
                                         help="Start a new run with exactly this run's settings and data."):
    try:
        manager.start(owner, rerun_spec(store.load_run(chosen[0])), secret=secret)
    except AugLabError as exc:
        show_error(exc)
    else:
        st.switch_page("pages/experiment.py")

if len(chosen) == 1:
    results_view(store.load_run(chosen[0]), key=f"run:{chosen[0]}")
else:
    metric_col, smooth_col = st.columns(2)
    metric = metric_col.selectbox("Metric", list(METRIC_TITLES), format_func=METRIC_TITLES.get, key="runs:metric",
                                  help="Which curve to overlay: validation or training accuracy or loss.")
    smoothing = smooth_col.slider("Smoothing (display only)", 0.0, 0.95, 0.0, 0.05, key="runs:smoothing",
                                  help="TensorBoard-style moving average of the mean curves; 0 shows the raw numbers.")
    st.plotly_chart(overlay_figure(overlay_runs(store, chosen), metric=metric, smoothing=smoothing), key="runs:overlay")
    for run_id in chosen:
        row = by_id[run_id]
        st.markdown(f"**#{run_id} {row.name}** · {row.pipeline} · {row.verdict or row.status}")
