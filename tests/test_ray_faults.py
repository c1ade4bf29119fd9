"""A Ray node killed in the middle of a run, on a real 2-node local Ray cluster (127.0.0.1, free ports).

What happens, and why: the killed node takes its running replicate with it, never a finished one
(finished replicates are already in the database). Ray notices the dead node and reruns the task
on the head (``RayExecutor.max_retries``, default 3) from the start of its replicate; every random
choice is seeded, so the run completes with exactly the numbers of an undisturbed local run. With
no retries left the run ends *failed* with a message naming the lost replicate, after the other
replicate finished and was stored: never "running", never a finished epoch lost.

Skipped with a reason where Ray is not installed, except under CI, where a missing Ray is a failure.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.ray_cluster import RAY_MARKS, local_cluster  # first: sets Ray's environment before Ray loads
from augment_core.experiment import RunQueue, create_spec_preset, run_experiment
from tests.helpers import wait_until

pytestmark = RAY_MARKS

# Two replicates, one per one-CPU node; long enough that the second node is killed while it trains.
SPEC = create_spec_preset("demo", epochs=6, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=4,
                          epoch_repeats=1)


@pytest.fixture
def cluster():
    """A fresh 2-node cluster per test (one is killed): (cluster, second node)."""
    with local_cluster() as pair:
        yield pair


def _training_on(node) -> bool:
    """True while a worker process of ``node`` (a child of its raylet) executes the replicate task.

    Ray titles a worker process ``ray::<task>`` while it runs one (``ray::IDLE`` otherwise); a lease
    alone is not enough, because Ray reschedules a task whose node died before it started without
    counting a retry.
    """
    raylet = node.all_processes["raylet"][0].process.pid
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        if ppid == raylet and title.startswith("ray::_train_replicate"):
            return True
    return False


def _kill_second_node_while_it_trains(cluster, second, queue: RunQueue, run_id: int) -> None:
    """Wait until the second node's worker is training a replicate, then kill the node without warning."""

    def second_node_training() -> bool:
        assert queue.state(run_id).status in ("queued", "running"), "the run ended before the node was killed"
        return _training_on(second)

    wait_until(second_node_training, timeout=300, interval=0.05)
    assert queue.store.load_run(run_id).epochs == []  # nothing finished yet: the kill lands mid-replicate
    cluster.remove_node(second, allow_graceful=False)


def _serve(monkeypatch, cluster, **executor_options):
    from augment_core.worker import RayExecutor, Worker

    monkeypatch.setenv("AUGLAB_TORCH_THREADS", "1")  # as Ray's one-CPU tasks: thread count can change float sums
    executor = RayExecutor(cluster.address, **executor_options)
    worker = Worker(run=partial(run_experiment, executor=executor), poll_s=0.05)
    worker.start_thread()
    return worker, executor


@pytest.mark.timeout(900)
def test_a_killed_node_s_replicate_is_retried_on_the_head_and_the_run_completes_with_the_local_numbers(cluster, monkeypatch):
    ray_cluster, second = cluster
    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    worker, executor = _serve(monkeypatch, ray_cluster)
    try:
        _kill_second_node_while_it_trains(ray_cluster, second, queue, run_id)
        wait_until(lambda: queue.state(run_id).status not in ("queued", "running"), timeout=600, interval=0.5)
    finally:
        worker.stop()
    stored = queue.store.load_run(run_id)
    assert stored.status == "completed", stored.message
    assert executor.nodes == {ray_cluster.head_node.node_id}  # the dead node finished nothing; the head did both
    local = run_experiment(SPEC)
    key = lambda e: (e.replicate, e.epoch, e.arm != "plain")  # noqa: E731
    assert [(e.arm, e.replicate, e.epoch, e.val_loss, e.val_acc) for e in sorted(stored.epochs, key=key)] == \
        [(e.arm, e.replicate, e.epoch, e.val_loss, e.val_acc) for e in sorted(local.epochs, key=key)]


@pytest.mark.timeout(900)
def test_without_retries_a_killed_node_fails_the_run_with_a_message_and_keeps_the_other_replicate(cluster, monkeypatch):
    ray_cluster, second = cluster
    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    worker, executor = _serve(monkeypatch, ray_cluster, max_retries=0)
    try:
        _kill_second_node_while_it_trains(ray_cluster, second, queue, run_id)
        wait_until(lambda: queue.state(run_id).status not in ("queued", "running"), timeout=600, interval=0.5)
    finally:
        worker.stop()
    state, stored = queue.state(run_id), queue.store.load_run(run_id)
    assert state.status == "failed" and "Ray lost replicate" in state.message and "of 2" in state.message, state.message
    assert executor.nodes == {ray_cluster.head_node.node_id}
    kept = {e.replicate for e in stored.epochs}  # the head's replicate, every epoch of both arms
    assert len(kept) == 1 and len(stored.epochs) == 2 * SPEC.epochs
    assert f"replicate {2 - kept.pop()} of 2" in state.message  # the lost one is the other replicate (1-based)
