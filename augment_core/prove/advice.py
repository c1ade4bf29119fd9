"""Advice from the data and from the verdict: settings proposed for an upload, and what to try next.

* :func:`propose_settings` looks at an upload (image sizes, colour, images per class, its own
  validation split) and proposes an image size, backbone, strategy, epochs and augmentation
  preset, each with a one-line reason. Photos get a photo backbone and the photo pipeline
  (no ChannelShuffle, no half-turns); small or grey images keep the embedded CNN.
* :func:`next_steps` turns a "cannot tell" verdict into suggestions, each a link into the
  experiment form (query parameters from :mod:`augment_core.prove.links`) where it can be one.
* :func:`run_name` names a run by data set, backbone and pipeline, so runs can be told apart.

Example:
    >>> proposal = propose_settings(prepared.dataset, prepared.report)
    >>> proposal.values["backbone"], proposal.reasons["backbone"]
    ('mobilenetv3-imagenet', 'The images look like photos: ...')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augment_core.experiment import (DEMO_PIPELINE, PHOTO_PIPELINE, ExperimentResult, ExperimentSpec, ImageDataset, ValidationReport,
                                     get_backbone_info)

PHOTO_BACKBONE = "mobilenetv3-imagenet"
PHOTO_SIZE = 112  # px: photo backbones see enough detail; a few hundred images stay within minutes on 2 cores
PHOTO_PIPELINE_NAME = "Photo pipeline (small shifts and tilts, flips, mild light changes)"
DEMO_PIPELINE_NAME = "Demo pipeline (shapes: shift, rotate, scale, flip, colour)"
PIPELINES: dict[str, dict[str, Any]] = {DEMO_PIPELINE_NAME: DEMO_PIPELINE, PHOTO_PIPELINE_NAME: PHOTO_PIPELINE}


@dataclass(frozen=True)
class Proposal:
    """Settings proposed for an upload, with why."""

    looks_like_photos: bool  # colour images of at least 64 px on the shorter side (median)
    values: dict[str, Any]  # ExperimentSpec fields: image_size, backbone, strategy, epochs, epoch_repeats, ...
    pipeline_name: str  # key of PIPELINES for the augmented arm
    reasons: dict[str, str] = field(default_factory=dict)  # field (or "pipeline") -> one line


def looks_like_photos(report: ValidationReport | None) -> bool:
    """Colour images whose median shorter side is at least 64 px: what a phone or camera gives."""
    if report is None or not report.sizes:
        return False
    return report.colour and float(np.median([min(w, h) for w, h in report.sizes])) >= 64


def propose_settings(dataset: ImageDataset, report: ValidationReport | None) -> Proposal:
    """Settings that suit the uploaded images, each with a one-line reason."""
    counts = list(dataset.counts().values())
    smallest = min(counts) if counts else 0
    train_images = len(dataset.labels) if dataset.fixed_val is None else int((~dataset.fixed_val).sum())
    photos = looks_like_photos(report)
    values: dict[str, Any] = {"seeds": 3, "batch_size": 16, "lr": 3e-3, "val_fraction": 0.3}
    reasons: dict[str, str] = {}
    if photos:
        median = int(np.median([min(w, h) for w, h in report.sizes]))  # type: ignore[union-attr]
        size = PHOTO_SIZE if median >= PHOTO_SIZE else max(64, median // 16 * 16)
        values["image_size"] = size
        reasons["image_size"] = (f"Photos (median shorter side {median} px): {size} px keeps enough detail for an ImageNet "
                                 "backbone and stays within minutes on a CPU.")
        values["backbone"] = PHOTO_BACKBONE
        reasons["backbone"] = ("The images look like photos: a backbone pre-trained on 1.28 M ImageNet photos starts far "
                               "ahead of the embedded one (pre-trained on synthetic curves at 32 px); MobileNetV3 is the fastest.")
        few = smallest < 50
        values["strategy"] = "head" if few else "last_block"
        reasons["strategy"] = (f"Only {smallest} images in the smallest class: train just the head, so {sum(counts)} images "
                               "cannot overfit the backbone (and its features are computed once, which is fast)." if few else
                               f"{smallest}+ images per class: the last block can adapt to these photos too.")
        values["epochs"] = 30 if few else 15
        reasons["epochs"] = ("A linear head on cached features is cheap: 30 epochs cost little." if few else
                             "15 epochs: the pre-trained layers start close to a good solution.")
        pipeline = PHOTO_PIPELINE_NAME
        reasons["pipeline"] = ("Photos vary by framing, a small tilt, left-right and light; no ChannelShuffle or half-turns, "
                               "which would change what the photos show.")
    else:
        values.update(image_size=64, backbone="smallcnn-synthetic", strategy="last_block", epochs=15)
        reasons["image_size"] = "Small or grey images: 64 px keeps everything they hold."
        reasons["backbone"] = ("Not photo-like: the embedded CNN (pre-trained on synthetic curves) needs no download; "
                               "try an ImageNet backbone if these are photographs after all.")
        reasons["strategy"] = "The last block and the head adapt to the new images; earlier layers stay as pre-trained."
        reasons["epochs"] = "15 epochs: enough for a small set to converge on a CPU."
        pipeline = DEMO_PIPELINE_NAME
        reasons["pipeline"] = "Shapes-like images: shifts, any rotation, scale, flips and colour changes."
    values["epoch_repeats"] = max(1, min(8, math.ceil(4 * values["batch_size"] / max(2, int(train_images * 0.7)))))
    return Proposal(photos, values, pipeline, reasons)


@dataclass(frozen=True)
class NextStep:
    """One thing to try after an inconclusive run."""

    label: str  # short, for a link or a bullet
    reason: str  # one line
    query_params: dict[str, str]  # experiment-link fields that fill the form; empty when the form cannot do it


def training_images_per_class(result: ExperimentResult) -> int:
    """The fewest training images any class had in the run (0 when unknown).

    Runs record their training counts; older stored runs only have their validation counts, from
    which the split's fraction gives an estimate.
    """
    counts = result.analysis.get("train_counts") if result.analysis else None
    if counts:
        return int(min(counts))
    validation = [sum(row) for row in result.finals[0].confusion] if result.finals else []
    return int(min(validation) / max(1e-9, 1 - result.spec.val_fraction)) if validation else 0


def next_steps(comparison: Mapping[str, Any] | None, spec: ExperimentSpec, *, images_per_class: int = 0) -> list[NextStep]:
    """What to change when the verdict is "cannot tell" (both arms at chance); empty otherwise."""
    if not comparison or comparison.get("verdict") != "cannot tell":
        return []
    steps: list[NextStep] = []
    if not get_backbone_info(spec.backbone).photo:
        steps.append(NextStep("Use a backbone pre-trained on photos (MobileNetV3-Small, ImageNet)",
                              f"{get_backbone_info(spec.backbone).title.split(',')[0]} has never seen a photograph.",
                              {"backbone": PHOTO_BACKBONE, "image_size": str(max(spec.image_size, PHOTO_SIZE))}))
    if spec.image_size < PHOTO_SIZE:
        steps.append(NextStep(f"Use {PHOTO_SIZE}-pixel images", f"At {spec.image_size} px the details that tell the classes "
                              "apart may be gone.", {"image_size": str(PHOTO_SIZE)}))
    if spec.epochs < 60:
        more = min(500, max(spec.epochs * 2, 20))
        steps.append(NextStep(f"Train for {more} epochs", f"{spec.epochs} epochs may stop before the models learn.",
                              {"epochs": str(more)}))
    steps.append(NextStep("Add more images per class", (f"{images_per_class} images per class is few; " if images_per_class else "")
                          + "a few hundred per class make both the models and the verdict better.", {}))
    return steps


def run_name(dataset_label: str, spec_fields: Mapping[str, Any], pipeline_name: str | None) -> str:
    """``"insects.zip · MobileNetV3-Small · photo pipeline · 15 ep × 3 seeds"``: names that tell runs apart."""
    backbone = get_backbone_info(str(spec_fields.get("backbone", "smallcnn-synthetic"))).title.split(",")[0]
    pipeline = (pipeline_name or "no augmentation").split(" (")[0]
    return f"{dataset_label} · {backbone} · {pipeline} · {spec_fields.get('epochs')} ep × {spec_fields.get('seeds')} seeds"
