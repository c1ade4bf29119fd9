"""Streamlit pieces of the Search page and the Pipeline page's ablation panel.

Widgets become keyword arguments for :func:`augment_core.prove.page_search_spec`; tasks run in
:class:`augment_core.prove.TaskManager`; a fragment polls the task every second and draws the
trials as they land.
"""

from __future__ import annotations

import json

import streamlit as st

from augment_core import AugLabError
from augment_core.experiment import SPACES, SearchSpec
from augment_core.pipelines import export_text, from_dict, list_data_kinds
from augment_core.prove import (SEARCH_DATASETS, TaskManager, ablation_epochs, ablation_task, best_so_far_figure,
                                leaderboard_table, page_search_spec, parallel_figure, trial_table, winner_pipeline)
from augment_core.settings import get_int
from ui.common import show_error
from ui.job_panel import owner_token
from ui.pipeline_state import get_data_kind, pipeline_dict, set_pipeline

POLL_SECONDS = 1.0


def search_form() -> SearchSpec | None:
    """The search settings; returns the spec when Start is pressed (None otherwise or on a refusal).

    The form is not drawn while a search runs, and Streamlit forgets the state of widgets it did
    not draw; so the user's choices are kept in ``search:kept`` and given back as the defaults.
    """
    kept: dict = st.session_state.setdefault("search:kept", {})
    left, middle, right = st.columns(3)
    datasets, kinds, spaces = list(SEARCH_DATASETS), list_data_kinds(), list(SPACES)
    dataset = left.selectbox("Data", datasets, index=datasets.index(kept.get("data", datasets[0])),
                             format_func=SEARCH_DATASETS.get, key="search:data",
                             help="The built-in data set to search on; 30% of each class is held out for the confirmation.")
    space = middle.radio("Space", spaces, index=spaces.index(kept.get("space", spaces[0])), format_func=lambda s: SPACES[s],
                         key="search:space", help="What the search may try. 'Around my pipeline' uses the pipeline from the editor.")
    kind = right.selectbox("Kind of data", kinds, index=kinds.index(kept.get("kind", get_data_kind())), key="search:kind",
                           help="Label-safety rules for the search space: no flips or large turns on digits, no hue shifts where colour is the class.")
    unit = left.segmented_control("Budget in", ["minutes", "trials"], default=kept.get("unit", "minutes"), key="search:unit",
                                  required=True, help="Stop after this much time or after this many trials.")
    if unit == "minutes":
        minutes, trials = middle.slider("Minutes", 1, get_int("AUGLAB_SEARCH_MAX_MINUTES"), kept.get("minutes", 5),
                                        key="search:minutes", help="Wall time for the search itself; the confirmation runs after it."), None
    else:
        minutes, trials = None, middle.number_input("Trials", 1, 200, kept.get("trials", 6), key="search:trials",
                                                    help="How many pipelines to try.")
    epochs = right.slider("Epochs per trial", 1, 30, kept.get("epochs", 8), key="search:epochs",
                          help="Fewer epochs: more trials in the budget, noisier scores. Pruning stops weak trials early.")
    kept.update({"data": dataset, "space": space, "kind": kind, "unit": unit, "epochs": epochs,
                 **({"minutes": minutes} if minutes is not None else {"trials": trials})})
    if not st.button("Start the search", type="primary", icon=":material/search:", key="search:start",
                     help="Search in the background; trials appear below as they finish."):
        return None
    try:
        return page_search_spec(dataset=dataset, space=space, data_kind=kind, epochs=int(epochs), minutes=minutes,
                                trials=None if trials is None else int(trials), pipeline=pipeline_dict())
    except AugLabError as exc:
        show_error(exc)
        return None


def trials_view(rows: list) -> None:
    """Best-so-far curve, parallel coordinates and the trials table."""
    if not rows:
        st.caption("Waiting for the first trial to finish…")
        return
    left, right = st.columns(2)
    left.plotly_chart(best_so_far_figure(rows), use_container_width=True, key=f"search:best:{len(rows)}")
    parallel = parallel_figure(rows)
    if parallel is not None:
        right.plotly_chart(parallel, use_container_width=True, key=f"search:parallel:{len(rows)}")
    st.dataframe(trial_table(rows), hide_index=True, use_container_width=True)


def live_search(tasks: TaskManager, task_id: str) -> None:
    """Poll the running search every second: trials so far and a Stop button."""

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        snap = tasks.snapshot(task_id)
        if not snap.running:
            st.rerun()
        st.markdown(f"**Searching…** {len(snap.events)} trial(s) finished · {snap.elapsed_s:.0f} s")
        if st.button("Stop the search", icon=":material/stop_circle:", key="search:stop",
                     help="Stop after the current training step; the trials so far are kept and can be confirmed."):
            tasks.cancel(task_id)
        trials_view(list(snap.events))

    poll()


def search_outcome(result) -> None:  # noqa: ANN001 - a SearchResult
    """The confirmed leaderboard (the only result that counts), the optimism and the winner's actions."""
    trials_view(result.trials)
    board = result.confirmation.leaderboard if result.confirmation else None
    if board is None:
        st.warning(result.message or "Nothing was confirmed.", icon=":material/warning:")
        return
    st.subheader("Confirmed on held-out data")
    st.caption("The winner, your pipeline and no augmentation, trained again with fresh seeds on the 30% of each class the "
               f"search never saw. {board.correction}; * marks intervals that exclude zero.")
    st.dataframe(leaderboard_table(board), hide_index=True, use_container_width=True)
    st.markdown(board.summary)
    if result.optimism is not None:
        st.metric("Search optimism", f"{result.optimism:+.1f} points",
                  help="The winner's score during the search minus its confirmed score: how much picking the best of many flattered it.")
    pipeline = winner_pipeline(result)
    if pipeline is not None:
        left, right = st.columns(2)
        if left.button("Open the winner in the pipeline editor", icon=":material/account_tree:", key="search:open",
                       help="Replace the editor's pipeline with the search winner."):
            set_pipeline(from_dict(pipeline))
            st.switch_page("pages/pipeline.py")
        right.download_button("Export the winner (JSON)", export_text(from_dict(pipeline), "json"), "search_winner.json",
                              mime="application/json", icon=":material/download:", key="search:export",
                              help="The winning pipeline in albumentations' own JSON format (A.load reads it).")


def ablation_panel(tasks: TaskManager) -> None:
    """Which steps of the current pipeline help: one click, trained on the demo's data in the background."""
    with st.expander("Which steps help? Ablation", icon=":material/science:"):
        pipeline = pipeline_dict()
        owner = owner_token()
        task_id = tasks.task_for(owner, "ablation")
        st.caption("Trains the full pipeline, the pipeline without each step, and no augmentation on the built-in demo data "
                   "(shapes, 5 training images per class) and compares them with Holm-corrected intervals.")
        left, middle, right = st.columns(3)
        epochs = left.slider("Epochs", 2, 30, 15, key="ablation:epochs",
                             help="Epochs per arm and seed; fewer is quicker and noisier.")
        seeds = middle.slider("Seeds", 2, 5, 3, key="ablation:seeds",
                              help="Repetitions with different seeds; an interval needs at least two.")
        singles = right.toggle("Also each step alone", key="ablation:singles", help="Adds one arm per step with only that step.")
        if st.button("Run the ablation", icon=":material/play_arrow:", key="ablation:start", disabled=pipeline is None,
                     help="Start training in the background; the answer appears here."):
            try:
                task_id = tasks.start(owner, "ablation", ablation_task(pipeline, singles=singles, epochs=epochs, seeds=seeds))
            except AugLabError as exc:
                show_error(exc)
        if task_id is None:
            return
        steps = len(from_dict(pipeline).items) if pipeline else 0
        total = max(1, ablation_epochs(steps, singles=singles, epochs=epochs, seeds=seeds))

        snap = tasks.snapshot(task_id)
        if snap.running:

            @st.fragment(run_every=POLL_SECONDS)
            def poll() -> None:
                now = tasks.snapshot(task_id)
                if not now.running:
                    st.rerun()  # the whole page: it now shows the answer
                st.progress(min(1.0, len(now.events) / total), text=f"Ablation: {len(now.events)} of about {total} epochs")

            poll()
            return
        if snap.status == "failed":
            st.error(snap.message, icon=":material/error:")
            return
        result = snap.result
        if result.arms.status != "completed":
            st.warning(result.arms.message, icon=":material/warning:")
        st.markdown(result.summary)
        st.dataframe([{"step": s.step, "verdict": s.verdict,
                       "effect (points)": None if s.effect is None else round(s.effect.mean, 1),
                       "interval": "" if s.effect is None else f"{s.effect.ci_low:+.1f} to {s.effect.ci_high:+.1f}"}
                      for s in result.steps], hide_index=True, use_container_width=True)
        if result.arms.leaderboard is not None:
            st.caption(result.arms.leaderboard.summary)


def spec_caption(spec: SearchSpec) -> str:
    """One line describing a search."""
    budget = f"{spec.budget_seconds / 60:g} min" if spec.budget_seconds else f"{spec.budget_trials} trials"
    return f"“{spec.name}”: {SPACES[spec.space]} · {spec.data_kind} · {budget} · {spec.base.epochs} epochs per trial"


def dumps(data: object) -> str:
    """Indented JSON for downloads."""
    return json.dumps(data, indent=2)
