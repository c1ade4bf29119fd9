"""Where runs execute: one small interface between "what to train" and "who trains it".

Multi-arm experiments, ablations and searches never call the engine directly; they hand a list
of :class:`RunRequest` to an :class:`Executor` and hear back through one callback per finished
epoch. :class:`LocalExecutor` runs the requests one after another in this process with
:func:`~augment_core.experiment.runner.run_experiment`. The run queue and its workers (or a Ray
cluster) plug in through :class:`~augment_core.experiment.queue_executor.QueueExecutor`, which
implements the same :meth:`Executor.run` on top of the queue: it submits every request, forwards
each worker's epochs to ``on_epoch`` with the request's index, honours the request's own
``cancel`` event (a search prunes a trial by setting it) and returns the results in request
order. A request's data travel as a :class:`DataPart` (a worker cannot see this process's memory).

Example:
    >>> requests = [RunRequest(spec, arms=("plain",)), RunRequest(replace(spec, pipeline=p), arms=("augmented",))]
    >>> results = LocalExecutor().run(requests, on_epoch=lambda i, record: print(i, record.val_acc))
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from augment_core.errors import AugLabError
from augment_core.experiment.results import EpochRecord, ExperimentResult
from augment_core.experiment.spec import ExperimentSpec

if TYPE_CHECKING:
    from augment_core.experiment.datasets import ImageDataset
    from augment_core.experiment.store import RunStore

RequestEpochCallback = Callable[[int, EpochRecord], None]  # (index of the request, its finished epoch)


@dataclass(frozen=True)
class DataPart:
    """A seeded part of the spec's data that any process can rebuild (a worker cannot see this one's memory).

    The search trains on the *search* part and confirms on the *held-out* part of
    ``holdout_split(load_dataset(spec), fraction, seed)``; ``source`` is the fingerprint of the full
    data it was cut from, so a worker that loads different data refuses instead of training on it.
    """

    which: str  # "search" or "held-out"
    fraction: float  # share of each class held out
    seed: int  # the split's seed (the search's base seed)
    source: str = ""  # fingerprint of the full data set ("" = not checked)

    def select(self, data: ImageDataset) -> ImageDataset:
        """This part of ``data`` (the full data set the spec names)."""
        from augment_core.experiment.search import holdout_split  # search builds on this module; imported when used

        if self.source and data.fingerprint != self.source:
            raise AugLabError(f"The data “{data.name}” are not the ones this run was cut from (they changed on disk?).",
                              hint="Start the search again.", field="dataset")
        search, held_out = holdout_split(data, self.fraction, self.seed)
        return search if self.which == "search" else held_out

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data."""
        return {"which": self.which, "fraction": self.fraction, "seed": self.seed, "source": self.source}


@dataclass(frozen=True, eq=False)
class RunRequest:
    """One engine run to execute: a spec, the arms to train, and its own stop switch."""

    spec: ExperimentSpec  # what to train
    arms: tuple[str, ...] = ("plain", "augmented")  # which arms of the spec to train
    dataset: ImageDataset | None = None  # already-loaded data (e.g. a held-out part); default: load spec.dataset
    part: DataPart | None = None  # how another process rebuilds ``dataset`` from spec.dataset (None: all of it)
    cancel: threading.Event = field(default_factory=threading.Event)  # set to stop this run alone (pruning)
    label: str = ""  # what the caller calls it ("Light photos", "trial 7")


class Executor(Protocol):
    """Runs requests and reports their epochs; the seam where a queue or Ray plugs in."""

    workers: int  # runs it can execute at the same time (a search runs this many trials in parallel)

    def run(self, requests: Sequence[RunRequest], *, on_epoch: RequestEpochCallback | None = None,
            cancel: threading.Event | None = None) -> list[ExperimentResult]:
        """Execute every request; return their results in request order.

        Args:
            requests: The runs.
            on_epoch: Called with (request index, record) after every finished epoch.
            cancel: Stops everything not yet finished (finished epochs are kept in the results).
        """
        ...


class LocalExecutor:
    """Runs requests one at a time in the calling thread with the in-process engine.

    Args:
        store: Where each run is saved as it progresses (None: not stored).
    """

    workers = 1

    def __init__(self, store: RunStore | None = None) -> None:
        self.store = store
        self._data: dict[str, ImageDataset] = {}  # built-in data sets are generated once, not once per arm

    def run(self, requests: Sequence[RunRequest], *, on_epoch: RequestEpochCallback | None = None,
            cancel: threading.Event | None = None) -> list[ExperimentResult]:
        """See :meth:`Executor.run`."""
        from augment_core.experiment.runner import load_dataset, run_experiment  # torch loads only when something trains

        results = []
        for index, request in enumerate(requests):
            data = request.dataset
            if data is None:
                key = json.dumps([request.spec.dataset, request.spec.dataset_options, request.spec.image_size], sort_keys=True)
                data = self._data[key] = self._data.get(key) or load_dataset(request.spec)
                data = request.part.select(data) if request.part is not None else data
            stop = _either(request.cancel, cancel)
            callback = None if on_epoch is None else (lambda record, _i=index: on_epoch(_i, record))
            results.append(run_experiment(request.spec, dataset=data, on_epoch=callback, cancel=stop,
                                          store=self.store, arms=request.arms))
        return results


class _Either(threading.Event):
    """An event that also counts as set when either of two others is (the engine polls ``is_set``)."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        super().__init__()
        self._a, self._b = a, b

    def is_set(self) -> bool:  # noqa: D102 - see threading.Event
        return self._a.is_set() or self._b.is_set() or super().is_set()


def _either(own: threading.Event, shared: threading.Event | None) -> threading.Event:
    return own if shared is None else _Either(own, shared)
