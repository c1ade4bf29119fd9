"""Streamlit helpers shared by the pages: widgets from specs, image pickers, error display.

This is the only place besides ``pages/`` and ``app.py`` that imports streamlit.

Importing it also guards the app's navigation. Streamlit (1.67) decides per server whether a
``pages/`` folder means the old multipage mode; until ``app.py`` has called ``st.navigation``
once, a first visit straight to ``/pipeline`` (a shared link) runs that page on its own, without
``app.py``'s layout, sections and sidebar. When a page finds itself run that way, it switches
the old mode off and reruns, so the request goes through ``app.py`` like every other.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
