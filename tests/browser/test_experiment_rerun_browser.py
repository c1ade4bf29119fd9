"""Two runs in a row on an uploaded zip, in a real browser: the second trains the same zip and pipeline the form shows."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import set_number, wait_for_app


def _zip() -> bytes:
    """Two classes of 12 small distinct images each."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for cls, level in (("dark", 40), ("light", 200)):
            for i in range(12):
                image = np.clip(rng.normal(level, 20, (24, 24, 3)), 0, 255).astype(np.uint8)
                out = io.BytesIO()
                Image.fromarray(image).save(out, "PNG")
                archive.writestr(f"{cls}/{i}.png", out.getvalue())
    return buffer.getvalue()


def _run_and_wait(page, seeds: int) -> None:
    """Start the run and wait for its result.

    A run this small can finish (in a few seconds) before the live view is ever seen, so the
    test waits for the result of *this* run (its title names the data and the seed count)
    rather than for the live "Training:" header.
    """
    start = page.get_by_role("button", name="Start training")
    errors = page.eval_on_selector_all("[data-testid='stAlertContentError']", "els => els.map(e => e.textContent)")
    assert not errors, errors
    start.click()
    title = re.compile(rf"^Result: mine\.zip · .* · 1 ep × {seeds} seeds$")
    # it may wait in the queue behind earlier tests' runs, on a CPU shared with other work; no time is asserted
    page.get_by_text(title).wait_for(timeout=600_000)
    page.wait_for_selector("text=Set up the next run", timeout=60_000)
    wait_for_app(page)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two real trainings on a CPU shared with other work
def test_two_runs_in_a_row_on_an_uploaded_zip(page, app_url, tmp_path):
    page.goto(f"{app_url}/experiment")
    wait_for_app(page)
    page.locator("[data-testid='stButtonGroup'] button", has_text="Zip of class folders").click()
    wait_for_app(page)
    path = tmp_path / "mine.zip"
    path.write_bytes(_zip())
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    page.wait_for_selector("text=24 images kept", timeout=30_000)
    wait_for_app(page)
    page.get_by_text("A preset", exact=True).click()
    wait_for_app(page)
    for label, value in (("Epochs", 1), ("Seeds", 1), ("Image size (px)", 16), ("Passes per epoch", 1)):
        set_number(page, label, value)
    _run_and_wait(page, seeds=1)

    first = _result_caption(page)
    assert "data: uploaded images" in first and "pipeline: " in first

    # The form after the run: still the zip, the preset pipeline, the numbers.
    body = page.inner_text("[data-testid='stMain']")
    assert "Using mine.zip" in body and "24 images kept" in body
    assert page.locator("input[aria-label='Epochs']").input_value() == "1"
    set_number(page, "Seeds", 2)  # change one number and start again
    _run_and_wait(page, seeds=2)
    second = _result_caption(page)
    assert second.startswith("mine.zip · ") and "1 ep × 2 seeds" in second  # run name: data, backbone, pipeline, numbers
    assert "data: uploaded images" in second and second.split("pipeline: ")[1].split(" · ")[0] == first.split("pipeline: ")[1].split(" · ")[0]
    assert "Using mine.zip" in page.inner_text("[data-testid='stMain']")


def _result_caption(page) -> str:
    """The finished run's one-line description: name, data, pipeline, epochs."""
    captions = page.eval_on_selector_all("[data-testid='stCaptionContainer']", "els => els.map(e => e.textContent)")
    return next(c for c in captions if " · data: " in c)
