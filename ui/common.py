"""Page furniture: headers, the one error helper, the shared sidebar."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError


def page_header(title: str, description: str) -> None:
    """Title and a one-line description at the top of every page."""
    st.title(title)
    st.caption(description)


def show_error(exc: AugLabError, where: st.delta_generator.DeltaGenerator | None = None) -> None:
    """Show a user-facing error: what was wrong and what to do. The page keeps working."""
    target = where or st
    target.error(f"**{exc.message}**" + (f"\n\n{exc.hint}" if exc.hint else ""), icon=":material/error:")
