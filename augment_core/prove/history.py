"""The run history as the pages show it: table rows, overlays, images of a stored run, re-runs.

Reads the engine's :class:`~augment_core.experiment.RunStore`; writes nothing but deletions.
A run still marked "running" that no live job is writing (the app was stopped mid-run) is shown
as "interrupted": its finished epochs are there, the rest never happened.

Example:
    >>> rows = run_rows(RunStore(), active_run_ids=default_manager().active_run_ids())
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentResult, ExperimentSpec, ImageDataset, RunStore, get_backbone_info
from augment_core.experiment.datasets import DATASETS
from augment_core.experiment.runner import load_dataset
from augment_core.prove.setup import pipeline_summary

STATUS_ICONS = {"queued": "🕒", "completed": "✅", "running": "⏳", "cancelled": "⏹️", "failed": "❌", "interrupted": "⚠️"}


@dataclass(frozen=True)
class RunRow:
    """One line of the runs table."""

    run_id: int  # store id
    name: str  # the spec's name
    status: str  # queued, running, completed, cancelled, failed or interrupted
    started_at: str  # ISO-8601 UTC
    dataset: str  # built-in name or the upload's file name
    backbone: str  # registry title
    pipeline: str  # pipeline_summary of the spec
    verdict: str  # the engine's sentence (empty when no replicate finished)
    epochs_done: int  # epoch records stored, both arms, every replicate
    epochs_planned: int  # 2 x epochs x replicates
    seconds: float  # wall time
    message: str  # why it stopped, if it did not complete

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a table."""
        return dict(self.__dict__)


def dataset_label(spec: ExperimentSpec) -> str:
    """A built-in's name, or "upload (…zip)" for saved uploads."""
    if spec.dataset in DATASETS:
        return spec.dataset
    return f"upload ({spec.dataset.rsplit('/', 1)[-1][:12]}…)"


def effective_status(status: str, run_id: int, active_run_ids: Iterable[int]) -> str:
    """"interrupted" for a run marked running that no live job is writing; the stored status otherwise."""
    return "interrupted" if status == "running" and run_id not in set(active_run_ids) else status


def row_for(result: ExperimentResult, active_run_ids: Iterable[int] = ()) -> RunRow:
    """The table row of one loaded run."""
    spec = result.spec
    try:
        backbone = get_backbone_info(spec.backbone).title
    except AugLabError:
        backbone = spec.backbone
    comparison = result.comparison or {}
    return RunRow(int(result.run_id or 0), spec.name, effective_status(result.status, int(result.run_id or 0), active_run_ids),
                  result.started_at, dataset_label(spec), backbone, pipeline_summary(spec),
                  str(comparison.get("sentence", "")) if result.finals else "", len(result.epochs),
                  2 * spec.epochs * spec.replicates, result.seconds, result.message)


def run_rows(store: RunStore, *, active_run_ids: Iterable[int] = ()) -> list[RunRow]:
    """Every stored run, newest first."""
    active = set(active_run_ids)
    return [row_for(store.load_run(int(r["id"])), active) for r in store.list_runs()]


def overlay_runs(store: RunStore, run_ids: Iterable[int]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(label, epoch records) of each run, for :func:`augment_core.prove.report_figures.overlay_figure`."""
    out = []
    for run_id in run_ids:
        result = store.load_run(int(run_id))
        out.append((f"#{run_id} {result.spec.name}", [e.to_dict() for e in result.epochs]))
    return out


def run_dataset(result: ExperimentResult) -> ImageDataset:
    """The exact images a stored run used (rebuilt from its spec and checked by fingerprint).

    Raises:
        AugLabError: the data are gone (a deleted upload) or no longer match the run.
    """
    try:
        dataset = load_dataset(result.spec)
    except AugLabError as exc:
        raise AugLabError("The images of this run are no longer available.", hint=exc.message, field="dataset") from exc
    if result.dataset_fingerprint and dataset.fingerprint != result.dataset_fingerprint:
        raise AugLabError("The data this run used have changed since, so its images cannot be shown.",
                          hint="The curves and numbers are still the run's own.", field="dataset")
    return dataset


@dataclass(frozen=True)
class Misclassified:
    """Validation images one arm got wrong, for one replicate."""

    images: list[np.ndarray]  # (S, S, 3) uint8
    captions: list[str]  # "true circle → predicted star"
    total: int  # how many were wrong (images may be capped)


def misclassified(result: ExperimentResult, dataset: ImageDataset, *, arm: str, replicate: int = 0,
                  limit: int = 40) -> Misclassified:
    """The validation images ``arm`` misclassified at the final epoch of ``replicate``."""
    final = next((f for f in result.finals if f.arm == arm and f.replicate == replicate), None)
    if final is None:
        return Misclassified([], [], 0)
    names = result.class_names
    items = final.misclassified[:limit]
    return Misclassified([dataset.images[m["index"]] for m in items],
                         [f"true {names[m['true']]} → predicted {names[m['predicted']]}" for m in items],
                         len(final.misclassified))


def rerun_spec(result: ExperimentResult) -> ExperimentSpec:
    """The spec to run again: identical, so the numbers can be reproduced."""
    return result.spec
