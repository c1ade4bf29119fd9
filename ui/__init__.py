"""Streamlit helpers shared by the pages: widgets from specs, image pickers, error display.

This is the only place besides ``pages/`` and ``app.py`` that imports streamlit.
"""
