"""What every Ray test shares: Ray imported (or the reason it is not), the markers, and a real 2-node local cluster.

Skipped with a reason where Ray is not installed, except under CI (``CI=true``), where ``.ci/run``
installs requirements-ray.txt and a missing Ray is a failure. The cluster's ports are free ports
picked on 127.0.0.1; Ray registers each node at this machine's own address.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

# Before Ray is imported: no usage reports, and no cluster mode outside Linux.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

try:
    import ray
except ImportError:  # pragma: no cover - depends on the environment
    ray = None
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("Ray tests must run under CI: pip install -r requirements-ray.txt", pytrace=False)

RAY_MARKS = [pytest.mark.slow, pytest.mark.skipif(ray is None, reason="Ray is not installed (pip install -r requirements-ray.txt)")]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_cluster() -> Iterator[tuple[Any, Any]]:
    """A head node and a second node, one CPU each (so two replicates land on different nodes): (cluster, second node)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "gcs_server_port": free_port(),
                                                            "include_dashboard": False})
    try:
        second = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster, second
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
