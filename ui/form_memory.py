"""The experiment form's memory: values from a lesson's link, widget values kept across runs, derived defaults.

Streamlit forgets a widget's value when a run does not draw it; these functions keep the
form's choices (data, pipeline, numbers) so that what Start trains is what the form shows.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from augment_core.prove import link_signature, parse_experiment_link

K = "exp"  # widget key prefix of the experiment form
_LINK_APPLIED = f"{K}:link_applied"  # signature of the last link whose values were put into the widgets
_LINK_PENDING = f"{K}:link_pending"  # checked link values not yet written into their widgets


def apply_link() -> list[str]:
    """Read ExperimentSpec fields from the URL (links from lessons) once per distinct link.

    The values that fit are written into the widgets' session state just before each widget is
    drawn (see :func:`take_link`); returns a message for each value that did not fit, for as long
    as the link is in the URL.
    """
    link = parse_experiment_link(st.query_params.to_dict())
    signature = link_signature(st.query_params.to_dict())
    if signature and st.session_state.get(_LINK_APPLIED) != signature:
        st.session_state[_LINK_APPLIED] = signature
        st.session_state[_LINK_PENDING] = dict(link.values)
    return list(link.problems)


def take_link(field: str, key: str) -> None:
    """Put a pending link value for ``field`` into widget ``key`` (once)."""
    pending: dict[str, Any] = st.session_state.get(_LINK_PENDING, {})
    if field in pending:
        st.session_state[key] = pending.pop(field)


_KEEP = f"{K}:keep:"  # shadow copies of the form's widget values: session keys that belong to no widget
# Keys that are not values a widget can be given back (uploaders, buttons) or are kept elsewhere.
_NOT_KEPT_KEYS = {f"{K}:zip", f"{K}:add_class", f"{K}:estimate", f"{K}:estimate_for", f"{K}:show_batch", f"{K}:hidden",
                  f"{K}:class_ids"}
_NOT_KEPT_PARTS = (":files", ":remove", ":forget", _KEEP, ":default", f"{K}:link_", f"{K}:kept_")
KEPT_ZIP = f"{K}:kept_zip"  # (file name, bytes) of the last zip uploaded
KEPT_CLASSES = f"{K}:kept_classes"  # {class id: [(file name, bytes), ...]} of the last per-class uploads


def restore_form() -> None:
    """Give the form's widgets back the values they had when the form was last drawn.

    Streamlit forgets a widget's value when a run does not draw it (the page showing a running
    job, another page), and the form would come back with the built-in data, the demo pipeline and
    default numbers: a run the user never asked for. Call first; :func:`remember_form` at the end.
    """
    for key, value in list(st.session_state.items()):
        widget = key.removeprefix(_KEEP)
        # None too: after a value is given back, the browser's segmented control reports None once (a
        # "required" control never holds None), and the form would switch to another data source.
        if key.startswith(_KEEP) and (widget not in st.session_state or st.session_state[widget] is None):
            st.session_state[widget] = value


def remember_form() -> None:
    """Keep a copy of every form widget's value in keys that outlive the widgets."""
    for key, value in list(st.session_state.items()):
        if (key.startswith(f"{K}:") and value is not None and key not in _NOT_KEPT_KEYS
                and not any(part in key for part in _NOT_KEPT_PARTS)):
            st.session_state[_KEEP + key] = value


def derived_default(key: str, value: Any) -> None:
    """Seed widget ``key`` with a default computed from the chosen data, and follow it when it changes.

    The value follows the default for as long as the widget still holds the previous default; once
    the user sets another value, theirs stands (passes per epoch follow the number of images, say,
    unless the user typed their own).
    """
    marker = f"{key}:default"
    previous = st.session_state.get(marker)
    if key not in st.session_state or (previous is not None and st.session_state[key] == previous):
        st.session_state[key] = value
    st.session_state[marker] = value
