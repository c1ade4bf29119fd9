"""Typing a search and pressing *Add step* in a real browser adds the transform the page shows, at human speed and faster."""

from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for_app
from tests.browser.conftest import wait_idle

# (search text, transform the ranked list shows first)
SEARCHES = (("HorizontalFlip", "HorizontalFlip"), ("GaussNoise", "GaussNoise"), ("rain", "RandomRain"), ("Affine", "Affine"))


def _sidebar_steps(page) -> list[str]:
    """The steps the sidebar lists: the pipeline the Experiment page would train with."""
    items = page.eval_on_selector_all("[data-testid='stSidebar'] [data-testid='stMarkdownContainer'] ol li", "els => els.map(e => e.textContent)")
    return [item.split(" (p=")[0].split(":")[0] for item in items]  # "Affine: rotate, …" -> "Affine"


@pytest.mark.parametrize("speed", ["human", "fast"])
def test_typed_search_then_add_adds_what_is_shown(page, app_url, speed):
    page.goto(f"{app_url}/pipeline")
    wait_for_app(page)
    search = page.locator("input[aria-label='Search']")
    expected = []
    for text, shown in SEARCHES:
        search.click()
        search.fill("")
        if speed == "human":
            search.press_sequentially(text, delay=90)  # about 11 keys a second
            page.wait_for_timeout(400)  # a glance at the list before reaching for the button
        else:
            search.fill(text)  # pasted, then Add at once: the page has not redrawn the list yet
        page.get_by_role("button", name="Add step").click()
        expected.append(shown)
        page.wait_for_function("n => document.querySelectorAll(\"[data-testid='stSidebar'] ol li\").length === n", arg=len(expected), timeout=30_000)
        wait_idle(page)
        assert _sidebar_steps(page) == expected
