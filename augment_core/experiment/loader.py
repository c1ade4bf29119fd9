"""Training batches: the same order for both arms, augmentation overlapped with training.

* :func:`batch_plan` fixes which images form each step of an epoch, from the replicate's seed
  and the epoch number only, so the plain and augmented arms see identical batch orders.
* :class:`PlainBatches` slices a tensor normalised once up front (exact, nothing to redo).
* :class:`AugmentedBatches` augments in a child process that runs up to ``prefetch`` batches
  ahead, so the model does not wait for albumentations and the two do not take turns for the
  GIL. Its random stream is its own, so results do not depend on timing.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from augment_core.errors import AugLabError
from augment_core.experiment.augmentation import ImageTransform, augment_worker
from augment_core.pipelines.mixing import mix_batch


@dataclass(frozen=True)
class Batch:
    """One training step's inputs."""

    images: torch.Tensor  # (B, 3, H, W) float32, normalised
    labels: torch.Tensor  # (B,) int64 true classes (before any mixing)
    targets: torch.Tensor | None  # (B, C) soft labels when MixUp/CutMix mixed the batch, else None
    prefixed: bool = False  # images are already the frozen prefix's output (cached features), not pixels


class Normaliser:
    """(N, H, W, 3) uint8 numpy -> (N, 3, H, W) float32 torch, ``(x/255 - mean) / std``.

    Element-wise, so normalising a whole set then slicing equals slicing then normalising, bit
    for bit: the plain arm's precomputed tensor matches what the augmented path computes.
    """

    def __init__(self, mean: tuple[float, float, float], std: tuple[float, float, float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        # One float tensor, then every step in place: the same arithmetic, in the same order, as
        # ``((x / 255 - mean) / std)``, bit for bit, but with one float copy of the set alive
        # instead of three (the whole training set is normalised at once: at the data budget that
        # was 3 × AUGLAB_MAX_DATA_BYTES in the worker).
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous().float()
        return x.div_(255.0).sub_(self.mean).div_(self.std)


def batch_plan(n: int, *, batch_size: int, seed: int, epoch: int, repeats: int = 1) -> list[np.ndarray]:
    """Positions (into the training set) of every batch of one epoch.

    ``repeats`` shuffled passes are concatenated and cut into ``ceil(total / batch_size)`` batches
    of nearly equal size, so no batch has a single image (BatchNorm cannot train on one).
    """
    rng = np.random.default_rng([seed, epoch])
    order = np.concatenate([rng.permutation(n) for _ in range(repeats)])
    count = max(1, -(-len(order) // batch_size))
    return [b for b in np.array_split(order, count) if len(b)]


_SERVER_READY = False  # this process's forkserver has forked once (its imports are done)


def start_augmentation_server() -> Any:
    """Start (once per process) the forkserver that augmentation children fork from; return its context.

    The forkserver imports albumentations once (about a second); every replicate's child then
    forks from it in milliseconds. Called before a run's clock starts, so that one-time cost is
    not measured as the first replicate's set-up (and charged to every later one).
    """
    global _SERVER_READY
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["augment_core.experiment.augmentation"])
    if not _SERVER_READY:  # one no-op child: returns once the server has imported its modules and can fork
        warm = context.Process(target=int, name="augment-warm-up", daemon=True)
        warm.start()
        warm.join()
        _SERVER_READY = True
    return context


class PlainBatches:
    """Un-augmented batches sliced from a tensor normalised once."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalise: Normaliser, *,
                 device: torch.device | str = "cpu") -> None:
        self.x = normalise(images).to(device)  # (N, 3, H, W), moved to the training device once
        self.y = torch.from_numpy(labels.astype(np.int64)).to(device)
        self.prefixed = False

    @classmethod
    def from_features(cls, features: torch.Tensor, labels: torch.Tensor) -> PlainBatches:
        """Batches of precomputed frozen-prefix features (N, ...) instead of pixels."""
        out = cls.__new__(cls)
        out.x, out.y, out.prefixed = features, labels, True
        return out

    def epoch(self, plan: list[np.ndarray]) -> Iterator[Batch]:
        """Yield the batches of ``plan`` in order."""
        for positions in plan:
            idx = torch.from_numpy(positions).to(self.x.device)
            yield Batch(self.x[idx], self.y[idx], None, self.prefixed)

    def close(self) -> None:
        """Nothing to release."""


class AugmentedBatches:
    """Augmented (and optionally mixed) batches, produced ahead of the training loop.

    The albumentations work runs in a child process (``forkserver``: a clean, preloaded parent,
    safe beside torch's threads and a web server's), ``prefetch`` batches ahead, so it overlaps
    with training instead of taking turns with it for the GIL. Normalising and MixUp/CutMix
    (cheap torch ops with their own seeded stream) happen here, in order, so results do not
    depend on timing. Call :meth:`start` with the whole run's plans; then :meth:`epoch` once per
    epoch, in order.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalise: Normaliser,
                 transform_factory: Callable[[], ImageTransform | None] | None, *, num_classes: int, seed: int,
                 mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0, prefetch: int = 8,
                 device: torch.device | str = "cpu") -> None:
        self.images, self.labels = images, labels.astype(np.int64)
        self.normalise, self.factory = normalise, transform_factory
        self.num_classes, self.mixup_alpha, self.cutmix_alpha = num_classes, mixup_alpha, cutmix_alpha
        self.mix_rng = np.random.default_rng([seed, 1])  # MixUp/CutMix stream, separate from the transform's
        self.prefetch = prefetch
        self.device = torch.device(device)  # batches are built on the CPU (seeded, exact), then moved here
        self._plans: list[list[np.ndarray]] = []
        self._process: Any = None
        self._queue: Any = None
        self._stop: Any = None
        self._local: ImageTransform | None = None  # for make(), built on first use

    def make(self, positions: np.ndarray) -> Batch:
        """Build one batch synchronously, in this process (previews such as "Show a batch").

        The first call's images are the same as the worker's first batch would be.
        """
        if self._local is None and self.factory is not None:
            self._local = self.factory()
        raw = self.images[positions]
        if self._local is not None:
            raw = np.stack([self._local(im) for im in raw])
        return self._batch(raw, positions)

    def start(self, plans: list[list[np.ndarray]]) -> None:
        """Start producing every augmented batch of every epoch, in order."""
        self._plans = plans
        if self.factory is None:  # mixing only: nothing for albumentations to do
            return
        context = start_augmentation_server()
        self._queue, self._stop = context.Queue(maxsize=self.prefetch), context.Event()
        self._process = context.Process(target=augment_worker, args=(self.factory, self.images, plans, self._queue, self._stop, os.getpid()),
                                        name="augment-worker", daemon=True)
        self._process.start()

    def _next_raw(self, positions: np.ndarray) -> np.ndarray:
        if self._process is None:
            return self.images[positions]
        while True:
            try:
                kind, payload = self._queue.get(timeout=1.0)
                break
            except queue.Empty:
                if not self._process.is_alive():
                    raise AugLabError("The augmentation worker stopped unexpectedly.", field="pipeline") from None
        if kind == "error":
            message, hint = payload
            raise AugLabError(message, hint=hint, field="pipeline")
        if kind != "batch":
            raise RuntimeError("augmentation worker ran out of batches")
        return payload

    def _batch(self, raw: np.ndarray, positions: np.ndarray) -> Batch:
        x = self.normalise(raw)
        y = torch.from_numpy(self.labels[positions])
        if self.mixup_alpha > 0 or self.cutmix_alpha > 0:
            mixed = mix_batch(x, y, self.num_classes, mixup_alpha=self.mixup_alpha, cutmix_alpha=self.cutmix_alpha, rng=self.mix_rng)
            return Batch(mixed.images.to(self.device), y.to(self.device), mixed.targets.to(self.device))
        return Batch(x.to(self.device), y.to(self.device), None)

    def epoch(self, plan: list[np.ndarray]) -> Iterator[Batch]:
        """Yield this epoch's ``len(plan)`` batches, in order."""
        for positions in plan:
            yield self._batch(self._next_raw(positions), positions)

    def close(self) -> None:
        """Stop the worker process and wait for it."""
        if self._process is None:
            return
        self._stop.set()
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2)
        self._queue.close()
        self._queue.cancel_join_thread()
        self._process = None
