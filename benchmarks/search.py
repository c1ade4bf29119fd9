"""Benchmark the augmentation search; prints figures, asserts nothing about time.

On the built-in demo's data and settings (shapes, 5 training images per class, last block +
head; the pipeline of the demo preset is "your pipeline"), with the local executor (one worker):

1. A search of the "catalog families" space for ``--minutes`` with Hyperband pruning: trials per
   minute, trials pruned, and the confirmation on the held-out 30% with 3 fresh seeds: the winner
   against the demo pipeline and against no augmentation, Holm-corrected.
2. With ``--no-pruning-too``: the same search without pruning, to see what pruning saves and
   whether the confirmed winner changes.

3. With ``--throughput N``: the same N-trial search (no pruning, no confirmation) in this process,
   then as queued runs with 1 and with 2 worker processes (and, with ``--ray``, 2 workers whose
   replicates go to a 2-node local Ray cluster on 127.0.0.1): trials per minute, measured in one
   run so the ratios share the machine's load. ``--pruning-cost N``: the same N trials with and
   without pruning (wall time, trials pruned, whether the best trial is the same).

The data set is the demo's, unchanged; nothing is tuned to make the search look good.
Run: ``python benchmarks/search.py --minutes 3 --epochs 10`` or
``python benchmarks/search.py --throughput 6 --epochs 4 --pruning-cost 8``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one_search(minutes: float, epochs: int, pruning: bool, space: str, storage: str) -> None:
    """Run one search and print its figures."""
    from augment_core.experiment.presets import create_spec_preset
    from augment_core.experiment.search import SearchSpec, run_search
    from augment_core.experiment.search_cli import format_result, format_trial

    base = create_spec_preset("demo", epochs=epochs)
    spec = SearchSpec(base, space=space, name=f"bench {space} pruning {'on' if pruning else 'off'} {time.time():.0f}", budget_seconds=60 * minutes,
                      pruning=pruning)
    tic = time.perf_counter()
    result = run_search(spec, storage=storage, on_trial=lambda row: print(format_trial(row), flush=True), confirm=False)
    searched = time.perf_counter() - tic
    states = [t.state for t in result.trials]
    print(f"\n{space}, pruning={'on' if pruning else 'off'}: {len(states)} trials in {searched:.0f} s "
          f"= {len(states) / (searched / 60):.2f} trials per minute ({states.count('COMPLETE')} completed, "
          f"{states.count('PRUNED')} pruned, {states.count('FAIL')} stopped)")
    from augment_core.experiment.search import confirm_search

    tic = time.perf_counter()
    confirmed = confirm_search(spec.name, storage=storage)
    confirmed.seconds = time.perf_counter() - tic
    print(format_result(confirmed))
    print(f"confirmation took {confirmed.seconds:.0f} s\n", flush=True)


def _trials_search(trials: int, epochs: int, pruning: bool, name: str, executor=None) -> tuple[float, object]:  # noqa: ANN001
    from augment_core.experiment.presets import create_spec_preset
    from augment_core.experiment.search import SearchSpec, run_search

    spec = SearchSpec(create_spec_preset("demo", epochs=epochs), space="families", name=f"bench {time.time_ns()}",
                      budget_trials=trials, budget_seconds=None, pruning=pruning)
    storage = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    tic = time.perf_counter()
    result = run_search(spec, storage=storage, executor=executor, confirm=False)
    return time.perf_counter() - tic, result


def throughput(trials: int, epochs: int, with_ray: bool) -> None:
    """Trials per minute in-process, and through the queue with 1 and 2 worker processes (and Ray)."""
    import os

    from augment_core.experiment.queue_executor import QueueExecutor
    from augment_core.experiment.search_cli import start_worker_processes, stop_worker_processes

    rows = []
    seconds, local = _trials_search(trials, epochs, False, "in-process")
    rows.append(("in this process (LocalExecutor)", seconds, local))
    setups = [("queue, 1 worker process", 1, ""), ("queue, 2 worker processes", 2, "")]
    cluster = None
    if with_ray:
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        setups.append(("queue, 2 workers -> 2-node local Ray cluster", 2, cluster.address))
    try:
        for label, workers, address in setups:
            os.environ["AUGLAB_RAY_ADDRESS"] = address
            procs = start_worker_processes(workers)
            try:
                seconds, result = _trials_search(trials, epochs, False, label, QueueExecutor(workers))
            finally:
                stop_worker_processes(procs)
            rows.append((label, seconds, result))
    finally:
        os.environ.pop("AUGLAB_RAY_ADDRESS", None)
        if cluster is not None:
            cluster.shutdown()
    base = rows[0][1]
    print(f"\n{trials} trials of {epochs} epochs (families space, no pruning), load average before: {os.getloadavg()[0]:.1f}")
    for label, seconds, result in rows:
        same = [t.value for t in result.trials] == [t.value for t in local.trials]
        print(f"{label:<48} {seconds:6.0f} s  {trials / (seconds / 60):5.2f} trials/min  x{base / seconds:.2f} vs in-process"
              f"  same trial values: {same}")
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)


def pruning_cost(trials: int, epochs: int) -> None:
    """The same N trials with and without Hyperband pruning (in this process)."""
    import os

    out = []
    for pruning in (True, False):
        seconds, result = _trials_search(trials, epochs, pruning, f"pruning {pruning}")
        states = [t.state for t in result.trials]
        out.append((pruning, seconds, states, result.best))
    print(f"\npruning cost: {trials} trials of {epochs} epochs (families space), load average {os.getloadavg()[0]:.1f}")
    for pruning, seconds, states, best in out:
        print(f"pruning {'on ' if pruning else 'off'}: {seconds:6.0f} s, {states.count('PRUNED')} pruned, "
              f"best trial {best.number if best else None} ({100 * best.value:.1f}%)" if best else "no trial completed")
    print(f"wall time with pruning / without: {out[0][1] / out[1][1]:.2f}; same best trial: "
          f"{(out[0][3] and out[0][3].number) == (out[1][3] and out[1][3].number)}", flush=True)


def main() -> None:
    """Parse arguments and run the searches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="search budget (default 3)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    parser.add_argument("--space", default="families", help="presets, families or around")
    parser.add_argument("--no-pruning-too", action="store_true", help="also run the same search without pruning")
    parser.add_argument("--throughput", type=int, metavar="N", help="trials per minute in-process vs 1 and 2 worker processes")
    parser.add_argument("--ray", action="store_true", help="with --throughput: also 2 workers on a 2-node local Ray cluster")
    parser.add_argument("--pruning-cost", type=int, metavar="N", help="the same N trials with and without pruning")
    args = parser.parse_args()
    import torch

    print(f"torch threads: {torch.get_num_threads()} (the machine is shared with other engineers' work; figures vary with load)")
    if args.throughput or args.pruning_cost:
        import os

        os.environ.setdefault("AUGLAB_DATA_DIR", tempfile.mkdtemp())  # queued runs go to a scratch run database
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if args.throughput:
            throughput(args.throughput, args.epochs, args.ray)
        if args.pruning_cost:
            pruning_cost(args.pruning_cost, args.epochs)
        return
    storage = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    one_search(args.minutes, args.epochs, True, args.space, storage)
    if args.no_pruning_too:
        one_search(args.minutes, args.epochs, False, args.space, storage)


if __name__ == "__main__":  # the engine's augmentation worker uses forkserver, which re-imports __main__
    main()
