"""The run queue in a real browser: a run survives a server restart; a second browser's run waits its turn.

Each test starts its own app (with one worker process) on its own data folder, so restarting it
or filling its queue does not disturb the other browser tests.
"""

from __future__ import annotations

import pytest

from augment_core.experiment import RunQueue
from tests.browser.conftest import SCREENSHOTS, start_app, stop_app, wait_for_app
from tests.browser.journeys import diagnose, reopen_until_result, start_short_run, start_then_queue_a_second
from tests.helpers import wait_until

CHARTS = "document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot').length"


@pytest.mark.timeout(1200)  # two server starts and a short run trained twice, on two shared cores
def test_a_run_survives_a_server_restart_and_finishes(new_page, isolated_data_dir):
    isolated_data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_app(isolated_data_dir, workers=1)
    page = new_page()
    try:
        lab = start_short_run(page, url, epochs=8)
        page.wait_for_selector("text=Training: shapes", timeout=120_000)
        page.wait_for_function(f"() => {CHARTS} >= 1", timeout=240_000)  # at least one epoch stored
    finally:
        stop_app(process)  # the app stops its worker: the run goes back to the queue
    queue = RunQueue()
    run_id = queue.latest_for(lab)
    wait_until(lambda: queue.state(run_id).status == "queued", timeout=30, interval=0.2)

    process, url = start_app(isolated_data_dir, workers=1)
    try:
        body = reopen_until_result(page, url, lab, isolated_data_dir)
        assert "Result: shapes" in body and "32 of 32 epochs finished" in body
        assert queue.state(run_id).status == "completed"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "queue_after_restart.png"), full_page=True)
    finally:
        stop_app(process)


@pytest.mark.timeout(1200)
def test_two_browsers_one_worker_the_second_run_queues_with_its_position_and_starts_by_itself(new_page, isolated_data_dir):
    isolated_data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_app(isolated_data_dir, workers=1)
    first, second = new_page(), new_page()  # two people, two sessions
    try:
        start_then_queue_a_second(first, second, url, first_epochs=20, shot="queue_second_browser.png")
        # The first browser sees Cancel on its own run; the second one's panel shows its place in the queue.
        first.get_by_role("button", name="Cancel").click()
        # The worker is free: the queued run starts by itself and finishes.
        try:
            second.wait_for_selector("text=Result: shapes", timeout=600_000)
        except Exception as exc:
            raise AssertionError(diagnose(isolated_data_dir)) from exc
        second.goto(f"{url}/runs")
        wait_for_app(second)
        second.wait_for_selector("[data-testid='stDataFrame']")
        assert [RunQueue().state(i).status for i in (1, 2)] == ["cancelled", "completed"]  # both on the Runs page
    finally:
        stop_app(process)
