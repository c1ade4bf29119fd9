"""Headless command line: ``python -m augment_core.experiment run|list|show|export``.

Examples:
    python -m augment_core.experiment run --preset demo
    python -m augment_core.experiment run spec.json --seeds 5
    python -m augment_core.experiment list
    python -m augment_core.experiment show 3
    python -m augment_core.experiment export 3 --format csv > run3.csv
    python -m augment_core.experiment search spec.json --budget 10m --space families --kind "Digits and handwriting"
    python -m augment_core.experiment search --confirm my-search      # confirm a cancelled or stored search
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import replace
from pathlib import Path

from augment_core.errors import AugLabError
from augment_core.experiment.presets import create_spec_preset, list_spec_presets
from augment_core.experiment.results import EpochRecord, ExperimentResult
from augment_core.experiment.runner import run_experiment
from augment_core.experiment.search_cli import add_search_command, run_search_command
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.store import RunStore

_HEADER = f"{'arm':<10} {'rep':>3} {'epoch':>5} {'train loss':>10} {'train acc':>9} {'val loss':>8} {'val acc':>7} {'s':>5}"


def format_epoch(r: EpochRecord) -> str:
    """One table row for an epoch."""
    return (f"{r.arm:<10} {r.replicate:>3} {r.epoch:>5} {r.train_loss:>10.4f} {r.train_acc:>9.3f} "
            f"{r.val_loss:>8.4f} {r.val_acc:>7.3f} {r.seconds:>5.2f}")


def format_summary(result: ExperimentResult) -> str:
    """Mean validation-accuracy curves of both arms, the per-replicate finals and the verdict."""
    lines = [f"run {result.run_id}: {result.spec.name} - {result.status}" + (f" ({result.message})" if result.message else "")]
    curves = result.analysis.get("curves", {}).get("val_acc", {})
    plain, aug = curves.get("plain", []), curves.get("augmented", [])
    if plain:
        lines.append(f"{'epoch':>5} {'plain val acc':>20} {'augmented val acc':>20}")
        for p, a in zip(plain, aug):
            lines.append(f"{p['epoch']:>5} {p['mean']:>13.3f} ± {p['std']:.3f} {a['mean']:>13.3f} ± {a['std']:.3f}")
    for f in result.finals:
        lines.append(f"final  {f.arm:<10} replicate {f.replicate} (seed {f.seed}): val acc {f.val_acc:.3f}")
    comparison = result.comparison or {}
    if comparison.get("differences"):
        diffs = ", ".join(f"{d:+.1f}" for d in comparison["differences"])
        lines.append(f"differences (points, augmented - plain): {diffs}")
    lines.append(f"verdict: {comparison.get('sentence', 'no comparison')}")
    lines.append(f"time: {result.seconds:.1f} s")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    if args.preset:
        spec = create_spec_preset(args.preset)
    elif args.spec:
        spec = ExperimentSpec.from_json(Path(args.spec).read_text())
    else:
        raise AugLabError("Give a spec file or --preset NAME.", hint=f"Presets: {', '.join(list_spec_presets())}.")
    if args.seeds:
        spec = replace(spec, seeds=args.seeds)
    if args.epochs:
        spec = replace(spec, epochs=args.epochs)
    store = None if args.no_store else RunStore()
    print(_HEADER, flush=True)
    cancel = threading.Event()
    try:
        result = run_experiment(spec, on_epoch=lambda r: print(format_epoch(r), flush=True), cancel=cancel, store=store)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        cancel.set()
        return 130
    print(format_summary(result))
    return 0 if result.status == "completed" else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m augment_core.experiment", description="Augmentation experiments, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a spec (JSON file) or a preset and store it")
    run.add_argument("spec", nargs="?", help="path to a spec JSON file")
    run.add_argument("--preset", choices=list_spec_presets(), help="run a built-in preset instead")
    run.add_argument("--seeds", type=int, help="override the number of seeds")
    run.add_argument("--epochs", type=int, help="override the number of epochs")
    run.add_argument("--no-store", action="store_true", help="do not save the run")
    sub.add_parser("list", help="list stored runs")
    show = sub.add_parser("show", help="show a stored run")
    show.add_argument("id", type=int)
    export = sub.add_parser("export", help="print a stored run as JSON or CSV")
    export.add_argument("id", type=int)
    export.add_argument("--format", choices=("json", "csv"), default="json")
    delete = sub.add_parser("delete", help="delete a stored run")
    delete.add_argument("id", type=int)
    add_search_command(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "search":
            return run_search_command(args)
        store = RunStore()
        if args.command == "list":
            print(f"{'id':>4} {'status':<10} {'verdict':<20} {'mean diff':>9}  {'started':<25} name")
            for r in store.list_runs():
                diff = f"{r['mean_difference']:+.1f}" if isinstance(r["mean_difference"], float) else ""
                print(f"{r['id']:>4} {r['status']:<10} {r['verdict']:<20} {diff:>9}  {r['started_at']:<25} {r['name']}")
        elif args.command == "show":
            result = store.load_run(args.id)
            print(_HEADER)
            for e in result.epochs:
                print(format_epoch(e))
            print(format_summary(result))
        elif args.command == "export":
            print(store.export_json(args.id) if args.format == "json" else store.export_csv(args.id), end="")
        elif args.command == "delete":
            print("deleted" if store.delete_run(args.id) else "no such run")
        return 0
    except AugLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
