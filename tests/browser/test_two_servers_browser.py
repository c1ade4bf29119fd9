"""Two ``streamlit run app.py`` servers on one data folder, each with its own worker process.

A run started from a browser on server A is listed on server B's Runs page; the two servers' workers
share one queue, so two runs (one from each server) train at once, one per worker, and neither is
claimed twice (the claim is one SQLite ``UPDATE … WHERE status='queued'``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from augment_core.experiment import RunQueue
from tests.browser.conftest import SCREENSHOTS, start_app, stop_app
from tests.browser.journeys import diagnose, runs_page_shows, start_short_run
from tests.helpers import wait_until

EPOCHS, SEEDS = 3, 2


def _parent_of(pid: int) -> int:
    """The parent process id of a running process (Linux /proc)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.timeout(1200)  # two server starts and two short runs, on two shared cores
def test_two_servers_share_one_queue_each_with_its_worker_and_show_each_other_s_runs(new_page, isolated_data_dir):
    isolated_data_dir.mkdir(parents=True, exist_ok=True)
    server_a, url_a = start_app(isolated_data_dir, workers=1)
    server_b, url_b = start_app(isolated_data_dir, workers=1)
    on_a, on_b = new_page(), new_page()  # one person on each server
    try:
        start_short_run(on_a, url_a, epochs=EPOCHS, seeds=SEEDS)
        on_a.wait_for_selector("text=Training: shapes", timeout=120_000)
        start_short_run(on_b, url_b, epochs=EPOCHS, seeds=SEEDS)
        # One worker per server: B's run trains beside A's instead of waiting behind it.
        on_b.wait_for_selector("text=Training: shapes", timeout=120_000)
        queue = RunQueue()
        workers = {i: queue._conn().execute("SELECT worker FROM runs WHERE id=?", (i,)).fetchone()["worker"]  # noqa: SLF001
                   for i in (1, 2)}
        pids = {i: int(name.split(":")[1]) for i, name in workers.items()}
        assert {_parent_of(pid) for pid in pids.values()} == {server_a.pid, server_b.pid}, workers  # each server's worker took one
        try:  # A's run on B's Runs page (a person reloads until it has finished)
            wait_until(lambda: runs_page_shows(on_b, url_b, [1, 2], "completed"), timeout=600, interval=0)
        except Exception as exc:
            raise AssertionError(diagnose(isolated_data_dir)) from exc
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        on_b.screenshot(path=str(SCREENSHOTS / "two_servers_runs_page.png"), full_page=True)
        for run_id in (1, 2):  # each trained once, by the worker that claimed it: every epoch exactly once
            stored = queue.store.load_run(run_id)
            assert stored.status == "completed", stored.message
            assert sorted((e.arm, e.replicate, e.epoch) for e in stored.epochs) == \
                sorted((a, r, e) for a in ("plain", "augmented") for r in range(SEEDS) for e in range(1, EPOCHS + 1))
        assert [queue._conn().execute("SELECT worker FROM runs WHERE id=?", (i,)).fetchone()["worker"]  # noqa: SLF001
                for i in (1, 2)] == [workers[1], workers[2]]  # never taken over by the other worker
        wait_until(lambda: runs_page_shows(on_a, url_a, [1, 2], "completed"), timeout=120, interval=0)  # and A shows B's run
    finally:
        stop_app(server_a)
        stop_app(server_b)
