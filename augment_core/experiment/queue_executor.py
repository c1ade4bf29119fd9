"""Trials and arms as runs in the run queue: every local worker (or a Ray cluster) trains them in parallel.

:class:`QueueExecutor` is an :class:`~augment_core.experiment.executor.Executor`: it enqueues each
request as a run (at most ``workers`` of its runs waiting or training at once, so a search asks
Optuna for new trials only as slots free up and never floods the queue), polls the run database
for their epochs, forwards each new epoch to ``on_epoch``, turns a request's own ``cancel`` (a
pruned trial) or the shared one into the run's cancel flag, and returns the stored results in
request order.

What a worker needs besides the spec travels with the run, written in the same transaction as
the run itself (:meth:`RunQueue.enqueue`'s ``request``): which arms to train and which
:class:`~augment_core.experiment.executor.DataPart` of the spec's data (a worker process cannot
see this process's memory, so a held-out part is rebuilt from ``spec.dataset`` with the same
seeded split). :func:`run_queued` is the worker's run function that reads it; with no request it
is exactly :func:`~augment_core.experiment.runner.run_experiment`.

Because every random choice is seeded, a trial gives the same numbers here as in
:class:`~augment_core.experiment.executor.LocalExecutor` (tests/test_search_queue.py).

Example:
    >>> executor = QueueExecutor(workers=2)          # two worker processes serve the queue
    >>> run_search(spec, executor=executor)          # two trials at a time
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.datasets import DATASETS, ImageDataset
from augment_core.experiment.executor import DataPart, RequestEpochCallback, RunRequest
from augment_core.experiment.queue import FINISHED, RunQueue
from augment_core.experiment.results import ExperimentResult
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.store import RunStore


class QueueExecutor:
    """Runs requests as queued runs that workers claim; see the module docstring.

    Args:
        workers: Runs of this executor queued or training at once (the app's ``AUGLAB_WORKERS``).
        store: The run database the workers serve (default: the data folder's).
        poll_s: Seconds between looks at the database.
        follow: Public page token written on the runs (empty: no page follows them).
    """

    def __init__(self, workers: int = 1, *, store: RunStore | None = None, poll_s: float = 0.2, follow: str = "") -> None:
        if workers < 1:
            raise AugLabError("A queue executor needs at least one worker to train its runs.", field="AUGLAB_WORKERS")
        self.workers = workers
        self.queue = RunQueue(store)
        self.poll_s, self.follow = poll_s, follow
        self._secret = secrets.token_hex(16)  # only this executor may cancel its runs
        self.run_ids: list[int] = []  # every run it enqueued, in order

    def _submit(self, request: RunRequest) -> int:
        if request.dataset is not None and request.part is None:
            raise AugLabError("These runs use data held in memory, which a worker process cannot see.",
                              hint="Name the data in the spec (a built-in or a saved upload), or run without workers.",
                              field="dataset")
        extra = {"arms": list(request.arms), "part": request.part.to_dict() if request.part is not None else None,
                 "label": request.label}
        run_id = self.queue.enqueue(request.spec, owner=self._secret, follow=self.follow, request=extra)
        self.run_ids.append(run_id)
        return run_id

    def run(self, requests: Sequence[RunRequest], *, on_epoch: RequestEpochCallback | None = None,
            cancel: threading.Event | None = None) -> list[ExperimentResult]:
        """See :meth:`Executor.run`. Runs not yet enqueued when ``cancel`` is set come back "cancelled" with no epochs."""
        results: list[ExperimentResult | None] = [None] * len(requests)
        waiting = list(range(len(requests)))  # not enqueued yet
        active: dict[int, int] = {}  # request index -> run id
        asked: set[int] = set()  # indexes whose cancel was sent
        seen: set[tuple[int, str, int, int]] = set()
        pause = threading.Event()
        try:
            while waiting or active:
                stop_all = cancel is not None and cancel.is_set()
                while waiting and (stop_all or len(active) < self.workers):
                    i = waiting[0]
                    if stop_all or requests[i].cancel.is_set():
                        waiting.pop(0)
                        results[i] = ExperimentResult(requests[i].spec, status="cancelled", message="Cancelled before it started.")
                        continue
                    active[i] = self._submit(requests[i])
                    waiting.pop(0)
                for i, run_id in list(active.items()):
                    if (stop_all or requests[i].cancel.is_set()) and i not in asked:
                        asked.add(i)
                        self.queue.request_cancel(run_id, self._secret)
                    try:
                        run = self.queue.store.load_run(run_id)  # status first, then epochs: a finished run's are all there
                    except AugLabError as exc:  # deleted from the Runs page while it went
                        run = ExperimentResult(requests[i].spec, status="failed", message=str(exc), run_id=run_id)
                    for record in run.epochs:
                        key = (i, record.arm, record.replicate, record.epoch)
                        if key not in seen:
                            seen.add(key)
                            if on_epoch is not None:
                                on_epoch(i, record)
                    if run.status in FINISHED:
                        results[i] = run
                        del active[i]
                if waiting or active:
                    pause.wait(self.poll_s)
        except BaseException:
            for run_id in active.values():  # never leave runs training for a caller that is gone
                try:
                    self.queue.request_cancel(run_id, self._secret)
                except AugLabError:
                    pass
            raise
        return [r for r in results if r is not None]


_DATA: dict[str, ImageDataset] = {}  # built-in data sets a worker generated (the same for every trial of a search)


def _load(spec: ExperimentSpec) -> ImageDataset:
    from augment_core.experiment.runner import load_dataset  # torch loads only when something trains

    if spec.dataset not in DATASETS:
        return load_dataset(spec)  # an upload is read afresh: it may have been replaced
    key = json.dumps([spec.dataset, spec.dataset_options, spec.image_size], sort_keys=True)
    if key not in _DATA:
        if len(_DATA) >= 4:
            _DATA.pop(next(iter(_DATA)))
        _DATA[key] = load_dataset(spec)
    return _DATA[key]


def run_queued(spec: ExperimentSpec, *, store: RunStore | None = None, run_id: int | None = None, **kwargs: Any) -> ExperimentResult:
    """The worker's run function: :func:`run_experiment` with the arms and data part the run was enqueued with.

    Args:
        spec: The claimed run's spec.
        store: The run database (where the request is read from).
        run_id: The claimed run.
        **kwargs: Passed on to :func:`run_experiment` (``on_batch``, ``cancel``, ``executor``...).
    """
    from augment_core.experiment.runner import run_experiment

    request = RunQueue(store).request_of(run_id) if store is not None and run_id is not None else None
    if request is None:
        return run_experiment(spec, store=store, run_id=run_id, **kwargs)
    data = _load(spec)
    if request.get("part"):
        data = DataPart(**request["part"]).select(data)
    return run_experiment(spec, dataset=data, store=store, run_id=run_id, arms=tuple(request["arms"]), **kwargs)
