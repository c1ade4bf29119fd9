"""The floor of the Streamlit stack: a slider that redraws 8 precomputed tiles and does no work.

Run by ``benchmarks/preview_browser.py`` with ``streamlit run``; not part of the app. Each slider
move shows a different set of 8 JPEG tiles (so the browser really fetches new images), laid out
like the Playground's grid (controls on the left, the grid on the right, four columns). Tiles have
the pixel size and JPEG quality given by ``FLOOR_TILE_WIDTH``, ``FLOOR_TILE_HEIGHT`` and
``FLOOR_TILE_QUALITY``, cut from the picture in ``FLOOR_IMAGE`` (a ``.npy`` RGB array: the
benchmark passes the Playground's own preview of its photo) so that the floor sends as many bytes
as our page sends (a smooth gradient, the fallback, compresses to a quarter of that). ``FLOOR_MODE`` picks how the
grid travels: ``columns`` (the Playground's way: one ``st.image`` per tile), ``list`` (one
``st.image`` with all 8) or ``inline`` (one ``st.html`` element with the tiles as ``data:`` URLs).
"""

from __future__ import annotations

import base64
import json
import os
import time

import cv2
import numpy as np
import streamlit as st

SETS = 32  # distinct tile sets; slider value v shows set v % SETS


@st.cache_resource
def tile_sets(width: int, height: int, quality: int) -> list[list[bytes]]:
    """SETS × 8 JPEG tiles: a rotated picture, a different angle per tile and set."""
    if IMAGE:
        base = cv2.resize(np.load(IMAGE)[..., ::-1], (width, height), interpolation=cv2.INTER_AREA)  # RGB → OpenCV's BGR
    else:
        y, x = np.mgrid[0:height, 0:width]
        base = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) * 127 // max(1, width + height)], axis=-1).astype(np.uint8)
        cv2.putText(base, "floor", (width // 8, height // 2), cv2.FONT_HERSHEY_SIMPLEX, width / 160, (255, 255, 255), 3)
    rng = np.random.default_rng(0)
    sets = []
    for _ in range(SETS):
        tiles = []
        for _ in range(8):
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.uniform(-90, 90)), 1.0)
            rotated = cv2.warpAffine(base, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
            tiles.append(cv2.imencode(".jpg", rotated, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
        sets.append(tiles)
    return sets


WIDTH = int(os.environ.get("FLOOR_TILE_WIDTH", "384"))
HEIGHT = int(os.environ.get("FLOOR_TILE_HEIGHT", "512"))
QUALITY = int(os.environ.get("FLOOR_TILE_QUALITY", "80"))
IMAGE = os.environ.get("FLOOR_IMAGE", "")
MODE = os.environ.get("FLOOR_MODE", "columns")
TRACE = os.environ.get("AUGLAB_PREVIEW_TRACE", "")
st.set_page_config(page_title="Streamlit floor", layout="wide")
st.title("Floor")
sets = tile_sets(WIDTH, HEIGHT, QUALITY)


@st.fragment
def panel() -> None:
    """The same shape as the Playground's fragment, with the work taken out."""
    start = time.time()
    controls, grid = st.columns([1, 2.2], gap="large")
    value = controls.slider("Limit", 0, 1000, 0, key="floor:limit")
    tiles = sets[value % SETS]
    built = time.time()
    _, right = grid.columns([1, 3.2])
    captions = [f"angle set {value} tile {i}" for i in range(len(tiles))]
    if MODE == "list":  # one element holding all 8 images
        right.image(tiles, caption=captions, width=WIDTH * 4 // 10)
    elif MODE == "inline":  # one HTML element, tiles inline as data: URLs, so no media fetches at all
        cells = "".join(
            f'<figure data-testid="auglabTile" style="margin:0"><img src="data:image/jpeg;base64,{base64.b64encode(t).decode()}" style="width:100%">'
            f'<figcaption data-testid="auglabTileCaption" style="font-size:0.8rem">{c}</figcaption></figure>' for t, c in zip(tiles, captions))
        right.html(f'<div style="display:grid;grid-template-columns:repeat(4,1fr);gap:1rem">{cells}</div>')
    else:  # one element per tile, in four columns (the Playground's layout)
        columns = right.columns(4)
        for i, tile in enumerate(tiles):
            columns[i % 4].image(tile, caption=captions[i], width="stretch")
    if TRACE:
        with open(TRACE, "a", encoding="utf-8") as out:
            out.write(json.dumps({"start": start, "built": built, "end": time.time(), "grid_ms": 0, "transform_ms": 0, "encode_ms": 0}) + "\n")


panel()
