"""Data sets a page keeps between reruns: the server's byte-bounded cache, with a spinner while one is built."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from augment_core.prove import data_cache

T = TypeVar("T")


def kept_data(key: Hashable, spinner: str, build: Callable[[], T]) -> T:
    """The data set for ``key`` (``AUGLAB_DATA_CACHE_BYTES`` bounds them all), built under ``spinner`` when missing."""
    cache = data_cache()
    if key in cache:
        return cache.get_or_build(key, build)
    with st.spinner(spinner):
        return cache.get_or_build(key, build)
