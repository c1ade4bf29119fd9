"""The pipeline editor in a real browser: build a 4-step pipeline with a OneOf, watch boxes and a
mask follow a rotation, export JSON, reload, import the file, and get the same grid for the same seed."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
from PIL import Image
from playwright.sync_api import expect

from augment_core.transforms import catalog
from augment_core.pipelines.annotations import draw_annotations, load_annotated_sample
from augment_core.pipelines.model import Group
from augment_core.pipelines.io import import_text
from tests.browser.conftest import choose, wait_idle

STEPS = ("Rotate", "GaussNoise", "GaussianBlur", "RandomBrightnessContrast")
CAPTIONS = "els => els.map(e => e.textContent)"





def _view(page, name: str) -> None:
    page.locator("[data-testid='stButtonGroup'] button", has_text=name).click()
    wait_idle(page)


def _grid(page, first_caption: str, count: int = 9) -> tuple[list[str], list[bytes]]:
    """Captions and served image bytes of the ``count`` tiles, once the grid starting with ``first_caption`` is drawn."""
    page.wait_for_function(
        "([first, count]) => { const c = [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')]; "
        "const imgs = [...document.querySelectorAll('[data-testid=\"stImage\"] img')]; "
        "return c.length === count && c[0].textContent.startsWith(first) && imgs.length === c.length && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        arg=[first_caption, count], timeout=30_000)
    captions = page.eval_on_selector_all("[data-testid='stImageCaption']", CAPTIONS)
    sources = page.eval_on_selector_all("[data-testid='stImage'] img", "els => els.map(e => e.src)")
    return captions, [page.request.get(src).body() for src in sources]


def _screenshot(page, screenshot, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so make the window tall."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1500, height + 100)})
    wait_idle(page)
    screenshot(name)
    page.set_viewport_size({"width": 1400, "height": 1500})


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _smooth(image: np.ndarray) -> np.ndarray:
    return cv2.blur(image.astype(np.float32), (9, 9))


def _rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """``image`` turned ``angle`` degrees counter-clockwise about its centre, black outside (like A.Rotate)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def test_build_rotate_export_reload_import(page, app_url, screenshot):
    page.goto(f"{app_url}/pipeline")
    wait_idle(page)
    page.wait_for_selector("h1:has-text('Pipeline')")
    page.wait_for_selector("text=no step switched on")
    assert "The pipeline is empty" in page.inner_text("body")
    assert _grid(page, "original", 1)[0] == ["original · Labelled grid"]  # no tiles pretending to be samples

    # Four steps from the catalog, then GaussNoise and GaussianBlur grouped into a OneOf.
    for name in STEPS:
        choose(page, "Transform", f"{name} · {'↔' if name == 'Rotate' else '◐'}", typed=name, settle=wait_idle)
        # The adder's caption shows the chosen transform's summary once the server has the choice
        # (a click on Add step before that can be lost while the selection's rerun is in flight).
        page.locator("[data-testid='stCaptionContainer']", has_text=catalog.get_transform(name).summary[:40]).first.wait_for()
        page.get_by_role("button", name="Add step").click()
        page.wait_for_selector(f"[data-testid='stMarkdownContainer'] strong:text-is('{name}')")
        wait_idle(page)
    selects = page.get_by_role("checkbox", name="Select")
    expect(selects).to_have_count(4)
    for index in (1, 2):  # GaussNoise and GaussianBlur
        page.locator("[data-testid='stCheckbox']").filter(has=page.get_by_role("checkbox", name="Select")).nth(index).locator("label").click()
        page.wait_for_function("i => document.querySelectorAll('input[aria-label=\"Select\"]')[i].checked", arg=index)
    group = page.get_by_role("button", name="Group as OneOf")
    page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.textContent.includes('Group as OneOf') && !b.disabled)")
    group.click()
    page.wait_for_selector("strong:text-is('OneOf')")
    wait_idle(page)
    body = page.inner_text("body")
    assert "OneOf · 2 steps" in body and "One of these steps runs on each sample" in body
    expect(page.get_by_role("checkbox", name="Select")).to_have_count(2)  # Rotate and RandomBrightnessContrast stay top-level

    # Rotate by exactly +90°: open its parameters and move the start thumb up to the end thumb.
    page.locator("[data-testid='stExpander'] summary", has_text="Parameters").first.click()
    start = page.locator("input[aria-label='Limit — start']")
    start.focus()
    page.keyboard.press("End")
    wait_idle(page)

    # Boxes, mask and keypoints: the page says which steps move geometry, and the tiles show Rotate +90°.
    _view(page, "Boxes, masks and keypoints")
    report = page.inner_text("[data-testid='stMain']")
    assert "Rotate: moves geometry" in report
    for name in STEPS[1:]:
        assert f"{name}: changes pixels only" in report
    captions, tiles = _grid(page, "original")
    assert len(captions) == 9 and all("Rotate: angle +90.0°" in c for c in captions[1:]), captions
    assert sum(("GaussNoise" in c) != ("GaussianBlur" in c) for c in captions[1:]) == 8  # exactly one of the OneOf each time
    # Boxes and mask moved with the pixels: where "annotations turned with the picture" and "picture turned,
    # annotations left in place" differ, each tile looks like the first. Smoothing tames GaussNoise.
    sample = load_annotated_sample("Shapes")
    moved = _smooth(_rotate(draw_annotations(sample.image, sample.annotations), 90))
    unmoved = _smooth(draw_annotations(_rotate(sample.image, 90), sample.annotations))
    where = np.abs(moved - unmoved).sum(axis=-1) > 60
    assert where.mean() > 0.1
    agree = []
    for caption, tile in zip(captions[1:], tiles[1:]):
        pixels = _smooth(_decode(tile))
        near, far = np.abs(pixels - moved).sum(axis=-1)[where], np.abs(pixels - unmoved).sum(axis=-1)[where]
        agree.append((near < far).mean())
        assert agree[-1] > 0.4, (caption, agree[-1])  # unmoved annotations score under 0.2 even on noisy tiles
    assert np.mean(agree) > 0.7, agree
    _screenshot(page, screenshot, "pipeline_annotations")

    # A seed of our own, then the preview grid we must get back.
    page.get_by_role("button", name="Resample").click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stNumberInput\"] input[aria-label=\"Seed\"]')?.value === '43'")
    wait_idle(page)
    _view(page, "Preview")
    before = _grid(page, "original")
    assert len(before[0]) == 9
    _screenshot(page, screenshot, "pipeline")

    # Export JSON.
    _view(page, "Export, import and share")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="JSON").click()
    exported = download_info.value.path().read_bytes()
    pipe = import_text(exported, "json")
    assert pipe.seed == 43 and [type(i).__name__ for i in pipe.items] == ["Step", "Group", "Step"]
    assert isinstance(pipe.items[1], Group) and pipe.items[1].kind == "OneOf" and pipe.items[0].args["limit"] == (90, 90)

    # Reload: the address bar's link brings the same pipeline and seed back.
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("checkbox", name="Select")).to_have_count(2)
    assert _grid(page, "original") == before

    # A fresh visit starts empty; importing the file restores the pipeline and its seed: same grid.
    page.goto(f"{app_url}/pipeline")
    wait_idle(page)
    page.wait_for_selector("text=The pipeline is empty")
    _view(page, "Export, import and share")
    uploader = page.locator("[data-testid='stFileUploader']", has_text="Pipeline file")
    uploader.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "pipeline.json", "mimeType": "application/json", "buffer": exported}])
    page.wait_for_selector("text=pipeline.json")
    wait_idle(page)
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Imported 3 steps (seed 43)")
    wait_idle(page)
    assert re.search(r"OneOf · 2 steps", page.inner_text("body"))
    _view(page, "Preview")
    assert _grid(page, "original") == before
