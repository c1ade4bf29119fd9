"""The experiment engine: fine-tune with and without augmentation, everything else identical.

Public API (what pages and the CLI call)::

    from augment_core.experiment import (
        ExperimentSpec, create_preset, list_presets, run_experiment, RunStore,
        list_datasets, create_dataset, list_backbones, get_backbone_info, load_zip, load_mapping)

    spec = create_preset("demo")
    result = run_experiment(spec, on_epoch=..., on_batch=..., cancel=threading.Event(), store=RunStore())
    result.status, result.comparison["sentence"], result.analysis["curves"]["val_acc"]

Modules: ``spec`` (the run description), ``datasets``/``synthetic``/``userdata`` (data),
``models``/``backbones`` (networks), ``augmentation``/``loader`` (batches), ``training``
(strategies, ``train_one_epoch``, ``evaluate``), ``stats``, ``results``, ``store``, ``runner``,
``presets`` and ``cli``.
"""

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
from augment_core.experiment.backbones import create_backbone, get_backbone_info, list_backbones
from augment_core.experiment.datasets import ImageDataset, create_dataset, get_dataset_info, list_datasets
from augment_core.experiment.presets import DEMO_PIPELINE, create_preset, get_preset_info, list_presets
from augment_core.experiment.results import BatchProgress, EpochRecord, ExperimentResult, FinalEvaluation
from augment_core.experiment.runner import load_dataset, run_experiment
from augment_core.experiment.spec import STRATEGIES, ExperimentSpec
from augment_core.experiment.stats import Comparison, paired_comparison
from augment_core.experiment.store import RunStore
from augment_core.experiment.userdata import ValidationReport, load_mapping, load_zip

__all__ = [
    "DEMO_PIPELINE", "STRATEGIES", "BatchProgress", "Comparison", "EpochRecord", "ExperimentResult", "ExperimentSpec",
    "FinalEvaluation", "ImageDataset", "RunStore", "ValidationReport", "create_backbone", "create_dataset",
    "create_preset", "get_backbone_info", "get_dataset_info", "get_preset_info", "list_backbones", "list_datasets",
    "list_presets", "load_dataset", "load_mapping", "load_zip", "paired_comparison", "run_experiment",
]
