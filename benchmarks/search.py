"""Benchmark the augmentation search; prints figures, asserts nothing about time.

On the built-in demo's data and settings (shapes, 5 training images per class, last block +
head; the pipeline of the demo preset is "your pipeline"), with the local executor (one worker):

1. A search of the "catalog families" space for ``--minutes`` with Hyperband pruning: trials per
   minute, trials pruned, and the confirmation on the held-out 30% with 3 fresh seeds: the winner
   against the demo pipeline and against no augmentation, Holm-corrected.
2. With ``--no-pruning-too``: the same search without pruning, to see what pruning saves and
   whether the confirmed winner changes.

The data set is the demo's, unchanged; nothing is tuned to make the search look good.
Run: ``python benchmarks/search.py --minutes 3 --epochs 10``.
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


def main() -> None:
    """Parse arguments and run the searches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="search budget (default 3)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    parser.add_argument("--space", default="families", help="presets, families or around")
    parser.add_argument("--no-pruning-too", action="store_true", help="also run the same search without pruning")
    args = parser.parse_args()
    import torch

    print(f"torch threads: {torch.get_num_threads()} (the machine is shared with other engineers' work; figures vary with load)")
    storage = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    one_search(args.minutes, args.epochs, True, args.space, storage)
    if args.no_pruning_too:
        one_search(args.minutes, args.epochs, False, args.space, storage)


if __name__ == "__main__":  # the engine's augmentation worker uses forkserver, which re-imports __main__
    main()
