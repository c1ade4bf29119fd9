"""Search and ablation in Chromium: a short real search on the built-in data, trials arriving, the confirmed
leaderboard, export and "open in the editor"; an ablation of the demo pipeline from the Pipeline page."""

from __future__ import annotations

import json

import pytest

from augment_core.experiment import DEMO_PIPELINE
from augment_core.pipelines import encode_link, from_dict
from tests.browser.conftest import wait_for_app


@pytest.mark.timeout(900)  # real training on two shared cores: a search, then its confirmation
def test_short_search_to_confirmed_leaderboard_then_open_the_winner(page, app_url, screenshot, tmp_path):
    page.goto(f"{app_url}/search")
    wait_for_app(page)
    assert "Search" in page.inner_text("h1")
    page.locator("[data-testid='stButtonGroup'] button", has_text="trials").click()
    wait_for_app(page)
    page.locator("[data-testid='stNumberInput'] input").fill("2")
    page.keyboard.press("Enter")
    wait_for_app(page)
    epochs = page.locator("[data-testid='stSlider'] input[aria-label='Epochs per trial']")
    epochs.focus()
    page.keyboard.press("Home")  # 1 epoch per trial: the journey, not the search's quality, is under test
    wait_for_app(page)
    page.get_by_role("button", name="Start the search").click()
    page.wait_for_selector("text=Searching…", timeout=60_000)
    page.wait_for_selector("text=trial(s) finished", timeout=60_000)
    # trials arrive while it runs: the table and the best-so-far chart appear before the confirmation
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=300_000)
    page.wait_for_selector("text=Confirmed on held-out data", timeout=600_000)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "is best" in body and "Holm" in body and "Search optimism" in body
    screenshot("search_confirmed")

    with page.expect_download() as info:
        page.get_by_role("button", name="Export the winner (JSON)").click()
    exported = tmp_path / "winner.json"
    info.value.save_as(exported)
    document = json.loads(exported.read_text())
    assert document["transform"]["__class_fullname__"] == "Compose"

    page.get_by_role("button", name="Open the winner in the pipeline editor").click()
    page.wait_for_selector("h1:has-text('Pipeline')", timeout=60_000)
    wait_for_app(page)
    names = [t["__class_fullname__"] for t in document["transform"]["transforms"]]
    body = page.inner_text("body")
    assert all(name in body for name in names), (names, body[:2000])

    # the app has a worker process, so every trial and confirmation arm was a run in the queue: the Runs page lists them
    page.goto(f"{app_url}/runs")
    wait_for_app(page)
    page.wait_for_selector("text=· trial 1", state="attached", timeout=60_000)  # a cell of the runs table (a canvas grid)
    cells = " | ".join(page.locator("[data-testid='stDataFrame'] td[role='gridcell']").all_text_contents())
    assert "· trial 0" in cells and "· confirmation · No augmentation" in cells, cells[:2000]


@pytest.mark.timeout(900)
def test_ablation_of_the_demo_pipeline_from_the_pipeline_page(page, app_url, screenshot):
    page.goto(f"{app_url}/pipeline?pipeline={encode_link(from_dict(DEMO_PIPELINE))}")
    wait_for_app(page)
    page.get_by_text("Which steps help? Ablation").click()
    for label in ("Epochs", "Seeds"):  # 2 epochs x 2 seeds: the journey, not the answer's precision, is under test
        page.locator(f"[data-testid='stSlider'] input[aria-label='{label}']").focus()
        page.keyboard.press("Home")
        wait_for_app(page)
    page.get_by_role("button", name="Run the ablation").click()
    page.wait_for_selector("text=What each step adds to the full pipeline", timeout=600_000)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "1. Affine" in body and "4. ChannelShuffle" in body
    assert any(word in body for word in ("helps", "hurts", "makes no clear difference"))
    screenshot("ablation")
