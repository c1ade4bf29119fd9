"""Benchmark the ways a run's replicates can be trained; prints figures, asserts nothing about time.

The built-in demo (2 arms x 3 seeds), side by side in one process, interleaved by round so that
machine load affects every variant alike:

1. one local worker (replicates one after another, the default ``LocalExecutor``);
2. replicates spread over 2 local processes (``ProcessExecutor(2)``);
3. replicates as Ray tasks on a 2-node local Ray cluster on 127.0.0.1, one CPU per node
   (skipped, with a line saying so, when Ray is not installed).

Each variant's validation accuracies are compared with the first's: they must be the same numbers
(every random choice is seeded), so only the wall time differs.

Run: ``python benchmarks/workers.py [--rounds 1] [--epochs N]`` (not named queue.py: as a script it would shadow the standard library's ``queue``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on loopback only
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from augment_core.experiment import LocalExecutor, create_spec_preset, load_dataset, run_experiment  # noqa: E402
from augment_core.worker import ProcessExecutor  # noqa: E402


def _ray_cluster():
    """A head and a second node, one CPU each, or None without Ray."""
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        return None
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    return cluster


def main() -> None:
    """Print the wall time of each variant per round, and their medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None, help="shorten the demo (default: the preset's epochs)")
    args = parser.parse_args()
    spec = create_spec_preset("demo")
    if args.epochs:
        spec = replace(spec, epochs=args.epochs)
    data = load_dataset(spec)
    cluster = _ray_cluster()
    variants = {"1 local worker": LocalExecutor(), "2 local processes": ProcessExecutor(2)}
    if cluster is not None:
        from augment_core.worker import RayExecutor

        variants["Ray, 2 nodes x 1 CPU"] = RayExecutor(cluster.address)
    else:
        print("Ray is not installed: the Ray variant is skipped (pip install -r requirements-ray.txt).")
    print(f"demo: {spec.seeds} seeds x 2 arms x {spec.epochs} epochs, {os.cpu_count()} CPU cores "
          "(shared with other work: figures vary with load)")
    times: dict[str, list[float]] = {name: [] for name in variants}
    reference = None
    try:
        for r in range(args.rounds):
            for name, executor in variants.items():
                tic = time.perf_counter()
                result = run_experiment(spec, dataset=data, executor=executor)
                wall = time.perf_counter() - tic
                times[name].append(wall)
                accs = sorted((e.replicate, e.epoch, e.arm, e.val_acc) for e in result.epochs)
                reference = reference or accs
                same = "same numbers" if accs == reference else "DIFFERENT numbers"
                print(f"round {r + 1}: {name:<24} {wall:6.1f} s  {result.status}, {same}", flush=True)
    finally:
        if cluster is not None:
            import ray

            ray.shutdown()
            cluster.shutdown()
    base = statistics.median(times["1 local worker"])
    for name, walls in times.items():
        median = statistics.median(walls)
        print(f"median {name:<24} {median:6.1f} s  ({base / median:.2f}x the single worker's speed)")


if __name__ == "__main__":
    main()
