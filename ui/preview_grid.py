"""Drawing a preview grid on the Playground, and timing it for the browser benchmark.

The grid itself is built in ``augment_core.transforms.render_grid``; this module only turns a
:class:`PreviewGrid` into Streamlit elements. With ``AUGLAB_PREVIEW_TRACE`` set, each fragment
run appends one JSON line of wall-clock timestamps (seconds since the epoch, comparable with the
browser's ``performance.timeOrigin + performance.now()`` on the same machine), so
``benchmarks/preview_browser.py`` can split a slider move into server and browser phases.
"""

from __future__ import annotations

import base64
import html
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from augment_core import AugLabError
from augment_core.settings import get_int, get_setting
from augment_core.transforms import (LoadedImage, PreviewGrid, Tile, bounded_call, encode_jpeg, first_preview, render_grid_bounded,
                                     shrink)
from ui.common import show_error

# Grids estimated to take longer than this show a spinner in place of the old tiles.
_SPINNER_MS = 300
# Key of the container that holds the grid (Streamlit gives it the class ``st-key-<key>``).
GRID_KEY = "playground-grid"
# Session key holding the settings (``show_preview``'s ``key``) for which the full grid was asked.
_FULL_GRID = "preview:full_grid_for"


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


def tiles_html(tiles: list[Tile], columns: int) -> str:
    """The tiles as one HTML grid, each JPEG inline as a ``data:`` URL, with its caption below it.

    One element instead of one ``st.image`` per tile: the browser gets the tiles inside the delta
    itself, so a slider move needs no further HTTP requests (8 media fetches were the largest
    part of the Streamlit floor: ``benchmarks/preview_browser.py --floor-modes columns,inline``).
    """
    cells = "".join(
        f'<figure data-testid="auglabTile"><img src="data:image/jpeg;base64,{base64.b64encode(tile.encoded).decode()}" '
        f'alt="sample {i + 1}"><figcaption data-testid="auglabTileCaption">{html.escape(tile.caption)}</figcaption></figure>'
        for i, tile in enumerate(tiles)
    )
    return f'<div class="auglab-tiles" style="--auglab-columns:{columns}">{cells}</div>'


# Tiles laid out like Streamlit's own images: a 4-column grid, rounded corners, small grey captions.
_TILES_CSS = """
<style>
.auglab-tiles { display: grid; grid-template-columns: repeat(var(--auglab-columns), minmax(0, 1fr)); gap: 1rem; }
.auglab-tiles figure { margin: 0; display: flex; flex-direction: column; align-items: center; }
.auglab-tiles img { width: 100%; height: auto; border-radius: 0.5rem; }
.auglab-tiles figcaption { font-size: 0.875rem; opacity: 0.6; text-align: center; margin-top: 0.25rem; overflow-wrap: anywhere; }
@media (max-width: 640px) { .auglab-tiles { gap: 0.4rem; } .auglab-tiles figcaption { font-size: 0.65rem; line-height: 1.1; } }
</style>
"""


def draw_grid(result: PreviewGrid, images: list[LoadedImage], n: int) -> None:
    """The originals in a narrow column, then the tiles four to a row, each with its caption."""
    originals_column, tiles = st.columns([1, 3.2])
    originals = originals_column.container(key="playground-originals")
    for img in images:
        originals.image(original_jpeg(img.array), caption=f"original · {img.name}", width="stretch")
    tiles.html(tiles_html(result.tiles, min(4, n)))
    st.caption(f"{n} samples in {result.total_ms:.0f} ms (albumentations {result.transform_ms:.0f} ms).")


def show_preview(transform: Any, images: list[LoadedImage], n: int, seed: int, key: str, trace: PreviewTrace) -> PreviewGrid | None:
    """Draw the grid for ``transform``; a slow one is drawn smaller first, with a button for the full grid.

    Fast grids (nearly all transforms) are drawn straight away. When the grid is estimated to
    take more than ``_SPINNER_MS``, the old tiles are replaced by a spinner at once, so nothing
    stale stays on screen under a new heading. When it is estimated to exceed the
    ``AUGLAB_PREVIEW_FIRST_MS`` budget, fewer or smaller tiles are drawn first, with a line saying
    so and a button that draws the full grid (for these exact settings). Errors are shown with
    :func:`show_error` and return ``None``.
    """
    arrays = [img.array for img in images]
    try:
        # planning draws one small tile and, for a quick grid, the grid itself, in one call to the
        # time-limited preview worker (one trip for the images instead of two)
        first = bounded_call(first_preview, transform, arrays, n, seed, budget_ms=get_int("AUGLAB_PREVIEW_FIRST_MS"),
                             full=st.session_state.get(_FULL_GRID) == key, draw_within_ms=_SPINNER_MS)
        plan, side, count = first.plan, first.side, first.n
        trace.mark("planned", planned_ms=first.expected_ms)
        result, slot = first.grid, st
        if result is None:
            slot = st.empty()  # takes the old tiles' place now: the spinner replaces them at once
            with slot.container(), st.spinner(f"Drawing {count} samples, about {first.expected_ms / 1000:.1f} s…", show_time=True):
                result = render_grid_bounded(transform, shrink(arrays, side), n=count, seed=seed)
    except AugLabError as exc:
        show_error(exc)
        return None
    trace.mark("built", grid_ms=result.total_ms, transform_ms=result.transform_ms, encode_ms=result.encode_ms)
    with slot.container():
        if plan.reduced and side is not None:
            note, button = st.columns([3, 1], vertical_alignment="center")
            note.info(f"This transform would take about {plan.full_ms / 1000:.0f} s for {n} samples at full size here, "
                      f"so {count} {'is' if count == 1 else 'are'} shown at {side} px first.", icon=":material/hourglass_top:")
            button.button("Full grid", icon=":material/grid_view:", on_click=_ask_full_grid, args=(key,),
                          help=f"Draw all {n} samples at full size (about {plan.full_ms / 1000:.0f} s).")
        draw_grid(result, images, count)
    return result


def _ask_full_grid(key: str) -> None:
    """Button callback: the next run draws the full grid for the settings ``key``."""
    st.session_state[_FULL_GRID] = key


# Below 640 px Streamlit stacks columns, which put every slider above the grid (the first sample
# 1,000+ px below the slider being moved on a 390-px phone). There the grid's column sticks to
# the bottom of the screen, right below whatever control is in view, and its inner rows keep
# their columns side by side (four tiles across) so it stays short enough to leave room above.
_NARROW_CSS = f"""
<style>
@media (max-width: 640px) {{
  [data-testid="stColumn"]:has(.st-key-{GRID_KEY}) {{
    position: sticky; bottom: 0; z-index: 3; max-height: 45vh; overflow-y: auto;
    backdrop-filter: blur(10px); -webkit-backdrop-filter: blur(10px);
    border-top: 1px solid rgba(127, 127, 127, 0.35); padding-top: 0.25rem;
  }}
  /* focus and scrollIntoView keep the control above the pinned grid, not under it */
  html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{ scroll-padding-bottom: 50vh; }}
  .st-key-{GRID_KEY} [data-testid="stHorizontalBlock"] {{ flex-wrap: nowrap; gap: 0.4rem; }}
  .st-key-{GRID_KEY} [data-testid="stColumn"] {{ min-width: 0; width: auto; flex: 1 1 0; }}
  .st-key-{GRID_KEY} [data-testid="stColumn"]:has(.st-key-playground-originals) {{ flex: 0 0 20%; }}
}}
</style>
"""


def narrow_screen_layout() -> None:
    """Inject the narrow-screen rules once per page run (outside the fragment, so not on every move)."""
    st.html(_NARROW_CSS + _TILES_CSS)
