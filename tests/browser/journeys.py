"""Steps the queue journeys share: start a short demo run, queue a second, reopen after a restart.

A helper module, not a test file: tests import from here (and from ``conftest``), never from
each other.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from augment_core.experiment import RunQueue
from tests.browser.conftest import SCREENSHOTS, set_number, wait_for_app


def diagnose(data_dir) -> str:
    """The runs as the database has them and the server log's tail, for a failure message."""
    rows = [(r["id"], r["status"], r["message"], r["worker"]) for r in RunQueue()._conn().execute(  # noqa: SLF001
        "SELECT id, status, message, worker FROM runs")]
    log = (data_dir / "streamlit.log").read_text()[-1500:] if (data_dir / "streamlit.log").exists() else ""
    return f"runs: {rows}\nlog: {log}"


def start_then_queue_a_second(first, second, url: str, *, first_epochs: int, shot: str) -> None:
    """The first page's run trains; the second page's run waits, showing its place; screenshot of the second page."""
    start_short_run(first, url, epochs=first_epochs)
    first.wait_for_selector("text=Training: shapes", timeout=120_000)
    start_short_run(second, url, epochs=2)
    second.wait_for_selector("text=Queued: shapes", timeout=60_000)
    second.wait_for_selector("text=1st in the queue", timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=str(SCREENSHOTS / shot), full_page=True)


def start_short_run(page, url: str, *, epochs: int, seeds: int = 2) -> str:
    """Open the Experiment page, shorten the demo settings, start; return the page's follow token."""
    page.goto(f"{url}/experiment")
    wait_for_app(page)
    page.wait_for_selector("text=Sample images of each class")
    assert set_number(page, "Epochs", epochs) == str(epochs)
    assert set_number(page, "Seeds", seeds) == str(seeds)
    page.get_by_role("button", name="Start training").click()
    wait_for_app(page)
    return parse_qs(urlparse(page.url).query)["lab"][0]


def runs_page_shows(page, url: str, run_ids: list[int], status: str) -> bool:
    """Open the Runs page with ``run_ids`` selected (as a person following a link would) and look at their chips."""
    page.goto(f"{url}/runs?run={','.join(map(str, run_ids))}")
    wait_for_app(page)
    body = page.inner_text("body")
    return all(re.search(rf"#{i} [^\n]* · {status}", body) for i in run_ids)


def reopen_until_result(page, url: str, lab: str, data_dir) -> str:
    """Open the Experiment page that follows ``lab`` on the restarted server; wait for its result; return the page's text."""
    page.goto(f"{url}/experiment?lab={lab}")  # the reloaded page (the server's port changed)
    wait_for_app(page)
    try:
        page.wait_for_selector("text=Result: shapes", timeout=600_000)
    except Exception as exc:
        raise AssertionError(diagnose(data_dir)) from exc
    wait_for_app(page)
    return page.inner_text("body")
