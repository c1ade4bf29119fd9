"""Drawing lessons: widgets from :class:`~augment_core.lessons.Control`, blocks, and links.

The Learn page stays a few lines long: it picks a lesson, asks this module for the control
values, makes one call into :mod:`augment_core.lessons`, and hands the view back here to draw.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from augment_core.lessons import Block, Control, LessonView, Link


def control_widget(control: Control, key: str) -> Any:
    """One widget for ``control``; its starting value goes into session state, so links can preset it."""
    st.session_state.setdefault(key, control.default)
    if control.kind == "slider":
        return st.slider(control.label, control.low, control.high, step=control.step, key=key, help=control.help)
    if control.kind == "steps":
        return st.select_slider(control.label, options=list(control.options), format_func=control.label_of, key=key,
                                help=control.help)
    return st.selectbox(control.label, list(control.options), format_func=control.label_of, key=key, help=control.help)


def control_widgets(controls: tuple[Control, ...], key: str, per_row: int = 4) -> dict[str, Any]:
    """Widgets for every control, ``per_row`` to a row; returns {name: value}."""
    values: dict[str, Any] = {}
    for start in range(0, len(controls), per_row):
        chunk = controls[start:start + per_row]
        for column, control in zip(st.columns(per_row), chunk):
            with column:
                values[control.name] = control_widget(control, f"{key}:{control.name}")
    return values


def draw_block(block: Block, key: str, *, alone: bool = False) -> None:
    """Draw one block in the current container; ``alone`` when it has the whole row to itself."""
    if block.kind == "markdown":
        st.markdown(block.content)
    elif block.kind == "latex":
        st.latex(block.content)
    elif block.kind == "figure":
        st.plotly_chart(block.content, key=f"{key}:{block.key}", config={"displaylogo": False})
        if block.caption:
            st.caption(block.caption)
    elif block.kind == "image":
        st.image(block.content, caption=block.caption or None, width="stretch")
    elif block.kind == "metrics":
        places = st.columns(len(block.content)) if alone else [st.container() for _ in block.content]
        for place, (label, value, help_text) in zip(places, block.content):
            place.metric(label, value, help=help_text)
    elif block.kind == "table":
        st.dataframe(block.content, hide_index=True, width="stretch")
        if block.caption:
            st.caption(block.caption)
    else:  # pragma: no cover - kinds are a closed set
        raise ValueError(f"no way to draw a {block.kind!r} block")


def draw_view(view: LessonView, key: str) -> None:
    """Every row of ``view``, each as side-by-side columns."""
    for row in view.rows:
        if len(row) == 1:
            draw_block(row[0], key, alone=True)
            continue
        for column, block in zip(st.columns(len(row), gap="medium"), row):
            with column:
                draw_block(block, key)


def draw_links(links: list[Link]) -> None:
    """A button per link, each opening its page preconfigured."""
    if not links:
        return
    columns = st.columns(len(links))
    for column, link in zip(columns, links):
        with column:
            st.page_link(link.page, label=link.label, icon=link.icon, query_params=link.query_params,
                         help="Opens that page already set up as this lesson describes.")
