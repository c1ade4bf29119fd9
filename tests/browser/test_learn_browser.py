"""The Learn page in a real browser: each lesson's slider changes its figure, its first link opens the target page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

import pytest

from augment_core import lessons
from augment_core.transforms.samples import load_sample
from tests.browser.conftest import wait_for_app

FIGURES = "els => els.map(e => JSON.stringify(e.data))"


@pytest.mark.parametrize("key", lessons.list_lessons())
def test_lesson_slider_changes_figure_and_link_opens_page(key, page, app_url, screenshot):
    lesson = lessons.get_lesson(key)
    page.goto(app_url)
    wait_for_app(page)
    page.goto(f"{app_url}/learn?lesson={key}")
    wait_for_app(page)
    try:
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    except Exception:
        screenshot(f"learn_failed_{key}")
        raise AssertionError(page.inner_text("body")[:3000])
    assert f"{lesson.number}. {lesson.title}" in page.inner_text("h3")
    if key == "geometry":
        screenshot("learn")
    before = page.eval_on_selector_all(".js-plotly-plot", FIGURES)

    slider = page.locator(f"[data-testid='stSlider'] input[aria-label='{lesson.controls[0].label}']")
    slider.focus()
    first = lesson.controls[0]
    to_low = first.kind == "slider" and first.default == first.high
    page.keyboard.press("Home" if to_low else "End")
    page.wait_for_function(
        "before => { const now = [...document.querySelectorAll('.js-plotly-plot')].map(e => JSON.stringify(e.data)); "
        "return now.length > 0 && JSON.stringify(now) !== JSON.stringify(before); }", arg=before, timeout=60_000)
    wait_for_app(page)

    images = [load_sample(s) for s in lesson.default_samples]
    values = {first.name: (first.low if to_low else first.high) if first.kind == "slider" else first.options[-1]}
    link = lessons.build_lesson(key, images, values, samples=lesson.default_samples).links[0]
    # The link is redrawn by the same rerun as the figure: wait until it carries the new values.
    page.wait_for_function(
        """([label, params]) => {
            const a = [...document.querySelectorAll('a')].find(e => e.textContent.includes(label));
            if (!a) return false;
            const query = new URL(a.href, location.href).searchParams;
            return Object.entries(params).every(([k, v]) => query.get(k) === v);
        }""",
        arg=[link.label, link.query_params],
        timeout=60_000,
    )
    page.get_by_role("link", name=link.label).click()
    page.wait_for_url(lambda url: dict(parse_qsl(urlparse(url).query)).items() >= link.query_params.items(), timeout=60_000)
    wait_for_app(page)
    if link.page == "pages/playground.py":
        assert page.inner_text("h1").startswith("Playground")
        page.wait_for_selector(f"text={link.query_params['transform']} · ", timeout=60_000)  # the playground's transform line
