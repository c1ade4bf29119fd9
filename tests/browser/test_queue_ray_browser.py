"""The queue journey of ``test_queue_browser.py`` with the app's worker sending replicates to a Ray cluster.

A real 2-node local Ray cluster (head and second node, one CPU each) is started for the module and
the app is started with ``AUGLAB_RAY_ADDRESS`` set to it: its one worker trains each run's two
replicates as Ray tasks, one per node. Two browsers start a run each: the second is queued with its
position and starts by itself when the first is done; both complete; the Runs page shows both. And
the server is restarted in the middle of a run: the run finishes, with the numbers of a local run.

Skipped with a reason where Ray is not installed, except under CI, where a missing Ray is a failure.
"""

from __future__ import annotations

import pytest

from tests.ray_cluster import RAY_MARKS, local_cluster  # first: sets Ray's environment before Ray loads
from augment_core.experiment import RunQueue
from tests.browser.conftest import SCREENSHOTS, start_app, stop_app
from tests.browser.journeys import diagnose, reopen_until_result, runs_page_shows, start_short_run, start_then_queue_a_second
from tests.helpers import wait_until

pytestmark = RAY_MARKS


@pytest.fixture(scope="module")
def ray_address():
    """A head node and a second node, one CPU each; the app's worker connects to it as a driver."""
    with local_cluster() as (cluster, _):
        yield cluster.address


@pytest.mark.timeout(1500)
def test_two_browsers_one_ray_worker_the_second_run_queues_then_both_complete_on_the_cluster(new_page, isolated_data_dir,
                                                                                           ray_address, monkeypatch):
    monkeypatch.setenv("AUGLAB_RAY_ADDRESS", ray_address)  # the app's environment: its worker uses the cluster
    monkeypatch.setenv("AUGLAB_TORCH_THREADS", "1")  # one CPU per Ray node
    isolated_data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_app(isolated_data_dir, workers=1)
    first, second = new_page(), new_page()  # two people, two sessions
    try:
        start_then_queue_a_second(first, second, url, first_epochs=8, shot="queue_ray_second_browser.png")
        try:  # nobody cancels: the first finishes on the cluster, then the second starts by itself and finishes
            first.wait_for_selector("text=Result: shapes", timeout=600_000)
            second.wait_for_selector("text=Result: shapes", timeout=600_000)
        except Exception as exc:
            raise AssertionError(diagnose(isolated_data_dir)) from exc
        wait_until(lambda: runs_page_shows(second, url, [1, 2], "completed"), timeout=120, interval=0)
        second.screenshot(path=str(SCREENSHOTS / "queue_ray_runs_page.png"), full_page=True)
        queue = RunQueue()
        for run_id in (1, 2):
            stored = queue.store.load_run(run_id)
            assert stored.status == "completed" and stored.versions["executor"] == "ray", (stored.status, stored.versions)
        assert queue.store.load_run(2).started_at >= queue.store.load_run(1).finished_at  # one worker: it waited its turn
    finally:
        stop_app(process)


@pytest.mark.timeout(1500)
def test_a_ray_run_survives_a_server_restart_and_ends_with_the_local_numbers(new_page, isolated_data_dir, ray_address,
                                                                              monkeypatch):
    """Start the demo on the cluster, stop the server mid-run, start it again, reload: the run finishes, equal to a local run."""
    from augment_core.experiment import run_experiment

    monkeypatch.setenv("AUGLAB_RAY_ADDRESS", ray_address)
    monkeypatch.setenv("AUGLAB_TORCH_THREADS", "1")  # one CPU per Ray node, and the same sums in the local run below
    isolated_data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_app(isolated_data_dir, workers=1)
    page = new_page()
    queue = RunQueue()
    try:
        lab = start_short_run(page, url, epochs=8)
        page.wait_for_selector("text=Training: shapes", timeout=120_000)
        run_id = queue.latest_for(lab)
        wait_until(lambda: queue.state(run_id).status == "running", timeout=120, interval=0.2)
    finally:
        stop_app(process)  # the worker stops politely: its Ray tasks are cancelled and the run goes back to the queue
    wait_until(lambda: queue.state(run_id).status in ("queued", "completed"), timeout=60, interval=0.2)
    restarted_from_queue = queue.state(run_id).status == "queued"
    process, url = start_app(isolated_data_dir, workers=1)
    try:
        assert "32 of 32 epochs finished" in reopen_until_result(page, url, lab, isolated_data_dir)
        page.screenshot(path=str(SCREENSHOTS / "queue_ray_after_restart.png"), full_page=True)
    finally:
        stop_app(process)
    stored = queue.store.load_run(run_id)
    assert stored.status == "completed" and stored.versions["executor"] == "ray"
    assert restarted_from_queue, "the server stopped after the run had already finished: nothing was interrupted"
    local = run_experiment(stored.spec)
    assert sorted((e.arm, e.replicate, e.epoch, e.val_acc) for e in stored.epochs) == \
        sorted((e.arm, e.replicate, e.epoch, e.val_acc) for e in local.epochs)
