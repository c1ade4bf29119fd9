"""Replicates as Ray tasks on a real 2-node local Ray cluster (head + a second node, 127.0.0.1, free ports).

Skipped with a reason where Ray is not installed, except under CI (``CI=true``), where ``.ci/run``
installs requirements-ray.txt and a missing Ray is a failure. Kept to one small run: two shared cores.
"""

from __future__ import annotations

import os
import socket

import pytest

# Before Ray is imported: keep every Ray process on the loopback address (tests never touch the network).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from augment_core.experiment import RunQueue, create_spec_preset, run_experiment
from tests.helpers import wait_until

try:
    import ray
except ImportError:  # pragma: no cover - depends on the environment
    ray = None
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("Ray tests must run under CI: pip install -r requirements-ray.txt", pytrace=False)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(ray is None, reason="Ray is not installed (pip install -r requirements-ray.txt)")]

SPEC = create_spec_preset("demo", epochs=3, seeds=2, dataset_options={"per_class": 12, "seed": 1}, train_per_class=3,
                          epoch_repeats=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node and a second node, one CPU each, so two replicates must land on different nodes."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "gcs_server_port": _free_port(),
                                                            "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


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
