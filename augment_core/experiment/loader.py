"""Training batches: the same order for both arms, augmentation overlapped with training.

* :func:`batch_plan` fixes which images form each step of an epoch, from the replicate's seed
  and the epoch number only, so the plain and augmented arms see identical batch orders.
* :class:`PlainBatches` slices a tensor normalised once up front (exact, nothing to redo).
* :class:`AugmentedBatches` augments in a background thread that runs up to ``prefetch``
  batches ahead, so the model never waits for albumentations (OpenCV and torch both release the
  GIL while they compute). Its random stream is its own, so results do not depend on timing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from augment_core.experiment.augmentation import ImageTransform
from augment_core.mixing import mix_batch


@dataclass(frozen=True)
class Batch:
    """One training step's inputs."""

    images: torch.Tensor  # (B, 3, H, W) float32, normalised
    labels: torch.Tensor  # (B,) int64 true classes (before any mixing)
    targets: torch.Tensor | None  # (B, C) soft labels when MixUp/CutMix mixed the batch, else None


class Normaliser:
    """(N, H, W, 3) uint8 numpy -> (N, 3, H, W) float32 torch, ``(x/255 - mean) / std``.

    Element-wise, so normalising a whole set then slicing equals slicing then normalising, bit
    for bit: the plain arm's precomputed tensor matches what the augmented path computes.
    """

    def __init__(self, mean: tuple[float, float, float], std: tuple[float, float, float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
        return ((x - self.mean) / self.std).contiguous()


def batch_plan(n: int, *, batch_size: int, seed: int, epoch: int, repeats: int = 1) -> list[np.ndarray]:
    """Positions (into the training set) of every batch of one epoch.

    ``repeats`` shuffled passes are concatenated and cut into ``ceil(total / batch_size)`` batches
    of nearly equal size, so no batch has a single image (BatchNorm cannot train on one).
    """
    rng = np.random.default_rng([seed, epoch])
    order = np.concatenate([rng.permutation(n) for _ in range(repeats)])
    count = max(1, -(-len(order) // batch_size))
    return [b for b in np.array_split(order, count) if len(b)]


class PlainBatches:
    """Un-augmented batches sliced from a tensor normalised once."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalise: Normaliser) -> None:
        self.x = normalise(images)  # (N, 3, H, W)
        self.y = torch.from_numpy(labels.astype(np.int64))

    def epoch(self, plan: list[np.ndarray]) -> Iterator[Batch]:
        """Yield the batches of ``plan`` in order."""
        for positions in plan:
            idx = torch.from_numpy(positions)
            yield Batch(self.x[idx], self.y[idx], None)

    def close(self) -> None:
        """Nothing to release."""


class AugmentedBatches:
    """Augmented (and optionally mixed) batches, produced ``prefetch`` steps ahead in a thread.

    Call :meth:`start` with the whole run's plans; then :meth:`epoch` once per epoch, in order.
    """

    _DONE = object()

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalise: Normaliser, transform: ImageTransform | None,
                 *, num_classes: int, seed: int, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0,
                 prefetch: int = 4) -> None:
        self.images, self.labels = images, labels.astype(np.int64)
        self.normalise, self.transform = normalise, transform
        self.num_classes, self.mixup_alpha, self.cutmix_alpha = num_classes, mixup_alpha, cutmix_alpha
        self.mix_rng = np.random.default_rng([seed, 1])  # MixUp/CutMix stream, separate from the transform's
        self._queue: queue.Queue[object] = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def make(self, positions: np.ndarray) -> Batch:
        """Build one batch synchronously (the producer thread calls this)."""
        raw = self.images[positions]  # (B, H, W, 3) uint8
        if self.transform is not None:
            raw = np.stack([self.transform(im) for im in raw])
        x = self.normalise(raw)
        y = torch.from_numpy(self.labels[positions])
        if self.mixup_alpha > 0 or self.cutmix_alpha > 0:
            mixed = mix_batch(x, y, self.num_classes, mixup_alpha=self.mixup_alpha, cutmix_alpha=self.cutmix_alpha, rng=self.mix_rng)
            return Batch(mixed.images, y, mixed.targets)
        return Batch(x, y, None)

    def start(self, plans: list[list[np.ndarray]]) -> None:
        """Start producing every batch of every epoch, in order."""

        def produce() -> None:
            try:
                for plan in plans:
                    for positions in plan:
                        if self._stop.is_set():
                            return
                        self._put(self.make(positions))
                self._put(self._DONE)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                self._put(exc)

        self._thread = threading.Thread(target=produce, name="augment-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def epoch(self, plan: list[np.ndarray]) -> Iterator[Batch]:
        """Yield this epoch's ``len(plan)`` batches from the producer."""
        for _ in plan:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if item is self._DONE:
                raise RuntimeError("augmentation producer ran out of batches")
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the producer thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
