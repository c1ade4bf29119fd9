"""Widgets generated from :class:`augment_core.transforms.params.ParamSpec`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from augment_core.transforms import catalog
from augment_core.transforms import ParamSpec, parse_text_value


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{max(0, min(255, int(v))):02x}" for v in rgb)


def _widget_state(spec: ParamSpec, value: Any) -> Any:
    if spec.kind == "color":
        return _hex(value)
    if spec.kind == "select":
        return spec.options.index(value)
    if spec.kind == "bool":
        return bool(value)
    return value


def _num(value: Any, integer: bool) -> int | float:
    return int(round(float(value))) if integer else float(value)


def param_widget(spec: ParamSpec, key: str) -> Any:
    """Draw one widget for ``spec`` and return its value in widget form.

    The starting value goes into session state (never as the widget's ``value``), so links and
    lessons can preset a widget without Streamlit warning about two sources of truth.
    """
    label, help_text = spec.label, spec.help or None
    if spec.kind in ("range", "number"):
        integer = spec.integer
        low, high, step = _num(spec.low, integer), _num(spec.high, integer), _num(spec.step, integer)
        if spec.kind == "range":
            start = tuple(min(max(_num(v, integer), low), high) for v in spec.default)
        else:
            start = min(max(_num(spec.default, integer), low), high)
        st.session_state.setdefault(key, start)
        return st.slider(label, low, high, step=step, key=key, help=help_text)
    if spec.kind == "pair":
        values = []
        for column, part, start in zip(st.columns(2), spec.parts, spec.default):
            st.session_state.setdefault(f"{key}:{part}", _num(start, True))
            values.append(column.slider(f"{label}: {part}", _num(spec.low, True), _num(spec.high, True), step=1, key=f"{key}:{part}", help=help_text))
        return tuple(values)
    st.session_state.setdefault(key, _widget_state(spec, spec.default if spec.kind != "select" or spec.default in spec.options else spec.options[0]))
    if spec.kind == "select":
        choice = st.selectbox(label, range(len(spec.options)), format_func=lambda i: spec.labels[i], key=key, help=help_text)
        return spec.options[choice]
    if spec.kind == "bool":
        return st.toggle(label, key=key, help=help_text)
    if spec.kind == "color":
        return st.color_picker(label, key=key, help=help_text)
    raise ValueError(f"no widget for {spec.kind}")  # pragma: no cover - kinds are a closed set


def param_widgets(specs: tuple[ParamSpec, ...], key_prefix: str) -> dict[str, Any]:
    """Draw a widget for each visible spec; returns {name: value}."""
    return {spec.name: param_widget(spec, f"{key_prefix}:{spec.name}") for spec in specs if not spec.hidden}




def apply_link_values(specs: tuple[ParamSpec, ...], key_prefix: str, query: Any) -> list[str]:
    """Preset widgets from a link's query parameters; returns the names that did not parse."""
    bad = []
    for spec in specs:
        if spec.hidden or spec.name not in query:
            continue
        try:
            value = parse_text_value(spec, query[spec.name])
        except ValueError:
            bad.append(spec.name)
            continue
        if spec.kind == "pair":
            for part, v in zip(spec.parts, value):
                st.session_state[f"{key_prefix}:{spec.name}:{part}"] = v
        else:
            st.session_state[f"{key_prefix}:{spec.name}"] = _widget_state(spec, value)
    return bad


def set_widget_values(specs: tuple[ParamSpec, ...], key_prefix: str, values: dict[str, Any]) -> None:
    """Put ``values`` (widget form) into the session state of the widgets ``param_widgets`` draws."""
    for spec in specs:
        if spec.hidden or spec.name not in values:
            continue
        if spec.kind == "pair":
            for part, v in zip(spec.parts, values[spec.name]):
                st.session_state[f"{key_prefix}:{spec.name}:{part}"] = v
        else:
            st.session_state[f"{key_prefix}:{spec.name}"] = _widget_state(spec, values[spec.name])


def transform_filter(family_col: Any, search_col: Any, key: str) -> tuple[str, str, list[str]]:
    """A family select box and a search box; returns (family, query, matching transform names)."""
    family = family_col.selectbox("Family", ["All families", *catalog.FAMILY_ORDER], key=f"{key}:family",
                                  help="Show only one kind of transform: geometric, colour, noise, blur, weather…")
    query = search_col.text_input("Search", key=f"{key}:query", placeholder="rotate, blur, rain…",
                                  help="Filter the transforms by a word in their name or description.")
    return family, query, catalog.list_transforms(None if family == "All families" else family, query)
