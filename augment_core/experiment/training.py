"""Fine-tuning: model assembly, strategies, ``train_one_epoch`` and ``evaluate``.

A strategy splits the classifier into a frozen *prefix* (always in eval mode, run without
autograd, so frozen BatchNorm statistics never move) and a trainable *body*. The prefix's
output on the validation set is therefore exact to cache, which makes per-epoch evaluation
cheap. The plain arm's training images never change either, so their prefix output is cached
once per replicate too (:func:`cache_plain_features`); the augmented arm's images are new every
step and go through the prefix each time, without autograd.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from augment_core.errors import AugLabError
from augment_core.settings import get_int
from augment_core.experiment.backbones import create_backbone
from augment_core.experiment.loader import Batch, PlainBatches
from augment_core.experiment.models import Classifier, init_head
from augment_core.experiment.spec import STRATEGIES, ExperimentSpec


class Cancelled(Exception):
    """Raised inside the training loop when the caller's cancel event is set."""


class SplitModel(nn.Module):
    """``body(prefix(x))`` where the prefix is frozen and the body trains."""

    def __init__(self, prefix: nn.Sequential, body: nn.Sequential, groups: list[tuple[str, list[nn.Parameter]]]) -> None:
        super().__init__()
        self.prefix = prefix
        self.body = body
        self.groups = groups  # (name, parameters) for the optimiser: "backbone" and/or "head"
        for p in prefix.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> SplitModel:
        """Train the body; the frozen prefix stays in eval mode (frozen BatchNorm must not update)."""
        super().train(mode)
        self.prefix.eval()
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Frozen prefix output, without autograd."""
        with torch.no_grad():
            return self.prefix(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, classes) logits."""
        return self.body(self.features(x))


def build_classifier(backbone: str, num_classes: int, *, seed: int) -> Classifier:
    """Backbone plus a new linear head, every random choice drawn from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    model = Classifier(create_backbone(backbone, generator=generator), num_classes)
    init_head(model.head, generator)
    return model


def apply_strategy(model: Classifier, strategy: str) -> SplitModel:
    """Freeze ``model`` according to ``strategy`` (see :data:`~augment_core.experiment.spec.STRATEGIES`).

    The model is deep-copied first, so one initial model can seed both arms.
    """
    if strategy not in STRATEGIES:
        raise AugLabError(f"Unknown strategy “{strategy}”.", field="strategy")
    model = copy.deepcopy(model)
    blocks = list(model.backbone.blocks)
    pool = nn.Sequential(model.backbone.pool, nn.Flatten(1))
    head = model.head
    if strategy == "head":
        prefix, body = nn.Sequential(*blocks, pool), nn.Sequential(head)
        groups = [("head", list(head.parameters()))]
    elif strategy == "last_block":
        prefix, body = nn.Sequential(*blocks[:-1]), nn.Sequential(blocks[-1], pool, head)
        groups = [("head", list(blocks[-1].parameters()) + list(head.parameters()))]
    else:
        prefix, body = nn.Sequential(), nn.Sequential(*blocks, pool, head)
        groups = [("backbone", [p for b in blocks for p in b.parameters()]), ("head", list(head.parameters()))]
    for p in body.parameters():
        p.requires_grad_(True)
    return SplitModel(prefix, body, groups)


@functools.cache
def warm_up_optimizer() -> None:
    """Once per process: what the first optimizer imports lazily (``torch._dynamo``, about 1.7 s on 2 cores).

    Called before a run's clock starts, so that one-time import is not timed as the first
    replicate's set-up (and charged to every later one in the time left).
    """
    torch.optim.AdamW([nn.Parameter(torch.zeros(1))])


def make_optimizer(model: SplitModel, spec: ExperimentSpec) -> torch.optim.Optimizer:
    """AdamW or SGD over the trainable groups; the backbone group gets ``lr x backbone_lr_factor``."""
    groups = [{"params": params, "lr": spec.lr * (spec.backbone_lr_factor if name == "backbone" else 1.0), "name": name}
              for name, params in model.groups]
    for g in groups:
        g["base_lr"] = g["lr"]
    if spec.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=spec.lr, momentum=0.9, nesterov=True, weight_decay=spec.weight_decay)
    return torch.optim.AdamW(groups, lr=spec.lr, weight_decay=spec.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, *, step: int, total: int, schedule: str) -> float:
    """Set every group's learning rate for ``step`` of ``total``; return the head's."""
    factor = 0.5 * (1 + math.cos(math.pi * step / max(total, 1))) if schedule == "cosine" else 1.0
    for g in optimizer.param_groups:
        g["lr"] = g["base_lr"] * factor
    return float(optimizer.param_groups[-1]["lr"])


BatchCallback = Callable[[int, int, float], None]  # (batch index, batches, loss)


def train_one_epoch(model: SplitModel, batches: Iterable[Batch], optimizer: torch.optim.Optimizer, *,
                    step: int, total_steps: int, schedule: str, on_batch: BatchCallback | None = None,
                    cancel: threading.Event | None = None, num_batches: int = 0) -> dict[str, float]:
    """One pass over ``batches``; returns ``{"train_loss", "train_acc", "lr", "steps"}``.

    Training accuracy compares predictions with the true class of each (augmented) image, or
    with the larger share of a MixUp/CutMix soft label.

    Raises:
        Cancelled: When ``cancel`` is set (checked before every step).
        AugLabError: When the loss stops being finite.
    """
    model.train()
    loss_sum, correct, seen, lr = 0.0, 0, 0, 0.0
    for i, batch in enumerate(batches):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        lr = set_lr(optimizer, step=step, total=total_steps, schedule=schedule)
        logits = model.body(batch.images) if batch.prefixed else model(batch.images)
        if batch.targets is None:
            loss = F.cross_entropy(logits, batch.labels)
            truth = batch.labels
        else:
            loss = torch.sum(-batch.targets * F.log_softmax(logits, dim=1), dim=1).mean()
            truth = batch.targets.argmax(1)
        if not torch.isfinite(loss):
            raise AugLabError(f"The training loss became {loss.item()} at step {step + 1}.",
                              hint="Lower the learning rate.", field="lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        n = len(batch.labels)
        loss_sum += loss.item() * n
        correct += int((logits.detach().argmax(1) == truth).sum())
        seen += n
        if on_batch is not None:
            on_batch(i, num_batches, float(loss.item()))
    return {"train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1), "lr": lr, "steps": float(step)}


def evaluation_batch(features: torch.Tensor, *, largest: int = 512) -> int:
    """Images per evaluation batch: at most ``largest``, and at most ``AUGLAB_EVAL_BATCH_VALUES`` feature values.

    The trainable body's activations grow with the features' size: 512 images at 192 px made the
    evaluation the run's memory peak (+650 MB over training). Bounded by values, small images
    keep their 512-image batches and large ones get fewer.
    """
    per_image = max(1, features[0].numel()) if len(features) else 1
    return max(1, min(largest, get_int("AUGLAB_EVAL_BATCH_VALUES") // per_image))


@torch.no_grad()
def evaluate(model: SplitModel, features: torch.Tensor, labels: torch.Tensor, *, batch_size: int | None = None) -> dict[str, object]:
    """Validation loss, accuracy and predictions from cached prefix ``features``.

    Batches follow :func:`evaluation_batch` unless ``batch_size`` is given.

    Returns:
        ``{"val_loss": float, "val_acc": float, "predictions": (N,) int64 numpy}``.
    """
    if batch_size is None:
        batch_size = evaluation_batch(features)
    model.eval()
    logits = torch.cat([model.body(features[i:i + batch_size]) for i in range(0, len(features), batch_size)])
    loss = F.cross_entropy(logits, labels).item()
    preds = logits.argmax(1)
    return {"val_loss": float(loss), "val_acc": float((preds == labels).float().mean()), "predictions": preds.cpu().numpy().astype(np.int64)}


def cache_plain_features(source: PlainBatches, model: SplitModel, *, max_bytes: int) -> PlainBatches:
    """The plain arm's batches as frozen-prefix features, computed once per replicate.

    Exact while the prefix stays frozen (eval mode, no autograd), so every epoch of the plain
    arm only runs the trainable body: Teachable Machine's trick. Returns ``source`` unchanged
    when there is no frozen prefix (strategy "all") or the features would take more than
    ``max_bytes``.
    """
    if source.prefixed or len(model.prefix) == 0:
        return source
    with torch.no_grad():
        model.prefix.eval()
        one = model.prefix(source.x[:1])  # (1, ...) to size the cache before filling it
    if one.numel() * one.element_size() * len(source.x) > max_bytes:
        return source
    return PlainBatches.from_features(prefix_features(model, source.x), source.y)


@torch.no_grad()
def prefix_features(model: SplitModel, images: torch.Tensor, *, batch_size: int | None = None) -> torch.Tensor:
    """Run the frozen prefix over ``images`` (N, 3, H, W) once; exact to reuse while it stays frozen.

    Batches hold at most ``AUGLAB_FEATURE_BATCH_PIXELS`` pixels (256 images at 64×64, 4 at 512×512)
    unless ``batch_size`` is given, so activation memory stays bounded whatever the image size.
    """
    if batch_size is None:
        batch_size = max(1, get_int("AUGLAB_FEATURE_BATCH_PIXELS") // max(1, images.shape[-2] * images.shape[-1]))
    model.eval()
    with torch.no_grad():  # features of a frozen prefix: no graph to keep
        return torch.cat([model.prefix(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
