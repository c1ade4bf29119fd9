"""``python -m augment_core.worker [--parent-pid PID] [--once]``: run one worker until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
from augment_core.errors import AugLabError
from augment_core.settings import get_int


def lower_priority() -> int:
    """Add ``AUGLAB_WORKER_NICE`` to this process's niceness (previews and pages first); return the niceness now."""
    try:
        wanted = min(19, max(0, get_int("AUGLAB_WORKER_NICE")))
        return os.nice(wanted) if wanted else os.nice(0)
    except (AttributeError, OSError, ValueError):  # no nice() here, or a malformed setting: the normal priority
        return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the worker, return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m augment_core.worker", description=__doc__)
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop (re-queueing the current run) when this process is gone; the app passes its own pid")
    parser.add_argument("--once", action="store_true", help="train at most one queued run, then exit")
    args = parser.parse_args(argv)
    lower_priority()  # before the engine's imports (torch, albumentations: seconds of CPU) so those yield too
    from augment_core.worker.loop import Worker

    try:
        worker = Worker(parent_pid=args.parent_pid)
    except AugLabError as exc:
        print(f"augment_core.worker: {exc}", file=sys.stderr)
        return 2
    # SIGTERM/SIGINT: finish politely (the current run goes back to the queue), never mid-write.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    print(f"augment_core.worker {worker.name}: serving {worker.queue.store.path}", file=sys.stderr, flush=True)
    worker.serve(once=args.once)
    return 0


if __name__ == "__main__":
    sys.exit(main())
