"""Drawing a preview grid on the Playground, and timing it for the browser benchmark.

The grid itself is built in ``augment_core.transforms.render_grid``; this module only turns a
:class:`PreviewGrid` into Streamlit elements. With ``AUGLAB_PREVIEW_TRACE`` set, each fragment
run appends one JSON line of wall-clock timestamps (seconds since the epoch, comparable with the
browser's ``performance.timeOrigin + performance.now()`` on the same machine), so
``benchmarks/preview_browser.py`` can split a slider move into server and browser phases.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from augment_core.settings import get_setting
from augment_core.transforms import LoadedImage, PreviewGrid, encode_jpeg


@dataclass
class PreviewTrace:
    """Timestamps of one fragment run; written only when ``AUGLAB_PREVIEW_TRACE`` names a file."""

    path: str = field(default_factory=lambda: get_setting("AUGLAB_PREVIEW_TRACE"))
    marks: dict[str, Any] = field(default_factory=lambda: {"start": time.time()})

    def mark(self, name: str, **values: Any) -> None:
        """Record the time ``name`` was reached, plus any figures worth keeping beside it."""
        self.marks[name] = time.time()
        self.marks.update(values)

    def write(self) -> None:
        """Append the run's marks as one JSON line (nothing when tracing is off)."""
        if not self.path:
            return
        self.mark("end")
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(self.marks) + "\n")


@st.cache_data(max_entries=64, show_spinner=False)
def original_jpeg(array: np.ndarray) -> bytes:
    """An original image as JPEG bytes, encoded once rather than on every slider move.

    Given an array, ``st.image`` re-encodes it on each rerun (about 10–20 ms at 512 px); the
    bytes are the same each time, so the browser never fetched them again anyway. The original
    keeps its full preview size: it does not change with the slider, so its size costs nothing
    per move.
    """
    return encode_jpeg(array, quality=92)


def draw_grid(result: PreviewGrid, images: list[LoadedImage], n: int) -> None:
    """The originals in a narrow column, then the tiles four to a row, each with its caption."""
    originals, tiles = st.columns([1, 3.2])
    for img in images:
        originals.image(original_jpeg(img.array), caption=f"original · {img.name}", width="stretch")
    columns = tiles.columns(min(4, n))
    for i, tile in enumerate(result.tiles):
        columns[i % len(columns)].image(tile.encoded, caption=tile.caption, width="stretch")
    st.caption(f"{n} samples in {result.total_ms:.0f} ms (albumentations {result.transform_ms:.0f} ms).")
