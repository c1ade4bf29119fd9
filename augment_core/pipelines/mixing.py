"""MixUp and CutMix: batch-level augmentations, as pure seeded functions.

Unlike per-image transforms, these blend *pairs* of images and their labels, so they act on a
whole batch. The same functions drive training (torch batches) and previews (numpy batches).

API (all functions are pure: the only randomness comes from the ``rng`` argument):

* ``mixup(images, labels, num_classes, *, alpha, rng) -> MixResult``
  Zhang et al. 2018: ``x = λ·x_i + (1-λ)·x_j`` with one ``λ ~ Beta(alpha, alpha)`` per batch and
  partner ``j`` from a random permutation of the batch.
* ``cutmix(images, labels, num_classes, *, alpha, rng) -> MixResult``
  Yun et al. 2019: paste a box from ``x_j`` into ``x_i``; the box area is ``1-λ`` of the image,
  clipped at the border, and the returned ``lam`` is recomputed from the box actually pasted.
* ``mix_batch(images, labels, num_classes, *, mixup_alpha, cutmix_alpha, rng, switch_prob=0.5)``
  applies MixUp, CutMix (or, if both alphas are positive, one of them chosen with
  ``switch_prob`` for CutMix), or nothing when both alphas are 0 (then ``lam`` is 1.0).
* ``describe_mix(result, index, class_names) -> str`` gives the label of one mixed image in
  words, e.g. ``"0.70 cat + 0.30 dog"``.

Inputs:
    images: numpy ``(B, H, W, C)`` (channels last, uint8 or float, as albumentations gives) or
        torch ``(B, C, H, W)`` float (channels first, as models take). Pass ``channels_last`` to
        override the layout guess. uint8 results of MixUp are rounded back to uint8.
    labels: integer class indices, shape ``(B,)``.
    rng: a ``numpy.random.Generator`` or an int seed.

``MixResult`` fields: ``images`` (same type, shape and dtype as the input), ``targets``
(``(B, num_classes)`` float32 soft labels, same library as the input), ``lam`` (the weight of the
original image, a float in [0, 1]), ``partner`` (``(B,)`` int array: index of the image mixed in),
``kind`` (``"mixup"``, ``"cutmix"`` or ``"none"``) and ``box`` (``(y0, y1, x0, x1)`` for CutMix).

Example:
    >>> rng = np.random.default_rng(0)
    >>> out = mixup(batch_uint8, np.array([0, 1, 1, 2]), 3, alpha=0.4, rng=rng)
    >>> describe_mix(out, 0, ["cat", "dog", "fox"])
    '0.83 cat + 0.17 dog'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

Batch = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class MixResult:
    """A mixed batch, its soft labels and what was mixed with what."""

    images: Any  # same type, shape and dtype as the input batch
    targets: Any  # (B, num_classes) float32 soft labels (numpy or torch, like the input)
    lam: float  # weight of each original image (1.0 means unmixed)
    partner: np.ndarray  # (B,) int: index of the image mixed into each image
    kind: str  # "mixup", "cutmix" or "none"
    box: tuple[int, int, int, int] | None = None  # CutMix box (y0, y1, x0, x1), else None


def _rng(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def one_hot(labels: Batch, num_classes: int) -> Batch:
    """(B,) int labels -> (B, num_classes) float32 one-hot, in the same library as ``labels``."""
    if isinstance(labels, torch.Tensor):
        return torch.nn.functional.one_hot(labels.long(), num_classes).float()
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


def _soft_targets(labels: Batch, partner: np.ndarray, lam: float, num_classes: int) -> Batch:
    hot = one_hot(labels, num_classes)
    if isinstance(hot, torch.Tensor):
        return lam * hot + (1.0 - lam) * hot[torch.from_numpy(partner)]
    return (lam * hot + (1.0 - lam) * hot[partner]).astype(np.float32)


def _check(images: Batch, labels: Batch, alpha: float) -> None:
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")


def mixup(images: Batch, labels: Batch, num_classes: int, *, alpha: float,
          rng: np.random.Generator | int) -> MixResult:
    """Blend each image with a random partner: ``λ·x_i + (1-λ)·x_j``, ``λ ~ Beta(alpha, alpha)``."""
    _check(images, labels, alpha)
    gen = _rng(rng)
    lam = float(gen.beta(alpha, alpha))
    partner = gen.permutation(len(images))
    if isinstance(images, torch.Tensor):
        mixed = images * lam + images[torch.from_numpy(partner)] * (1.0 - lam)
    else:
        blend = images.astype(np.float32) * lam + images[partner].astype(np.float32) * (1.0 - lam)
        mixed = np.clip(np.rint(blend), 0, 255).astype(np.uint8) if images.dtype == np.uint8 else blend.astype(images.dtype)
    return MixResult(mixed, _soft_targets(labels, partner, lam, num_classes), lam, partner, "mixup")


def cutmix(images: Batch, labels: Batch, num_classes: int, *, alpha: float,
           rng: np.random.Generator | int, channels_last: bool | None = None) -> MixResult:
    """Paste a box of a random partner into each image; ``lam`` is the area kept from the original."""
    _check(images, labels, alpha)
    gen = _rng(rng)
    last = (not isinstance(images, torch.Tensor)) if channels_last is None else channels_last
    h, w = (images.shape[1], images.shape[2]) if last else (images.shape[2], images.shape[3])
    lam = float(gen.beta(alpha, alpha))
    partner = gen.permutation(len(images))
    ratio = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(h * ratio), int(w * ratio)
    cy, cx = int(gen.integers(h)), int(gen.integers(w))
    y0, y1 = int(np.clip(cy - cut_h // 2, 0, h)), int(np.clip(cy + cut_h // 2, 0, h))
    x0, x1 = int(np.clip(cx - cut_w // 2, 0, w)), int(np.clip(cx + cut_w // 2, 0, w))
    lam_used = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
    if isinstance(images, torch.Tensor):
        mixed = images.clone()
        src = images[torch.from_numpy(partner)]
    else:
        mixed = images.copy()
        src = images[partner]
    if last:
        mixed[:, y0:y1, x0:x1] = src[:, y0:y1, x0:x1]
    else:
        mixed[:, :, y0:y1, x0:x1] = src[:, :, y0:y1, x0:x1]
    targets = _soft_targets(labels, partner, lam_used, num_classes)
    return MixResult(mixed, targets, lam_used, partner, "cutmix", (y0, y1, x0, x1))


def mix_batch(images: Batch, labels: Batch, num_classes: int, *, mixup_alpha: float = 0.0,
              cutmix_alpha: float = 0.0, rng: np.random.Generator | int,
              switch_prob: float = 0.5) -> MixResult:
    """Apply MixUp and/or CutMix as configured; with both alphas 0 the batch is returned as is.

    With both alphas positive, CutMix is chosen with probability ``switch_prob`` (timm's rule).
    """
    gen = _rng(rng)
    use_mixup, use_cutmix = mixup_alpha > 0, cutmix_alpha > 0
    if use_mixup and use_cutmix:
        use_cutmix = bool(gen.random() < switch_prob)
        use_mixup = not use_cutmix
    if use_cutmix:
        return cutmix(images, labels, num_classes, alpha=cutmix_alpha, rng=gen)
    if use_mixup:
        return mixup(images, labels, num_classes, alpha=mixup_alpha, rng=gen)
    return MixResult(images, one_hot(labels, num_classes), 1.0, np.arange(len(images)), "none")


def describe_mix(result: MixResult, index: int, class_names: list[str] | tuple[str, ...]) -> str:
    """Say what image ``index`` of a mixed batch is labelled as, e.g. ``"0.70 cat + 0.30 dog"``.

    Weights of the same class are added up, so mixing two cats reads ``"1.00 cat"``.
    """
    row = result.targets[index]
    weights = row.tolist() if isinstance(row, torch.Tensor) else list(np.asarray(row))
    parts = sorted(((w, class_names[c]) for c, w in enumerate(weights) if w > 1e-6), key=lambda t: -t[0])
    return " + ".join(f"{w:.2f} {name}" for w, name in parts)
