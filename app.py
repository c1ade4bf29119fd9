"""Augmentation Lab: the Streamlit entry point.

Run with ``streamlit run app.py``. Navigation lists the scripts in ``pages/``; each page is a thin
script over ``augment_core``. The first session also starts ``AUGLAB_WORKERS`` worker processes
(:mod:`augment_core.worker`), which train the queued runs; they stop when the server stops.
"""

from __future__ import annotations

import atexit

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
import streamlit as st

from augment_core.transforms import get_executor
from augment_core.worker import WorkerPool, start_workers


@st.cache_resource(show_spinner=False)
def _workers() -> WorkerPool:
    """Once per server process: start the preview and training worker processes; stop them (re-queueing runs) at exit.

    Called before the pages' imports below: the preview workers' start-up (albumentations, cv2)
    then overlaps this process's, instead of following it at the first preview.
    """
    get_executor()
    pool = start_workers()
    atexit.register(pool.stop)
    return pool


_workers()

from ui.common import app_icon, pipeline_sidebar  # noqa: E402 - after the workers are on their way (see _workers)

# An image icon, not ":material/…:": that one is fetched from fonts.gstatic.com (pages must work offline).
st.set_page_config(page_title="Augmentation Lab", page_icon=app_icon(), layout="wide")

PAGES = {
    "Demo": [
        st.Page("pages/demo.py", title="Demo", icon=":material/slideshow:"),
    ],
    "Look and compose": [
        st.Page("pages/playground.py", title="Playground", icon=":material/tune:", default=True),
        st.Page("pages/pipeline.py", title="Pipeline", icon=":material/account_tree:"),
    ],
    "Prove": [
        st.Page("pages/experiment.py", title="Experiment", icon=":material/science:"),
        st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
        st.Page("pages/search.py", title="Search", icon=":material/manage_search:"),
    ],
    "Learn": [
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    ],
}


page = st.navigation(PAGES)

with st.sidebar:
    st.markdown("**Augmentation Lab**  \nSee what an augmentation does, then prove whether it helps.")
    st.caption("Light or dark: ⋮ menu (top right) → System, Light or Dark.")
sidebar_slot = st.sidebar.empty()
pipeline_sidebar(sidebar_slot)  # drawn first, so a page that stops early still has it

page.run()
pipeline_sidebar(sidebar_slot)  # and again, showing what the page changed (a share link, a new step)
