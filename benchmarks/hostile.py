"""Hostile inputs: outcome, time and peak memory of each case, printed. Asserts nothing.

Run: ``python -m benchmarks.hostile`` (this checkout), or ``python -m benchmarks.hostile
--before /work/main`` to run the same corpus against another checkout's ``augment_core`` too
(cases that need functions it lacks show as crashed). Every case runs in its own child process
under its address-space cap and time limit (``tests/hostile/cases.py``), so "before" figures
of cases that used to take gigabytes show as "crashed" at the cap instead of taking the machine.

Peak is the child's max RSS (imports included: about 190 MiB for albumentations, 400 MiB with
torch). Figures depend on load: the machine these were measured on has 2 cores shared with
other work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.hostile.cases import CASES, ROOT, run_case


def _row(report: dict) -> str:
    outcome = report.get("outcome", "?")
    seconds = report.get("seconds")
    peak = report.get("peak_mib")
    return f"{outcome:<8} {('' if seconds is None else f'{seconds:7.2f}'):>7} {('' if peak is None else peak):>6}"


def executor_overhead(repeats: int = 15) -> None:
    """Median time of an 8-tile 512-px preview called directly and through the bounded executor."""
    import statistics
    import time

    import numpy as np

    from augment_core.transforms import catalog, downscale, get_executor, load_sample, render_grid, render_grid_bounded

    image = downscale(np.asarray(load_sample("Astronaut")), 512)
    get_executor()
    for name in ("Rotate", "GaussNoise", "ElasticTransform"):
        transform = catalog.create_transform(name)
        render_grid_bounded(transform, [image], n=8, seed=0)  # warm-up (worker start-up and imports)
        timings: dict[str, list[float]] = {"direct": [], "bounded": []}
        for i in range(repeats):  # interleaved, so load affects both alike
            for label, fn in (("direct", render_grid), ("bounded", render_grid_bounded)):
                start = time.perf_counter()
                fn(transform, [image], n=8, seed=i)
                timings[label].append((time.perf_counter() - start) * 1000)
        direct, bounded = (statistics.median(timings[k]) for k in ("direct", "bounded"))
        print(f"{name:<18} direct {direct:7.1f} ms   bounded {bounded:7.1f} ms   overhead {bounded - direct:+6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="another checkout to run the corpus against as well")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("--overhead", action="store_true", help="only measure the bounded executor's overhead")
    args = parser.parse_args()
    if args.overhead:
        executor_overhead()
        return
    names = [n for n in sorted(CASES) if args.k in n]
    header = f"{'case':<36} {'after: outcome':<8}  {'s':>7} {'MiB':>6}"
    if args.before:
        header += f"   {'before: outcome':<8}  {'s':>7} {'MiB':>6}"
    print(header)
    for name in names:
        line = f"{name:<36} {_row(run_case(CASES[name], ROOT))}"
        if args.before:
            line += f"   {_row(run_case(CASES[name], args.before.resolve()))}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
