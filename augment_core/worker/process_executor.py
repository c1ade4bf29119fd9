"""Replicates spread over local processes: one run on several cores without a cluster.

The same contract as :class:`augment_core.experiment.LocalReplicateExecutor` and
:class:`augment_core.worker.RayExecutor`: each replicate (one seed or fold, both arms) is trained by
the engine's :func:`~augment_core.experiment.run_replicate` in a child process, and its epochs and
final analysis are handed back as the child finishes. Children are spawned (not forked: torch and
threads do not survive a fork), and each gets an even share of the cores.

Example:
    >>> result = run_experiment(spec, executor=ProcessExecutor(2))
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from augment_core.experiment import (BatchProgress, EpochRecord, FinalEvaluation, ImageDataset, Replicate, StepCounter,
                                     deliver_replicate, run_replicate)


def train_replicate(replicate: Replicate, data: ImageDataset) -> tuple[list[EpochRecord], list[FinalEvaluation]]:
    """One replicate with the engine, in whatever process calls it; its epochs and finals."""
    epochs: list[EpochRecord] = []
    finals: list[FinalEvaluation] = []
    run_replicate(replicate, data, counter=StepCounter(replicate.steps), on_epoch=epochs.append, on_final=finals.append)
    return epochs, finals


def _child_init(threads: int) -> None:
    import torch

    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    torch.set_num_threads(threads)


class ProcessExecutor:
    """Trains up to ``processes`` replicates at once in spawned child processes."""

    name = "processes"

    def __init__(self, processes: int = 2) -> None:
        self.processes = max(1, processes)

    def __call__(self, replicates: list[Replicate], data: ImageDataset, *, counter: StepCounter,
                 on_epoch: Callable[[EpochRecord], None], on_final: Callable[[FinalEvaluation], None],
                 on_batch: Callable[[BatchProgress], None] | None, cancel: threading.Event | None) -> None:
        """Submit every replicate; record each as its process finishes (see ``LocalReplicateExecutor``)."""
        from augment_core.experiment.training import Cancelled

        threads = max(1, (os.cpu_count() or 1) // self.processes)
        with ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_child_init, initargs=(threads,)) as pool:
            pending: dict[Future, Replicate] = {pool.submit(train_replicate, r, data): r for r in replicates}
            try:
                while pending:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    done, _ = wait(list(pending), timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        replicate = pending.pop(future)
                        epochs, finals = future.result()
                        deliver_replicate(replicate, epochs, finals, counter=counter, on_epoch=on_epoch, on_final=on_final,
                                          on_batch=on_batch)
            finally:
                for future in pending:
                    future.cancel()
                if pending:
                    for process in list(getattr(pool, "_processes", {}).values()):
                        process.terminate()  # a cancelled run must not keep training in the background
