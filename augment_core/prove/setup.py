"""Preparing an experiment for the page: data sources, defaults, pipelines, a batch preview, a time estimate.

Pure functions over the engine (:mod:`augment_core.experiment`); no streamlit. Uploaded data
is saved as a zip of class folders under ``<AUGLAB_DATA_DIR>/uploads/`` (named by its hash), and
the spec names that file, so a stored run can be opened, shown and re-run after a restart.

Example:
    >>> prepared = prepare_builtin("shapes", image_size=32, options={"per_class": 60, "seed": 1234})
    >>> batch = show_batch(replace(default_spec("shapes"), pipeline=DEMO_PIPELINE), prepared.dataset)
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import time
import zipfile
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from augment_core.errors import AugLabError
from augment_core.pipelines import step_names
from augment_core.experiment import (DEMO_PIPELINE, ExperimentSpec, ImageDataset, ValidationReport, create_dataset,
                                     create_spec_preset, get_dataset_info, load_zip, run_experiment)
from augment_core.experiment.augmentation import create_train_transform
from augment_core.experiment.loader import AugmentedBatches, Normaliser, batch_plan
from augment_core.experiment.progress import machine_load
from augment_core.experiment.runner import replicate_splits, transform_seed
from augment_core.experiment.userdata import DEFAULT_SQUARE, validation_advice
from augment_core.prove.advice import PIPELINES
from augment_core.settings import data_dir

# Built-in data set -> experiment preset whose training settings are its defaults.
_DEFAULT_PRESET = {"shapes": "demo", "digits": "wrong-augmentation"}
# Engine pipeline offered beside the pipeline-editor presets (it is the demo's own).
ENGINE_PIPELINES: dict[str, dict[str, Any]] = PIPELINES


@dataclass(frozen=True)
class PreparedData:
    """A data set ready to train on, and how a spec names it."""

    dataset: ImageDataset  # the images at the run's size
    report: ValidationReport | None  # the engine's report for uploads (None for built-ins)
    spec_dataset: str  # ExperimentSpec.dataset: a built-in name or the saved upload's path
    spec_options: dict[str, Any]  # ExperimentSpec.dataset_options


def default_spec(source: str, *, classes: int = 2, images: int = 0) -> ExperimentSpec:
    """Sensible starting settings: a built-in's preset (without its pipeline), or settings for small uploads.

    Uploads: 64-pixel images, 15 epochs, 3 seeds, a third held out, and enough passes per epoch
    for about four steps, so a tiny set still gets a useful number of updates.
    """
    if source in _DEFAULT_PRESET:
        return replace(create_spec_preset(_DEFAULT_PRESET[source]), name=f"{source} experiment", pipeline=None)
    train = max(2, int(images * (1 - 0.3)))
    repeats = max(1, min(8, math.ceil(4 * 16 / train)))
    return ExperimentSpec(name=f"{source} experiment", dataset=source, image_size=64, batch_size=16, epochs=15,
                          epoch_repeats=repeats, seeds=3, val_fraction=0.3, lr=3e-3, strategy="last_block")


def prepare_builtin(name: str, *, image_size: int, options: dict[str, Any] | None = None) -> PreparedData:
    """Build built-in data set ``name`` (raises :class:`AugLabError` for unknown names or options)."""
    options = dict(options or {})
    return PreparedData(create_dataset(name, image_size=image_size, **options), None, name, options)


def _save_upload(data: bytes) -> str:
    """Keep a copy of an upload in the data folder; a full disk or an I/O error is a message.

    The copy is written to a temporary name and renamed, so a half-written file is never taken
    for a finished upload on the next attempt.
    """
    folder = data_dir() / "uploads"
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.zip"
    partial = path.with_suffix(".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            partial.write_bytes(data)
            partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise AugLabError(f"The upload could not be saved in {folder}: "
                          + ("the disk is full." if full else f"{exc.strerror or exc}."),
                          hint="Free some disk space (or point AUGLAB_DATA_DIR elsewhere) and upload again." if full
                          else "Check that AUGLAB_DATA_DIR is a folder this app can write to.", field="dataset") from exc
    return str(path)


def prepare_zip(data: bytes, *, image_size: int, name: str = "upload", square: str = DEFAULT_SQUARE) -> PreparedData:
    """Load a zip of class folders through the engine (which refuses unsafe or unusable zips) and keep a copy."""
    dataset, report = load_zip(data, image_size=image_size, name=name, square=square)
    return PreparedData(dataset, report, _save_upload(data), {})


def mapping_to_zip(files_by_class: dict[str, list[tuple[str, bytes]]]) -> bytes:
    """Pack ``{class: [(file name, bytes), ...]}`` as a zip of class folders (names made unique and safe)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for cls, files in files_by_class.items():
            folder = cls.strip().replace("/", "_").replace("\\", "_").lstrip(".") or "class"
            used: set[str] = set()
            for i, (file_name, content) in enumerate(files):
                base = file_name.replace("/", "_").replace("\\", "_").lstrip(".") or f"image{i}"
                unique = base if base not in used else f"{i}_{base}"
                used.add(unique)
                archive.writestr(f"{folder}/{unique}", content)
    return buffer.getvalue()


def prepare_classes(files_by_class: dict[str, list[tuple[str, bytes]]], *, image_size: int,
                    name: str = "my classes", square: str = DEFAULT_SQUARE) -> PreparedData:
    """Teachable-Machine-style uploads (class name -> files): validated by the engine, kept as a zip."""
    named = {c.strip(): f for c, f in files_by_class.items() if c.strip()}
    if len(named) != len([c for c in files_by_class if c.strip()]) or any(not c.strip() for c in files_by_class):
        raise AugLabError("Every class needs a name, and two classes cannot share one.", hint="Name each class.",
                          field="dataset")
    return prepare_zip(mapping_to_zip(named), image_size=image_size, name=name, square=square)


def validation_warning(spec: ExperimentSpec, dataset: ImageDataset) -> str | None:
    """Before training: a warning when each seed's validation set is too small for any verdict (see ``validation_advice``)."""
    try:
        _, _, val = replicate_splits(spec, dataset.labels, dataset.fixed_val)[0]
    except AugLabError:
        return None  # the split itself is refused elsewhere, with its own message
    return validation_advice(len(val), len(dataset.class_names))


pipeline_steps = step_names  # kept under the name the pages and the Runs list know


def pipeline_summary(spec: ExperimentSpec) -> str:
    """One line for run lists: the augmented arm's steps and mixing, or "no augmentation"."""
    parts = pipeline_steps(spec.pipeline)
    if spec.mixup_alpha > 0:
        parts.append(f"MixUp α={spec.mixup_alpha:g}")
    if spec.cutmix_alpha > 0:
        parts.append(f"CutMix α={spec.cutmix_alpha:g}")
    return ", ".join(parts) if parts else "no augmentation (both arms identical)"


def training_data_line(spec: ExperimentSpec, dataset: ImageDataset) -> str:
    """What a run of ``spec`` trains and validates on, per class, as the engine will split it.

    Counts come from the first replicate's split (every replicate has the same sizes), so the
    line follows the validation share and "training images per class", not the size of the data
    set: ``"5 training images per class (of 140 available), 60 validation images per class, 6 classes"``.
    """
    _, train_idx, val_idx = replicate_splits(spec, dataset.labels, dataset.fixed_val)[0]
    classes = len(dataset.class_names)
    train = np.bincount(dataset.labels[train_idx], minlength=classes)
    val = np.bincount(dataset.labels[val_idx], minlength=classes)

    def per_class(counts: np.ndarray) -> str:
        return f"{int(counts.min())}" if counts.min() == counts.max() else f"{int(counts.min())}–{int(counts.max())}"

    available = np.bincount(dataset.labels, minlength=classes) - val
    kept = "" if spec.train_per_class is None else f" (of {per_class(available)} available)"
    folds = f", {spec.folds}-fold cross-validation" if spec.folds >= 2 else ""
    return (f"{per_class(train)} training images per class{kept}, {per_class(val)} validation images per class, "
            f"{classes} classes{folds}")


def check_pipeline(spec: ExperimentSpec, dataset: ImageDataset) -> None:
    """Fail early, before training, if the pipeline cannot be built or changes the image size."""
    transform = create_train_transform(spec.pipeline, seed=spec.seed, image_size=spec.image_size)
    if transform is not None:
        transform(dataset.images[0])


def class_samples(dataset: ImageDataset, per_class: int = 6, *, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Up to ``per_class`` images of each class, chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    out = {}
    for label, cls in enumerate(dataset.class_names):
        idx = np.flatnonzero(dataset.labels == label)
        out[cls] = [dataset.images[i] for i in np.sort(rng.permutation(idx)[:per_class])]
    return out


@dataclass(frozen=True)
class BatchPreview:
    """The first training batch of seed 1 as the augmented arm's model receives it."""

    originals: list[np.ndarray]  # (S, S, 3) uint8 as stored
    augmented: list[np.ndarray]  # (S, S, 3) uint8 after the pipeline (and mixing), before normalisation
    captions: list[str]  # label of each augmented image (mixed labels as weights)


def show_batch(spec: ExperimentSpec, dataset: ImageDataset, *, limit: int = 16) -> BatchPreview:
    """fastai's ``show_batch``: replicate 1's first batch through the engine's own batch builder.

    Uses the same split, batch order, transform seed and MixUp/CutMix stream as training, with
    an identity normalisation so the images can be shown.
    """
    seed, train_idx, _ = replicate_splits(spec, dataset.labels, dataset.fixed_val)[0]
    images, labels = dataset.images[train_idx], dataset.labels[train_idx]
    plan = batch_plan(len(train_idx), batch_size=spec.batch_size, seed=seed, epoch=0, repeats=spec.epoch_repeats)
    positions = plan[0][:limit]
    # The engine's own seed function, so this is the batch training starts with.
    factory = partial(create_train_transform, spec.pipeline, seed=transform_seed(seed), image_size=spec.image_size)
    source = AugmentedBatches(images, labels, Normaliser((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), factory,
                              num_classes=len(dataset.class_names), seed=seed, mixup_alpha=spec.mixup_alpha,
                              cutmix_alpha=spec.cutmix_alpha)
    batch = source.make(positions)
    pixels = (batch.images.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)  # (B, S, S, 3)
    names = dataset.class_names
    captions = []
    for i in range(len(positions)):
        if batch.targets is None:
            captions.append(names[int(batch.labels[i])])
        else:
            weights = batch.targets[i].numpy()
            top = [j for j in np.argsort(-weights) if weights[j] > 0.005][:2]
            captions.append(" + ".join(f"{weights[j]:.2f} {names[j]}" for j in top))
    return BatchPreview([images[p] for p in positions], list(pixels), captions)


@dataclass(frozen=True)
class TimeEstimate:
    """How long a spec should take on this machine, from a short measured probe."""

    seconds: float  # estimated wall time of the whole run
    steps: int  # training steps the whole run takes (both arms, every replicate)
    step_seconds: float  # measured mean seconds per step (both arms averaged)
    probe_seconds: float  # what the measurement itself took
    plain_step_seconds: float = 0.0  # measured seconds per step without augmentation
    augmented_step_seconds: float = 0.0  # with augmentation: the pipeline's extra cost is in here
    eval_seconds: float = 0.0  # one evaluation of the validation set (done after every epoch of each arm)
    setup_seconds: float = 0.0  # data, models and first-batch preparation, once per replicate
    load: float = 0.0  # 1-minute load average per CPU core when measured (above 1: other work shares the CPU)

    @property
    def busy(self) -> bool:
        """True when other work was using the CPU as the probe ran (the estimate then moves with it)."""
        return self.load > 1.0


def estimate_time(spec: ExperimentSpec, dataset: ImageDataset) -> TimeEstimate:
    """Run one short replicate (two epochs, a few steps per arm) and scale it up to the full spec.

    Measured on this machine now, with the engine's own callbacks: seconds per training step of
    each arm (so the augmented arm's extra cost counts), the evaluation after every epoch, and the
    set-up of a replicate. The probe trains a handful of images per class, so it costs a few
    seconds whatever the data set's size; per-step cost does not depend on how many images there
    are, and evaluation uses the full validation set, as the run will.
    """
    _, train_idx, _ = replicate_splits(spec, dataset.labels, dataset.fixed_val)[0]
    classes = len(dataset.class_names)
    steps_per_epoch = len(batch_plan(len(train_idx), batch_size=spec.batch_size, seed=0, epoch=0, repeats=spec.epoch_repeats))
    probe_per_class = max(1, math.ceil(2 * spec.batch_size / classes))
    if spec.train_per_class is not None:
        probe_per_class = min(probe_per_class, spec.train_per_class)
    probe = replace(spec, epochs=2, seeds=1, folds=0, epoch_repeats=1, train_per_class=probe_per_class)
    stamps: list[tuple[str, float]] = []  # ("batch" | "epoch", time) in the order the engine reports them
    load = machine_load()
    tic = time.perf_counter()
    result = run_experiment(probe, dataset=dataset, on_batch=lambda _: stamps.append(("batch", time.perf_counter())),
                            on_epoch=lambda _: stamps.append(("epoch", time.perf_counter())))
    probe_seconds = time.perf_counter() - tic
    if result.status != "completed":
        raise AugLabError(f"The timing probe did not finish: {result.message}", field="estimate")
    probe_train = len(replicate_splits(probe, dataset.labels, dataset.fixed_val)[0][1])
    probe_steps = len(batch_plan(probe_train, batch_size=spec.batch_size, seed=0, epoch=0))
    # Evaluation: from an arm's last training step to its epoch record. Epoch 1 warms caches; use the rest when there are.
    evals = [t - stamps[i - 1][1] for i, (kind, t) in enumerate(stamps) if kind == "epoch" and i > 0]
    eval_seconds = float(np.median(evals[2:] or evals)) if evals else 0.0
    per_arm = {arm: [e.seconds for e in result.epochs if e.arm == arm] for arm in ("plain", "augmented")}
    step = {arm: (min(times[1:]) if len(times) > 1 else times[0]) / max(1, probe_steps) if times else 0.0
            for arm, times in per_arm.items()}
    first_batch = next((t for kind, t in stamps if kind == "batch"), tic)
    setup_seconds = max(0.0, first_batch - tic - step["plain"])
    total_steps = 2 * steps_per_epoch * spec.epochs * spec.replicates
    seconds = spec.replicates * (setup_seconds + spec.epochs * (steps_per_epoch * (step["plain"] + step["augmented"]) + 2 * eval_seconds))
    return TimeEstimate(seconds, total_steps, (step["plain"] + step["augmented"]) / 2, probe_seconds,
                        step["plain"], step["augmented"], eval_seconds, setup_seconds, load)


def describe_builtin(name: str) -> str:
    """The registry's one-line provenance of a built-in data set."""
    return get_dataset_info(name).description


def enlarge(image: np.ndarray, side: int = 96) -> np.ndarray:
    """Upscale a small (S, S, 3) image to about ``side`` pixels with nearest neighbour, so pixels stay crisp."""
    factor = max(1, side // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
