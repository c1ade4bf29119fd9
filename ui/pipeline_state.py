"""The session's current pipeline: the one the editor shows and the experiment pages train with.

It lives in ``st.session_state`` under keys that belong to no widget, so it survives moving
between pages for as long as the browser session lasts. Pages read and change it only through
these functions:

* ``get_pipeline() -> Pipeline``: the current pipeline (an empty one, seed 42, at first).
* ``set_pipeline(pipeline, *, structural=True)``: replace it. ``structural`` (the default) also
  resets the editor's widgets so they show the new steps; pass ``False`` for edits that came
  from those widgets themselves.
* ``edit_pipeline(edit, *args, **kwargs) -> AugLabError | None``: apply one of the pure edit
  functions of :mod:`augment_core.pipelines.model` (``add_step``, ``remove``, ``move``, ``update``,
  ``group``, ``ungroup``) to the current pipeline; on an ``AugLabError`` the pipeline is left
  unchanged and the error is returned (and kept for :func:`pop_error`), so it can be used as a
  widget callback.
* ``pipeline_dict() -> dict | None``: albumentations' ``to_dict`` of the enabled steps, the form
  ``ExperimentSpec.pipeline`` takes; ``None`` when no step is enabled ("no augmentation").
* ``pipeline_compose() -> albumentations.Compose``: the built, seeded pipeline.
* ``get_data_kind() / set_data_kind(kind)``: the kind of data the label-safety check assumes.
* ``widget_generation() -> int``: a number that changes on every structural edit; editor widget
  keys include it so they are seeded again from the pipeline.

Example (an experiment page):
    >>> from ui.pipeline_state import get_pipeline, pipeline_dict
    >>> spec = ExperimentSpec(..., pipeline=pipeline_dict(), seed=get_pipeline().seed)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import albumentations as A
import streamlit as st

from augment_core import AugLabError
from augment_core.pipelines import Pipeline, to_compose
from augment_core.pipelines import training_dict
from augment_core.pipelines import list_data_kinds

_PIPELINE = "auglab:pipeline"
_GENERATION = "auglab:pipeline_generation"
_KIND = "auglab:data_kind"
_ERROR = "auglab:pipeline_error"


def get_pipeline() -> Pipeline:
    """The session's current pipeline."""
    return st.session_state.setdefault(_PIPELINE, Pipeline())


def set_pipeline(pipeline: Pipeline, *, structural: bool = True) -> None:
    """Replace the session's pipeline; ``structural`` resets the editor's widgets."""
    st.session_state[_PIPELINE] = pipeline
    if structural:
        st.session_state[_GENERATION] = widget_generation() + 1


def widget_generation() -> int:
    """Changes on every structural edit; part of every editor widget key."""
    return st.session_state.get(_GENERATION, 0)


def edit_pipeline(edit: Callable[..., Pipeline], *args: Any, structural: bool = True, **kwargs: Any) -> AugLabError | None:
    """Apply ``edit(current, *args, **kwargs)``; on ``AugLabError`` keep the pipeline and return it."""
    try:
        set_pipeline(edit(get_pipeline(), *args, **kwargs), structural=structural)
    except AugLabError as exc:
        st.session_state[_ERROR] = exc
        return exc
    return None


def pop_error() -> AugLabError | None:
    """The error of the last failed :func:`edit_pipeline` (once), for the page to show."""
    return st.session_state.pop(_ERROR, None)


def pipeline_dict() -> dict[str, Any] | None:
    """albumentations' dict of the enabled steps (for training), or ``None`` for no augmentation."""
    return training_dict(get_pipeline())


def pipeline_compose() -> A.Compose:
    """The current pipeline, built and seeded."""
    return to_compose(get_pipeline())


def get_data_kind() -> str:
    """The kind of data the label-safety check assumes (natural photos at first)."""
    return st.session_state.get(_KIND, list_data_kinds()[0])


def set_data_kind(kind: str) -> None:
    """Set the kind of data for the label-safety check."""
    if kind not in list_data_kinds():
        raise AugLabError(f"“{kind}” is not a kind of data the check knows.")
    st.session_state[_KIND] = kind
