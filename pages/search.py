"""Search: find the augmentation that helps, then confirm it on data the search never saw."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError
from augment_core.prove import confirm_task, default_tasks, search_task
from ui.common import page_header, show_error
from ui.job_panel import owner_token
from ui.search_panels import live_search, search_form, search_outcome, spec_caption

page_header("Search", "Try many pipelines automatically (Optuna: TPE sampling, Hyperband pruning), then re-compare the winner, "
            "your pipeline and no augmentation on held-out images with fresh seeds. Only that confirmation is the result.")

tasks = default_tasks()
owner = owner_token()
task_id = tasks.task_for(owner, "search")
snap = tasks.snapshot(task_id) if task_id else None

if snap is not None and snap.running:
    live_search(tasks, task_id)
    st.stop()

spec = search_form()
if spec is not None:
    try:
        tasks.start(owner, "search", search_task(spec))
        st.rerun()
    except AugLabError as exc:
        show_error(exc)

if snap is not None:
    st.divider()
    if snap.status == "failed":
        st.error(snap.message, icon=":material/error:")
    else:
        result = snap.result
        st.caption(spec_caption(result.spec) + f" · {result.status}")
        search_outcome(result)
        if result.status == "cancelled" and result.best is not None:
            if st.button("Confirm the best so far", icon=":material/verified:", key="search:confirm",
                         help="Train the best trial so far, your pipeline and no augmentation on the held-out images."):
                tasks.start(owner, "search", confirm_task(result.spec.name))
                st.rerun()
