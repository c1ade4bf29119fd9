"""The playground in a real browser: upload a phone photo, pick Rotate, move a slider."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from augment_core.transforms.samples import load_sample
from tests.browser.conftest import wait_for_app


def _phone_photo() -> bytes:
    """A 12-megapixel portrait photo stored sideways with EXIF orientation 6, as phones write them."""
    upright = Image.fromarray(load_sample("Astronaut")).resize((3000, 4000))
    pixels = np.asarray(upright.transpose(Image.Transpose.ROTATE_90))  # stored 4000 wide × 3000 high
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def _captions(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid='stImageCaption']", "els => els.map(e => e.textContent)")


def test_upload_pick_rotate_move_slider(page, app_url, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_selector("[data-testid='stImage']")
    assert "Playground" in page.inner_text("h1")

    page.set_input_files(
        "[data-testid='stFileUploaderDropzoneInput']",
        files=[
            {"name": "phone.jpg", "mimeType": "image/jpeg", "buffer": _phone_photo()},
            {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 not really a jpeg"},
        ],
    )
    page.wait_for_selector("text=original · phone.jpg", timeout=60_000)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "broken.jpg" in body and ("cannot be decoded" in body or "not an image" in body)  # the bad file is named
    assert "rotated upright from its EXIF orientation" in body and "downscaled from 4000×3000" in body
    # The phone photo is shown upright: portrait, as the phone displayed it.
    width, height = page.eval_on_selector_all(
        "[data-testid='stImage']",
        "els => { const e = els.find(x => x.textContent.includes('phone.jpg')); const i = e.querySelector('img'); return [i.naturalWidth, i.naturalHeight]; }",
    )
    assert height > width and max(width, height) == 512

    before = _captions(page)
    assert sum(c.startswith("angle") for c in before) == 8
    start = page.locator("input[aria-label='Limit — start']")
    start.focus()
    page.keyboard.press("End")  # start thumb up to the end thumb: every sample rotates by exactly +90°
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')].filter(e => e.textContent.startsWith('angle +90.0')).length === 8",
        timeout=30_000,
    )
    wait_for_app(page)
    assert _captions(page) != before
    page.keyboard.press("PageDown")  # widen the range again: start thumb down a page
    page.keyboard.press("PageDown")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')].filter(e => e.textContent.startsWith('angle +90.0')).length < 8",
        timeout=30_000,
    )
    wait_for_app(page)
    path = screenshot("playground")
    assert path.stat().st_size > 50_000
