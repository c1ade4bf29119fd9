"""The ``search`` subcommand of the headless CLI (kept apart so ``cli.py`` stays small).

Examples:
    python -m augment_core.experiment search spec.json --budget 10m
    python -m augment_core.experiment search --preset demo --budget 5 --space families --epochs 5
    python -m augment_core.experiment search --confirm search    # confirm a cancelled or stored search
    python -m augment_core.experiment search spec.json --budget 6 --workers 2   # trials as queued runs, 2 workers

With ``--workers N`` the trials and the confirmation's arms are runs in the run queue, trained by N
worker processes started for the search (``python -m augment_core.worker``, stopped at its end;
workers already serving the same data folder, such as the app's, help too). With
``AUGLAB_RAY_ADDRESS`` set, those workers send each run's replicates to that Ray cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.presets import create_spec_preset, list_spec_presets
from augment_core.experiment.queue_executor import QueueExecutor
from augment_core.experiment.search import SearchResult, SearchSpec, TrialRow, confirm_search, parse_budget, run_search
from augment_core.experiment.search_space import SPACES
from augment_core.pipelines.presets import list_data_kinds


def add_search_command(sub: Any) -> None:
    """Register ``search`` on the CLI's subparsers."""
    search = sub.add_parser("search", help="search for the augmentation that helps, then confirm it on held-out data")
    search.add_argument("spec", nargs="?", help="experiment spec JSON (or a search spec with base/space/...)")
    search.add_argument("--preset", choices=list_spec_presets(), help="search on a built-in experiment's settings instead")
    search.add_argument("--budget", default="10m", help="10m, 90s, 1h, or a number of trials (default 10m)")
    search.add_argument("--space", choices=list(SPACES), help="presets, families or around (your spec's pipeline)")
    search.add_argument("--kind", choices=list_data_kinds(), help="kind of data, for the label-safety rules")
    search.add_argument("--name", help="name of the search (its study in search.sqlite3)")
    search.add_argument("--epochs", type=int, help="epochs per trial")
    search.add_argument("--resume", action="store_true", help="continue the stored search of this name")
    search.add_argument("--no-pruning", action="store_true", help="train every trial to the end")
    search.add_argument("--confirm", metavar="NAME", help="only confirm the stored search NAME")
    search.add_argument("--workers", type=int, default=0, metavar="N",
                        help="train trials as queued runs with N worker processes (with AUGLAB_RAY_ADDRESS: on that Ray "
                             "cluster); 0 (default): one at a time in this process")


def format_trial(row: TrialRow) -> str:
    """One line per finished trial."""
    value = f"{row.value:.3f}" if row.value is not None else "—"
    params = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.params.items())
    return f"trial {row.number:>3} {row.state:<9} val acc {value:>6} {row.seconds:>6.1f} s  {params}" + (f"  ({row.note})" if row.note else "")


def format_result(result: SearchResult) -> str:
    """Status, the winner and the confirmed leaderboard (the only result that counts)."""
    lines = [f"search {result.spec.name}: {result.status}" + (f" ({result.message})" if result.message else "")]
    states = [t.state for t in result.trials]
    lines.append(f"trials: {len(states)} ({states.count('COMPLETE')} completed, {states.count('PRUNED')} pruned, "
                 f"{states.count('FAIL')} failed or stopped) in {result.seconds:.0f} s")
    if result.best is not None:
        lines.append(f"search winner: trial {result.best.number}, {100 * result.best.value:.1f}% on the search's own validation")
        lines.append("winner pipeline: " + json.dumps(result.best.pipeline))
    board = result.confirmation.leaderboard if result.confirmation else None
    if board is not None:
        lines.append("confirmed on the held-out part with fresh seeds:")
        for r in board.rows:
            lines.append(f"  {r.arm:<18} {100 * r.mean_acc:5.1f}% ± {100 * r.std_acc:.1f} (n={r.n})")
        lines.append(board.summary)
        if result.optimism is not None:
            lines.append(f"search optimism: {result.optimism:+.1f} points (search score minus confirmed score of the winner)")
    return "\n".join(lines)


def start_worker_processes(count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` worker processes on this process's data folder; they stop by themselves if this process dies.

    Started by command line, not imported: workers build on this package, not the other way round.
    """
    command = [sys.executable, "-m", "augment_core.worker", "--parent-pid", str(os.getpid())]
    return [subprocess.Popen(command, env=dict(os.environ)) for _ in range(count)]


def stop_worker_processes(procs: list[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """Ask each to stop politely (a current run goes back to the queue), then kill the ones that did not."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_search_command(args: argparse.Namespace) -> int:
    """Run (or confirm) a search, printing trials as they finish; exit code 0 when confirmed."""
    if args.workers < 0:
        raise AugLabError("--workers must be 0 (train in this process) or more.", field="workers")
    procs = start_worker_processes(args.workers) if args.workers else []
    try:
        return _search_command(args, QueueExecutor(args.workers) if args.workers else None)
    finally:
        stop_worker_processes(procs)


def _search_command(args: argparse.Namespace, executor: QueueExecutor | None) -> int:
    if args.confirm:
        result = confirm_search(args.confirm, executor=executor)
        print(format_result(result))
        return 0
    if args.preset:
        data: dict[str, Any] = {"base": create_spec_preset(args.preset).to_dict()}
    elif args.spec:
        try:
            data = json.loads(Path(args.spec).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise AugLabError(f"Cannot read the spec file ({exc}).", field="spec") from exc
        data = data if "base" in data else {"base": data}
    else:
        raise AugLabError("Give a spec file or --preset NAME.", hint=f"Presets: {', '.join(list_spec_presets())}.")
    trials, seconds = parse_budget(args.budget)
    overrides = {k: v for k, v in {"space": args.space, "data_kind": args.kind, "name": args.name}.items() if v}
    spec = SearchSpec.from_dict({**data, **overrides, "budget_trials": trials, "budget_seconds": seconds,
                                 "pruning": not args.no_pruning and data.get("pruning", True)})
    if args.epochs:
        spec = replace(spec, base=replace(spec.base, epochs=args.epochs))
    cancel = threading.Event()
    try:
        result = run_search(spec, resume=args.resume, executor=executor, on_trial=lambda row: print(format_trial(row), flush=True),
                            cancel=cancel)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        cancel.set()
        return 130
    print(format_result(result))
    return 0 if result.confirmation is not None else 1
