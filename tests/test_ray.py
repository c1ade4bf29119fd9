"""Replicates as Ray tasks on a real 2-node local Ray cluster (head + a second node, 127.0.0.1, free ports).

Skipped with a reason where Ray is not installed, except under CI (``CI=true``), where ``.ci/run``
installs requirements-ray.txt and a missing Ray is a failure. Kept to one small run: two shared cores.
"""

from __future__ import annotations

import pytest

from tests.ray_cluster import RAY_MARKS, local_cluster  # first: sets Ray's environment before Ray loads
from augment_core.experiment import RunQueue, create_spec_preset, run_experiment
from tests.helpers import wait_until

pytestmark = RAY_MARKS

SPEC = create_spec_preset("demo", epochs=3, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                          epoch_repeats=1)


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node and a second node, one CPU each, so two replicates must land on different nodes."""
    with local_cluster() as (cluster, _):
        yield cluster


def test_a_queued_run_trains_its_replicates_on_two_ray_nodes_with_the_local_numbers(ray_cluster, monkeypatch):
    from augment_core.worker import RayExecutor, Worker

    monkeypatch.setenv("AUGLAB_TORCH_THREADS", "1")  # as Ray's one-CPU tasks: thread count can change float sums
    monkeypatch.setenv("AUGLAB_RAY_ADDRESS", ray_cluster.address)
    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    worker = Worker(poll_s=0.05)  # takes AUGLAB_RAY_ADDRESS: its runs go to the cluster
    executor = worker._run.keywords["executor"]  # noqa: SLF001
    assert isinstance(executor, RayExecutor)
    worker.start_thread()
    try:
        wait_until(lambda: queue.state(run_id).status not in ("queued", "running"), timeout=400, interval=0.5)
    finally:
        worker.stop()
    stored = queue.store.load_run(run_id)
    assert stored.status == "completed", stored.message
    assert stored.versions["executor"] == "ray" and len(executor.nodes) == 2  # both nodes trained a replicate
    local = run_experiment(SPEC)
    assert [(e.arm, e.replicate, e.epoch, e.val_acc) for e in stored.epochs] == \
        [(e.arm, e.replicate, e.epoch, e.val_acc) for e in sorted(local.epochs, key=lambda e: (e.replicate, e.epoch, e.arm != "plain"))]
    assert stored.comparison["n"] == 2
