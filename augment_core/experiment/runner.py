"""Run an experiment: both arms, every replicate, with callbacks, cancellation and storage.

Job-friendly: call :func:`run_experiment` from a worker thread, poll the callbacks' payloads
(plain dataclasses) and set a ``threading.Event`` to stop. It never raises for problems that
happen during training: the result's ``status`` says "failed" with a message and keeps every
finished epoch. Problems with the spec itself (unknown data set, bad zip) raise
:class:`~augment_core.errors.AugLabError` before anything starts.
"""

from __future__ import annotations

import errno
import os
import platform
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from augment_core.errors import AugLabError
from augment_core.experiment.augmentation import create_train_transform
from augment_core.experiment.backbones import get_backbone_info
from augment_core.experiment.device import device_versions, select_device
from augment_core.experiment.datasets import DATASETS, ImageDataset, check_data_budget, create_dataset, kfold_indices, split_indices
from augment_core.experiment.loader import AugmentedBatches, Normaliser, PlainBatches, batch_plan, start_augmentation_server
from augment_core.experiment.progress import StepCounter
from augment_core.experiment.results import BatchProgress, EpochRecord, ExperimentResult, FinalEvaluation
from augment_core.experiment.export import save_trained
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.stats import analyse
from augment_core.experiment.training import (Cancelled, SplitModel, apply_strategy, build_classifier, cache_plain_features, evaluate,
                                              make_optimizer, prefix_features, train_one_epoch,
                                              warm_up_optimizer)
from augment_core.experiment.userdata import load_mapping, load_zip
from augment_core.settings import get_int
from augment_core.transforms.images import IMAGE_TYPES

if TYPE_CHECKING:
    from augment_core.experiment.store import RunStore

EpochCallback = Callable[[EpochRecord], None]
BatchProgressCallback = Callable[[BatchProgress], None]


def configure_threads() -> int:
    """Set torch's intra-op threads from ``AUGLAB_TORCH_THREADS`` (0 = every core); return the count."""
    wanted = get_int("AUGLAB_TORCH_THREADS") or os.cpu_count() or 1
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def library_versions() -> dict[str, str]:
    """Versions that affect the numbers, stored with every run."""
    import albumentations
    import sklearn

    return {"python": platform.python_version(), "torch": torch.__version__, "albumentations": albumentations.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__, "threads": str(torch.get_num_threads())}


def read_class_folders(path: Path) -> dict[str, list[tuple[str, bytes]]]:
    """``{class: [(file, bytes), ...]}`` from a folder of class folders, checked before any file is read.

    A folder that is not a data set (``/etc``: no two sub-folders holding images) is refused by
    looking at names and sizes only; file count and total size have the zip upload's limits.

    Raises:
        AugLabError: naming the folder and what is missing or too big.
    """
    suffixes = {f".{t}" for t in IMAGE_TYPES}
    try:
        listing = {d.name: [f for f in sorted(d.iterdir()) if f.suffix.lower() in suffixes and f.is_file() and not f.is_symlink()]
                   for d in sorted(path.iterdir()) if d.is_dir() and not d.is_symlink() and not d.name.startswith(".")}
    except OSError as exc:
        raise AugLabError(f"The folder “{path}” cannot be read ({exc.strerror or exc}).", field="dataset") from exc
    listing = {name: files for name, files in listing.items() if files}
    if len(listing) < 2:
        raise AugLabError(f"“{path}” is not a data-set folder: it needs at least two sub-folders of images (one per class), "
                          f"and has {len(listing)}.", hint="Point at a folder such as pets/ holding cats/ and dogs/.", field="dataset")
    files = [f for fs in listing.values() for f in fs]
    max_files, max_bytes = get_int("AUGLAB_ZIP_MAX_FILES"), get_int("AUGLAB_ZIP_MAX_BYTES")
    total = sum(f.stat().st_size for f in files)
    if len(files) > max_files or total > max_bytes:
        raise AugLabError(f"“{path}” holds {len(files):,} images ({total / 1e6:.0f} MB), more than the limits of {max_files:,} files "
                          f"and {max_bytes / 1e6:.0f} MB (AUGLAB_ZIP_MAX_FILES, AUGLAB_ZIP_MAX_BYTES).", field="dataset")
    try:
        return {name: [(f"{name}/{f.name}", f.read_bytes()) for f in fs] for name, fs in listing.items()}
    except OSError as exc:
        raise AugLabError(f"A file in “{path}” cannot be read ({exc}).", field="dataset") from exc


def load_dataset(spec: ExperimentSpec) -> ImageDataset:
    """The data set ``spec`` names: a built-in, a ``.zip`` of class folders, or a folder of class folders."""
    if spec.dataset in DATASETS:
        return create_dataset(spec.dataset, image_size=spec.image_size, **spec.dataset_options)
    path = Path(spec.dataset).expanduser()
    if path.is_file() and path.suffix.lower() == ".zip":
        return load_zip(path.read_bytes(), image_size=spec.image_size, name=path.name, square=spec.square)[0]
    if path.is_dir():
        return load_mapping(read_class_folders(path), image_size=spec.image_size, name=path.name, square=spec.square)[0]
    raise AugLabError(f"“{spec.dataset}” is neither a built-in data set nor a zip file or folder.",
                      hint=f"Built-in data sets: {', '.join(DATASETS)}.", field="dataset")


def replicate_splits(spec: ExperimentSpec, labels: np.ndarray,
                     fixed_val: np.ndarray | None = None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(seed, train indices, validation indices) for every replicate.

    With ``fixed_val`` (an upload's own val/ folder) every replicate validates on those images;
    seeds then vary initialisation, batch order, augmentation and any few-shot subset.
    """
    if fixed_val is not None:
        val = np.flatnonzero(fixed_val).astype(np.int64)
        out = []
        for r in range(spec.replicates):
            train = np.flatnonzero(~np.asarray(fixed_val, dtype=bool))
            if spec.train_per_class is not None:
                rng = np.random.default_rng(spec.seed + r)
                train = np.sort(np.concatenate([rng.permutation(train[labels[train] == c])[:spec.train_per_class]
                                                for c in np.unique(labels[train])]))
            out.append((spec.seed + r, train.astype(np.int64), val))
        return out
    if spec.folds >= 2:
        out = []
        for r, (train, val) in enumerate(kfold_indices(labels, folds=spec.folds, seed=spec.seed)):
            if spec.train_per_class is not None:
                rng = np.random.default_rng(spec.seed + r)
                train = np.sort(np.concatenate([rng.permutation(train[labels[train] == c])[:spec.train_per_class]
                                                for c in np.unique(labels[train])]))
            out.append((spec.seed + r, train, val))
        return out
    return [(spec.seed + r, *split_indices(labels, val_fraction=spec.val_fraction, seed=spec.seed + r,
                                           train_per_class=spec.train_per_class)) for r in range(spec.seeds)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _final(arm: str, rep: int, seed: int, preds: np.ndarray, truth: np.ndarray, val_idx: np.ndarray, classes: int) -> FinalEvaluation:
    cm = confusion_matrix(truth, preds, labels=list(range(classes)))
    support = cm.sum(axis=1)
    per_class = [float(cm[i, i] / support[i]) if support[i] else float("nan") for i in range(classes)]
    wrong = np.flatnonzero(preds != truth)
    return FinalEvaluation(arm, rep, seed, float((preds == truth).mean()), cm.tolist(), per_class,
                           [{"index": int(val_idx[i]), "true": int(truth[i]), "predicted": int(preds[i])} for i in wrong],
                           [int(i) for i in val_idx])


def transform_seed(seed: int) -> int:
    """The augmentation pipeline's seed for the replicate trained with ``seed`` (the one formula; the page's
    batch preview uses it too, so it shows the batch training starts with)."""
    return (seed * 1_000_003 + 1) % 2**31


@dataclass(frozen=True)
class Replicate:
    """What one replicate (both arms of one seed or fold) needs besides the data; plain and picklable.

    A local loop and a Ray task run a replicate alike: :func:`run_replicate` with this and the data.
    """

    spec: ExperimentSpec  # the run's description (both arms use it alike)
    index: int  # 0-based replicate number
    seed: int  # initialisation, batch order and augmentation seed of this replicate
    train_idx: np.ndarray  # dataset indices trained on
    val_idx: np.ndarray  # dataset indices evaluated on
    of: int  # replicates in the whole run (for the progress fraction)
    keep_models_for: int | None = None  # the stored run whose first replicate keeps its trained models (to try, export)
    arms: tuple[str, ...] = ("plain", "augmented")  # which arms to train (a multi-arm run trains "plain" once)
    device: str = "cpu"  # where it trains: "cpu" or "cuda:0" (see select_device)

    @property
    def steps(self) -> int:
        """Training steps of both arms over every epoch of this replicate."""
        plan = batch_plan(len(self.train_idx), batch_size=self.spec.batch_size, seed=0, epoch=0,
                          repeats=self.spec.epoch_repeats)
        return len(self.arms) * len(plan) * self.spec.epochs


def make_replicates(spec: ExperimentSpec, labels: np.ndarray, arms: tuple[str, ...] = ("plain", "augmented"), *,
                    fixed_val: np.ndarray | None = None, run_id: int | None = None, device: str = "cpu") -> list[Replicate]:
    """Every replicate of ``spec`` on data with ``labels``, in order, training ``arms`` on ``device``.

    ``fixed_val`` is an upload's own validation split; with ``run_id`` the first replicate keeps
    its trained models under that stored run.
    """
    splits = replicate_splits(spec, labels, fixed_val)
    return [Replicate(spec, r, seed, train, val, len(splits), arms=arms, keep_models_for=run_id if r == 0 else None,
                      device=device) for r, (seed, train, val) in enumerate(splits)]


def deliver_replicate(replicate: Replicate, epochs: list[EpochRecord], finals: list[FinalEvaluation], *,
                      counter: StepCounter, on_epoch: EpochCallback, on_final: Callable[[FinalEvaluation], None],
                      on_batch: BatchProgressCallback | None) -> None:
    """Hand a replicate trained elsewhere (another process, a Ray node) to the run: its epochs, finals and progress."""
    for record in epochs:
        on_epoch(record)
    for final in finals:
        on_final(final)
    fraction = counter.step(replicate.steps)
    if on_batch is not None:
        on_batch(BatchProgress("augmented", replicate.index, replicate.spec.epochs, 1, 1, float("nan"), fraction,
                               counter.seconds_left(), counter.busy()))


def storage_error_message(exc: BaseException) -> str:
    """Plain words for a write that failed (disk full, read-only folder, I/O error)."""
    text = str(exc)
    if "full" in text.lower() or getattr(exc, "errno", None) == errno.ENOSPC:
        return f"The disk holding the data folder is full, so the run stopped ({text}); finished epochs are kept."
    return f"Could not write to the data folder, so the run stopped ({type(exc).__name__}: {text}); finished epochs are kept."


class LocalReplicateExecutor:
    """Runs the replicates one after another in this process (the default)."""

    name = "local"

    def __call__(self, replicates: list[Replicate], data: ImageDataset, *, counter: StepCounter, on_epoch: EpochCallback,
                 on_final: Callable[[FinalEvaluation], None], on_batch: BatchProgressCallback | None,
                 cancel: threading.Event | None) -> None:
        """Train every replicate in order (see :func:`run_replicate` for the arguments)."""
        for replicate in replicates:
            run_replicate(replicate, data, counter=counter, on_epoch=on_epoch, on_final=on_final, on_batch=on_batch,
                          cancel=cancel)


def run_experiment(spec: ExperimentSpec, *, dataset: ImageDataset | None = None, on_epoch: EpochCallback | None = None,
                   on_batch: BatchProgressCallback | None = None, cancel: threading.Event | None = None,
                   store: RunStore | None = None, run_id: int | None = None,
                   executor: LocalReplicateExecutor | Callable[..., None] | None = None,
                   arms: tuple[str, ...] = ("plain", "augmented")) -> ExperimentResult:
    """Fine-tune with and without augmentation over every replicate, identically otherwise.

    Args:
        spec: What to run.
        dataset: Already-loaded data (e.g. a user upload from :mod:`userdata`); default: load ``spec.dataset``.
        on_epoch: Called with an :class:`EpochRecord` after each epoch of each arm.
        on_batch: Called with a :class:`BatchProgress` after each training step.
        cancel: Set it to stop after the current step; finished epochs are kept, status "cancelled".
        store: Where to save the run as it progresses (epochs are written as they finish).
        run_id: An existing (queued) run in ``store`` to fill in, instead of creating a new one.
        executor: Who trains the replicates (default :class:`LocalReplicateExecutor`; the worker passes a Ray
            executor when ``AUGLAB_RAY_ADDRESS`` is set). Its ``name`` is recorded with the run.
        arms: Which of "plain" and "augmented" to train; multi-arm experiments and searches train
            the plain arm once and each pipeline's augmented arm alone (identical otherwise).

    Returns:
        The :class:`ExperimentResult` (also stored, with ``run_id`` set, when ``store`` is given).

    Example:
        >>> result = run_experiment(create_spec_preset("demo"))
        >>> result.comparison["sentence"]
    """
    configure_threads()
    data = dataset if dataset is not None else load_dataset(spec)
    check_data_budget(len(data.images), spec.image_size)  # budgets before work (digits, zips, folders)
    arms = tuple(a for a in ("plain", "augmented") if a in arms)
    if not arms:
        raise AugLabError("Train at least one arm (plain or augmented).", field="arms")
    device = select_device()  # before any work: "cuda" without CUDA is the spec's problem, not a failed run
    executor = executor if executor is not None else LocalReplicateExecutor()
    versions = {**library_versions(), **device_versions(device), "executor": getattr(executor, "name", "custom")}
    result = ExperimentResult(spec, class_names=data.class_names, dataset_fingerprint=data.fingerprint,
                              started_at=_now(), versions=versions)
    if store is not None:
        if run_id is None:
            result.run_id = store.create_run(result)
        else:
            result.run_id = run_id
            store.attach_run(run_id, result)
    replicates = make_replicates(spec, data.labels, arms, fixed_val=data.fixed_val, run_id=result.run_id, device=str(device))
    start = time.perf_counter()
    warm_up_optimizer()  # one-time costs of the process, before the run's clock (see StepCounter)
    if spec.pipeline or spec.mixup_alpha > 0 or spec.cutmix_alpha > 0:
        start_augmentation_server()
    counter = StepCounter(sum(r.steps for r in replicates), replicates=len(replicates))

    def epoch_done(record: EpochRecord) -> None:
        result.epochs.append(record)
        if store is not None and result.run_id is not None:
            store.add_epoch(result.run_id, record)
        if on_epoch is not None:
            on_epoch(record)

    def final_done(final: FinalEvaluation) -> None:
        result.finals.append(final)
        if store is not None and result.run_id is not None:
            store.add_final(result.run_id, final)

    try:
        executor(replicates, data, counter=counter, on_epoch=epoch_done, on_final=final_done, on_batch=on_batch,
                 cancel=cancel)
        result.status = "completed"
    except Cancelled:
        result.status, result.message = "cancelled", "Stopped by the user; finished epochs are kept."
    except AugLabError as exc:
        result.status, result.message = "failed", str(exc)
    except (sqlite3.OperationalError, OSError) as exc:  # disk full, read-only folder: say so, keep what is stored
        result.status, result.message = "failed", storage_error_message(exc)
    except Exception as exc:  # noqa: BLE001 - a job must end with a message, never vanish
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
    result.analysis = analyse([e.to_dict() for e in result.epochs], [f.to_dict() for f in result.finals])
    if replicates:  # what the advice quotes: the training images per class (an upload may bring its own split)
        trained = np.bincount(data.labels[replicates[0].train_idx], minlength=len(data.class_names))
        result.analysis["train_counts"] = [int(c) for c in trained]
    result.finished_at, result.seconds = _now(), time.perf_counter() - start
    if store is not None and result.run_id is not None:
        store.finish_run(result)
    return result


def run_replicate(replicate: Replicate, data: ImageDataset, *, counter: StepCounter,
                  on_epoch: EpochCallback, on_final: Callable[[FinalEvaluation], None],
                  on_batch: BatchProgressCallback | None = None, cancel: threading.Event | None = None) -> None:
    """Train both arms of one replicate, epoch by epoch, interleaved (live curves grow together).

    Raises:
        Cancelled: ``cancel`` was set; epochs already passed to ``on_epoch`` are complete.
    """
    counter.new_replicate()  # until its first step: set-up, timed apart from the steps
    spec, rep, seed = replicate.spec, replicate.index, replicate.seed
    train_idx, val_idx = replicate.train_idx, replicate.val_idx
    classes = len(data.class_names)
    device = torch.device(replicate.device)  # models, batches, cached features and evaluation live there
    info = get_backbone_info(spec.backbone)
    normalise = Normaliser(info.mean, info.std)
    initial = build_classifier(spec.backbone, classes, seed=seed)  # one init (on the CPU, from the seed), copied into both arms
    images, labels = data.images[train_idx], data.labels[train_idx]
    plans = [batch_plan(len(train_idx), batch_size=spec.batch_size, seed=seed, epoch=e, repeats=spec.epoch_repeats)
             for e in range(spec.epochs)]
    steps_per_epoch = len(plans[0])
    total_steps = steps_per_epoch * spec.epochs
    pipeline_seed = transform_seed(seed)
    transform = create_train_transform(spec.pipeline, seed=pipeline_seed, image_size=spec.image_size)  # built here to fail early
    factory = None if transform is None else partial(create_train_transform, spec.pipeline, seed=pipeline_seed, image_size=spec.image_size)
    mixing = spec.mixup_alpha > 0 or spec.cutmix_alpha > 0
    plain = PlainBatches(images, labels, normalise, device=device)
    sources: dict[str, PlainBatches | AugmentedBatches] = {"plain": plain}
    if transform is None and not mixing:
        sources["augmented"] = plain  # "no augmentation" is a branch of the factory
    elif "augmented" in replicate.arms:
        augmented = AugmentedBatches(images, labels, normalise, factory, num_classes=classes, seed=seed,
                                     mixup_alpha=spec.mixup_alpha, cutmix_alpha=spec.cutmix_alpha, device=device)
        augmented.start(plans)
        sources["augmented"] = augmented
    sources = {arm: sources[arm] for arm in replicate.arms}  # the augmented source is only started when that arm trains
    models: dict[str, SplitModel] = {arm: apply_strategy(initial, spec.strategy).to(device) for arm in sources}
    unaugmented = [arm for arm, source in sources.items() if source is plain]  # none when only the augmented arm trains
    if unaugmented:  # their frozen-prefix features, computed once (the prefix is frozen and identical in every arm)
        cached = cache_plain_features(plain, models[unaugmented[0]], max_bytes=get_int("AUGLAB_FEATURE_CACHE_MB") * 2**20)
        sources = {arm: cached if source is plain else source for arm, source in sources.items()}
    optimizers = {arm: make_optimizer(models[arm], spec) for arm in sources}
    val_x = normalise(data.images[val_idx]).to(device)
    val_y = torch.from_numpy(data.labels[val_idx]).to(device)
    val_features = prefix_features(models[replicate.arms[0]], val_x)  # frozen prefix: exact, shared by both arms
    last: dict[str, np.ndarray] = {}
    try:
        for epoch in range(spec.epochs):
            for arm in replicate.arms:
                def report(i: int, n: int, loss: float, _arm: str = arm, _epoch: int = epoch) -> None:
                    fraction = counter.step()
                    if on_batch is not None:
                        on_batch(BatchProgress(_arm, rep, _epoch + 1, i + 1, n, loss, fraction, counter.seconds_left(),
                                               counter.busy()))

                tic = time.perf_counter()
                train = train_one_epoch(models[arm], sources[arm].epoch(plans[epoch]), optimizers[arm],
                                        step=epoch * steps_per_epoch, total_steps=total_steps, schedule=spec.schedule,
                                        on_batch=report, cancel=cancel, num_batches=steps_per_epoch)
                seconds = time.perf_counter() - tic
                val = evaluate(models[arm], val_features, val_y)
                last[arm] = val["predictions"]  # type: ignore[assignment]
                record = EpochRecord(arm, rep, seed, epoch + 1, train["train_loss"], train["train_acc"],
                                     float(val["val_loss"]), float(val["val_acc"]), train["lr"], seconds)  # type: ignore[arg-type]
                on_epoch(record)
        for arm in replicate.arms:
            on_final(_final(arm, rep, seed, last[arm], data.labels[val_idx], val_idx, classes))
            if replicate.keep_models_for is not None:  # kept to try on new images and export
                save_trained(replicate.keep_models_for, arm, models[arm].cpu())  # training is over: a CPU copy loads anywhere
    finally:
        for source in {plain, *sources.values()}:
            source.close()
