"""A link straight to a page, as the first visit after the server starts, still goes through app.py."""

from __future__ import annotations

import pytest

from tests.browser.conftest import start_app, stop_app, wait_for_app


@pytest.fixture
def fresh_app(tmp_path):
    process, url = start_app(tmp_path)
    yield url
    stop_app(process)


def test_first_visit_to_a_page_link_uses_the_app_navigation(browser, fresh_app):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{fresh_app}/pipeline")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('Pipeline')", timeout=60_000)
    sidebar = page.inner_text("[data-testid='stSidebar']")
    assert "Look and compose" in sidebar and "Playground" in sidebar, sidebar
    assert "app\n" not in sidebar.lower()  # not Streamlit's file-name list of the old multipage mode
    context.close()
