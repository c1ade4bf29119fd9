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
    """Captions of the originals (Streamlit images), then of the tiles (the inline grid), in page order."""
    return page.eval_on_selector_all("[data-testid='stImageCaption'], [data-testid='auglabTileCaption']", "els => els.map(e => e.textContent)")


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
        "() => [...document.querySelectorAll('[data-testid=\"auglabTileCaption\"]')].filter(e => e.textContent.startsWith('angle +90.0')).length === 8",
        timeout=30_000,
    )
    wait_for_app(page)
    assert _captions(page) != before
    page.keyboard.press("PageDown")  # widen the range again: start thumb down a page
    page.keyboard.press("PageDown")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"auglabTileCaption\"]')].filter(e => e.textContent.startsWith('angle +90.0')).length < 8",
        timeout=30_000,
    )
    wait_for_app(page)
    path = screenshot("playground")
    assert path.stat().st_size > 50_000


def _expected_captions(limit: tuple[int, int]) -> list[str]:
    """What the page must show for the built-in grid at this Rotate limit: the same call it makes."""
    import augment_core  # noqa: F401
    from augment_core.settings import get_int
    from augment_core.transforms import catalog, downscale, render_grid

    image = downscale(np.asarray(load_sample("Labelled grid")), get_int("AUGLAB_PREVIEW_SIZE"))
    transform = catalog.create_transform("Rotate", {"limit": limit}, image_size=image.shape[:2])
    captions = [t.caption for t in render_grid(transform, [image], n=8, seed=42, encode=False).tiles]
    return captions


def _tile_captions(page) -> list[str]:
    return [c for c in _captions(page) if not c.startswith("original")]


def _settle_on(page, expected: list[str]) -> None:
    """Wait (with a deadline) until the tiles show ``expected``, then check they stay there."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
        """want => { const got = [...document.querySelectorAll('[data-testid="auglabTileCaption"]')].map(e => e.textContent); return JSON.stringify(got) === JSON.stringify(want); }""",
        arg=expected, timeout=60_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"the tiles never showed the final position: {_tile_captions(page)} != {expected}") from None
    wait_for_app(page, idle_ms=1000)
    assert _tile_captions(page) == expected  # no late rerun replaced them with an older position


def test_a_drag_and_a_key_burst_end_on_the_final_position(page, app_url):
    """Issue 14: however fast the slider moves, the grid ends on the tiles of where it stopped."""
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_selector("[data-testid='stImageCaption']")
    start = page.locator("input[aria-label='Limit — start']")
    # react-aria's slider: the visible thumb is the (hidden) input's grandparent, the track the next one up.
    box, track = start.evaluate("""i => [i.parentElement.parentElement, i.parentElement.parentElement.parentElement]
        .map(e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })""")
    # Drag the start thumb across the track and past the end thumb, in many small moves, as a hand does.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(box["x"] + (track["x"] + track["width"] - box["x"]) * i / 30, box["y"] + box["height"] / 2)
    page.mouse.up()
    assert start.input_value() == "90"
    _settle_on(page, _expected_captions((90, 90)))
    # Then a burst of 30 key presses with no pause: every one asks for a rerun; the last wins.
    start.focus()
    for _ in range(30):
        page.keyboard.press("ArrowLeft")
    _settle_on(page, _expected_captions((60, 90)))
    assert start.input_value() == "60"


def test_on_a_phone_the_samples_stay_in_view_below_the_slider(browser, app_url):
    """Issue 10: on a 390-px screen the sliders were 1,000 px above the first sample."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(app_url)
        wait_for_app(page)
        page.wait_for_selector("[data-testid='stImageCaption']")
        for label in ("Limit — start", "Probability (p)"):
            slider = page.locator(f"input[aria-label='{label}']")
            slider.scroll_into_view_if_needed()
            slider.focus()
            page.keyboard.press("ArrowRight")
            wait_for_app(page)
            thumb, tile = page.evaluate(
                """label => {
                    const thumb = document.querySelector(`input[aria-label='${label}']`).parentElement.parentElement.getBoundingClientRect();
                    const tile = document.querySelector('[data-testid="auglabTile"] img').getBoundingClientRect();
                    return [{top: thumb.top, bottom: thumb.bottom}, {top: tile.top, bottom: tile.bottom}];
                }""", label)
            assert 0 <= thumb["top"] and thumb["bottom"] <= 844, f"{label}: the slider is off screen ({thumb})"
            assert thumb["bottom"] <= tile["top"] and tile["bottom"] <= 844, f"{label}: the first sample is not on screen below the slider ({thumb}, {tile})"
        from tests.browser.conftest import SCREENSHOTS

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "playground_phone.png"))
    finally:
        context.close()


def test_a_slow_transform_hides_the_old_tiles_and_comes_smaller_first(page, app_url):
    """Issue 10: PiecewiseAffine took ~25 s with the old tiles on screen and nothing saying it was working."""
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_selector("[data-testid='auglabTileCaption']")
    assert any(c.startswith("angle") for c in _tile_captions(page))
    page.locator("input[aria-label='Search']").first.fill("PiecewiseAffine")
    page.keyboard.press("Enter")
    # The Rotate tiles must leave as soon as the new preview starts, not when it ends.
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=\"auglabTileCaption\"]')].some(e => e.textContent.startsWith('angle'))",
        timeout=30_000,
    )
    page.wait_for_selector("text=shown at", timeout=60_000)
    wait_for_app(page)
    note = page.inner_text("body")
    assert "PiecewiseAffine" in note and "for 8 samples at full size" in note
    assert 1 <= len(_tile_captions(page)) <= 8
    assert page.get_by_role("button", name="Full grid").is_visible()
