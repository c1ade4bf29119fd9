"""Widgets generated from :class:`augment_core.params.ParamSpec`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from augment_core.params import ParamSpec


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{max(0, min(255, int(v))):02x}" for v in rgb)


def _num(value: Any, integer: bool) -> int | float:
    return int(round(float(value))) if integer else float(value)


def param_widget(spec: ParamSpec, key: str) -> Any:
    """Draw one widget for ``spec`` and return its value in widget form."""
    label, help_text = spec.label, spec.help or None
    if spec.kind in ("range", "number"):
        integer = spec.integer
        low, high, step = _num(spec.low, integer), _num(spec.high, integer), _num(spec.step, integer)
        if spec.kind == "range":
            value = tuple(min(max(_num(v, integer), low), high) for v in spec.default)
        else:
            value = min(max(_num(spec.default, integer), low), high)
        return st.slider(label, low, high, value, step, key=key, help=help_text)
    if spec.kind == "pair":
        columns = st.columns(2)
        return tuple(
            col.slider(f"{label}: {part}", _num(spec.low, True), _num(spec.high, True), _num(v, True), 1, key=f"{key}:{part}", help=help_text)
            for col, part, v in zip(columns, spec.parts, spec.default)
        )
    if spec.kind == "select":
        index = spec.options.index(spec.default) if spec.default in spec.options else 0
        choice = st.selectbox(label, range(len(spec.options)), index=index, format_func=lambda i: spec.labels[i], key=key, help=help_text)
        return spec.options[choice]
    if spec.kind == "bool":
        return st.toggle(label, value=bool(spec.default), key=key, help=help_text)
    if spec.kind == "color":
        return st.color_picker(label, _hex(spec.default), key=key, help=help_text)
    raise ValueError(f"no widget for {spec.kind}")  # pragma: no cover - kinds are a closed set


def param_widgets(specs: tuple[ParamSpec, ...], key_prefix: str) -> dict[str, Any]:
    """Draw a widget for each visible spec; returns {name: value}."""
    return {spec.name: param_widget(spec, f"{key_prefix}:{spec.name}") for spec in specs if not spec.hidden}
