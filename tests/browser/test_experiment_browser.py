"""The experiment page in a real browser: the built-in demo, short, from start to verdict, then the Runs page."""

from __future__ import annotations

from tests.browser.conftest import set_number, wait_for_app

CHARTS = "document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot').length"


def test_demo_trains_live_and_ends_on_the_verdict(page, app_url, screenshot):
    page.goto(f"{app_url}/experiment")
    wait_for_app(page)
    assert "Experiment" in page.inner_text("h1")
    page.wait_for_selector("text=Sample images of each class")
    assert set_number(page, "Epochs", 4) == "4"
    assert set_number(page, "Seeds", 2) == "2"

    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=Training: shapes", timeout=30_000)
    page.wait_for_selector("[data-testid='stProgress']", timeout=30_000)
    # The curves appear while it is still training (the progress bar is still there).
    page.wait_for_function(f"() => {CHARTS} >= 1 && document.querySelector('[data-testid=\"stProgress\"]')", timeout=60_000)
    assert "left" in page.inner_text("[data-testid='stProgress']") or "elapsed" in page.inner_text("body")

    page.wait_for_selector("text=final validation accuracy changed by", timeout=90_000)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "Result: shapes" in body and "confidence interval" in body
    assert "16 of 16 epochs finished" in body
    page.wait_for_function(f"() => {CHARTS} >= 2")  # headline comparison and side-by-side curves
    assert page.get_by_role("button", name="Curves as interactive HTML").count() == 1
    screenshot("experiment")

    page.goto(f"{app_url}/runs")
    wait_for_app(page)
    page.wait_for_selector("text=final validation accuracy changed by")
    assert "completed" in page.inner_text("[data-testid='stDataFrame']") or page.locator("[data-testid='stDataFrame']").count() == 1
