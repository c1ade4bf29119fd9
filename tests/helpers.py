"""Helpers shared by test modules: a fake engine run and a deadline-bounded wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from augment_core.experiment import BatchProgress, EpochRecord, ExperimentResult


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` until it is true; fail the test (AssertionError) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def make_fake(gate: threading.Event | None = None, *, fail: Exception | None = None, steps: int = 3,
              pause_after: int | None = None):
    """A run function with the engine's signature: reports steps and epochs, honours cancel, waits on ``gate``."""

    def run(spec, *, dataset=None, on_epoch=None, on_batch=None, cancel=None, store=None, run_id=None) -> ExperimentResult:
        result = ExperimentResult(spec)
        if store is not None and run_id is not None:
            result.run_id = run_id
            store.attach_run(run_id, result)
        else:
            result.run_id = store.create_run(result) if store is not None else None
        on_epoch = on_epoch or (lambda record: None)
        done = 0
        for epoch in range(1, spec.epochs + 1):
            for arm in ("plain", "augmented"):
                for step in range(steps):
                    if gate is not None:
                        gate.wait(5)
                    if pause_after is not None and len(result.epochs) == pause_after:
                        cancel.wait(5)  # hold here until the test cancels
                    if cancel is not None and cancel.is_set():
                        result.status, result.message = "cancelled", "Stopped by the user; finished epochs are kept."
                        store.finish_run(result)
                        return result
                    if fail is not None and epoch == 2:
                        raise fail
                    done += 1
                    on_batch(BatchProgress(arm, 0, epoch, step + 1, steps, 0.5, done / (spec.epochs * 2 * steps)))
                record = EpochRecord(arm, 0, 0, epoch, 0.5, 0.5, 0.5, 0.5, 1e-3, 0.01)
                result.epochs.append(record)
                store.add_epoch(result.run_id, record)
                on_epoch(record)
        result.status = "completed"
        store.finish_run(result)
        return result

    return run
