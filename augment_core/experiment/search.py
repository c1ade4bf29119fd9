"""Search for the augmentation that helps, with Optuna, and confirm it on data the search never saw.

* **Honest by construction.** Before anything trains, the data are split (stratified, seeded) into
  a *search* part and a *held-out* part (``holdout_fraction``, 30% by default). Trials train and
  validate only on the search part. At the end the winner, the user's pipeline (if any) and no
  augmentation are re-compared (:mod:`arms`) **on the held-out part, with fresh seeds**
  (``base.seed + 10_000`` onwards); only that confirmation is the result. The search's own best
  score minus the winner's confirmed score is shown as its optimism.
* **Optuna**: TPE sampler (seeded), Hyperband pruning on per-epoch validation accuracy (step =
  replicate × epochs + epoch). A pruned trial is stopped through its run's own cancel event, so
  the same works when trials run in a queue.
* **Storage**: Optuna's RDB storage in its own SQLite file, ``<AUGLAB_DATA_DIR>/search.sqlite3``:
  Optuna creates and migrates its own tables (SQLAlchemy + alembic), which must never touch the
  run store's ``runs.sqlite3``; both live in the data folder. The study keeps the search spec and a
  format version, so a search survives a restart, can be resumed, and a cancelled search's trials
  can still be confirmed (:func:`confirm_search`).
* **Parallel**: trials are asked ``executor.workers`` at a time and handed to the executor
  together; with the local executor that is one at a time.

Example:
    >>> spec = SearchSpec(create_spec_preset("demo", epochs=10), space="presets", budget_seconds=600)
    >>> result = run_search(spec, on_trial=print)
    >>> result.confirmation.leaderboard.summary, result.optimism
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from augment_core.errors import AugLabError
from augment_core.experiment.ablation import engine_dict
from augment_core.experiment.arms import Arm, ArmsResult, ArmsSpec, run_arms
from augment_core.experiment.datasets import ImageDataset, split_indices
from augment_core.experiment.executor import DataPart, Executor, LocalExecutor, RunRequest, _either
from augment_core.experiment.search_space import SPACES, create_space
from augment_core.experiment.spec import ExperimentSpec
from augment_core.pipelines.presets import list_data_kinds
from augment_core.settings import data_dir, get_int

SEARCH_FORMAT = 1  # stored with every study; a study of another format is refused, never misread
MAX_TRIALS = 1000  # far more than a time budget allows on a laptop; stops a typo (1e9) early
MIN_PER_CLASS = 4  # images of each class each part needs (the engine splits each part again)
WINNER, YOURS = "Search winner", "Your pipeline"


@dataclass(frozen=True)
class SearchSpec:
    """One search: what to train, what to try, how long, and how to confirm."""

    base: ExperimentSpec  # data, model, epochs... for every trial (its pipeline is "your pipeline")
    space: str = "presets"  # presets, families or around
    data_kind: str = "Natural photos"  # label-safety rules applied to the space
    name: str = "search"  # study name in the search database
    budget_trials: int | None = None  # stop after this many trials...
    budget_seconds: float | None = 600.0  # ...or after this much wall time (whichever first)
    search_seeds: int = 1  # replicates per trial (more: less noise, fewer trials)
    confirm_seeds: int = 3  # fresh replicates of the confirmation
    holdout_fraction: float = 0.3  # share of each class kept away from the search, for confirmation
    pruning: bool = True  # Hyperband pruning on per-epoch validation accuracy

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise AugLabError(f"Unknown search space “{self.space}”.", hint=f"Choose one of: {', '.join(SPACES)}.", field="space")
        if self.data_kind not in list_data_kinds():
            raise AugLabError(f"“{self.data_kind}” is not a kind of data the label-safety check knows.", field="data_kind")
        if self.budget_trials is None and self.budget_seconds is None:
            raise AugLabError("Give a budget: a number of trials, minutes, or both.", field="budget")
        if (self.budget_trials is not None and self.budget_trials < 1) or (self.budget_seconds is not None and self.budget_seconds <= 0):
            raise AugLabError("The budget is too small for even one trial: allow at least one trial and some time.", field="budget")
        longest = 60 * get_int("AUGLAB_SEARCH_MAX_MINUTES")
        if self.budget_seconds is not None and self.budget_seconds > longest:
            raise AugLabError(f"A search may run for at most {longest // 60} minutes here (asked for {self.budget_seconds / 60:.0f}).",
                              hint="An administrator can raise AUGLAB_SEARCH_MAX_MINUTES.", field="budget")
        if self.budget_trials is not None and self.budget_trials > MAX_TRIALS:
            raise AugLabError(f"A search may run at most {MAX_TRIALS} trials.", field="budget")
        if not 0.05 <= self.holdout_fraction <= 0.8:
            raise AugLabError("Hold out between 5% and 80% of the data for the confirmation.", field="holdout_fraction")
        if self.search_seeds < 1 or self.confirm_seeds < 2:
            raise AugLabError("Use at least one seed per trial and two for the confirmation (an interval needs two).", field="seeds")
        if not re.fullmatch(r"[\w .:-]{1,80}", self.name):
            raise AugLabError("Name the search with letters, digits, spaces, dots, colons or dashes (at most 80).", field="name")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {**asdict(self), "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSpec:
        """Rebuild from :meth:`to_dict` (or a plain experiment spec, searched with the defaults)."""
        if "base" not in data:
            return cls(ExperimentSpec.from_dict(data))
        try:
            return cls(**{**data, "base": ExperimentSpec.from_dict(data["base"])})
        except TypeError as exc:
            raise AugLabError(f"Invalid search spec ({exc}).", field="spec") from exc


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """"10m" -> (None, 600); "90s", "1h", "1.5m"; "20" or "20 trials" -> (20, None)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|trials?)?\s*", text.lower())
    if not match:
        raise AugLabError(f"“{text}” is not a budget.", hint="Write minutes as 10m, seconds as 90s, hours as 1h, or a number of trials.", field="budget")
    value, unit = float(match.group(1)), match.group(2)
    if unit is None or unit.startswith("trial"):
        return int(value), None
    return None, value * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]


def holdout_split(data: ImageDataset, fraction: float, seed: int) -> tuple[ImageDataset, ImageDataset]:
    """(search part, held-out part), stratified and seeded; refuses data too small to hold out."""
    counts = np.bincount(data.labels, minlength=len(data.class_names))
    small = [(data.class_names[c], int(n)) for c, n in enumerate(counts) if round(n * fraction) < MIN_PER_CLASS
             or n - round(n * fraction) < MIN_PER_CLASS]
    if small:
        need = math.ceil(MIN_PER_CLASS / min(fraction, 1 - fraction))
        raise AugLabError(f"The data set is too small to hold out a confirmation split: class “{small[0][0]}” has {small[0][1]} "
                          f"images, and each class needs about {need} so that both the search and the confirmation get "
                          f"{MIN_PER_CLASS} or more.", hint="Add images, or lower the held-out share.", field="holdout_fraction")
    search_idx, held_idx = split_indices(data.labels, val_fraction=fraction, seed=seed + 7919)

    def part(idx: np.ndarray, label: str) -> ImageDataset:
        return ImageDataset(f"{data.name} ({label})", data.images[idx], data.labels[idx], data.class_names,
                            f"{data.description} — {label}", tuple(data.file_names[i] for i in idx) if data.file_names else ())

    return part(search_idx, "search part"), part(held_idx, "held-out part")


@dataclass(frozen=True)
class TrialRow:
    """One trial as the page and the CLI show it."""

    number: int  # Optuna's trial number
    state: str  # COMPLETE, PRUNED, FAIL or RUNNING
    value: float | None  # mean final validation accuracy on the search part (0-1)
    params: dict[str, Any]  # what the sampler chose
    pipeline: dict[str, Any] | None  # the candidate, in the engine's form
    seconds: float  # wall time
    note: str = ""  # why it was pruned or failed


@dataclass
class SearchResult:
    """Trials, the winner and its confirmation on held-out data."""

    spec: SearchSpec
    status: str = "completed"  # completed, cancelled or failed (trials are kept either way)
    message: str = ""
    trials: list[TrialRow] = field(default_factory=list)
    best: TrialRow | None = None  # best completed trial on the search part
    confirmation: ArmsResult | None = None  # winner, your pipeline and none on the held-out part, fresh seeds
    seconds: float = 0.0

    @property
    def optimism(self) -> float | None:
        """Search score minus confirmed score of the winner, in points (how much the search flattered it)."""
        if self.best is None or self.best.value is None or self.confirmation is None or self.confirmation.leaderboard is None:
            return None
        row = next((r for r in self.confirmation.leaderboard.rows if r.arm == WINNER), None)
        return None if row is None or math.isnan(row.mean_acc) else 100.0 * (self.best.value - row.mean_acc)


def storage_url(path: Path | None = None) -> str:
    """SQLAlchemy URL of the search database (``<data dir>/search.sqlite3`` by default)."""
    return f"sqlite:///{path or data_dir() / 'search.sqlite3'}"


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(spec: SearchSpec, *, resume: bool = False, storage: str | None = None) -> Any:
    """Create the study for ``spec`` (or with ``resume`` load it); refuse clashes and other formats."""
    optuna = _optuna()
    url = storage or storage_url()
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(url, include_best_trial=False)]
        if spec.name in names:
            study = optuna.load_study(study_name=spec.name, storage=url)
            _check_format(study)
            if not resume:
                raise AugLabError(f"A search called “{spec.name}” already exists.", hint="Resume it, or choose another name.", field="name")
            return study
        if resume:
            raise AugLabError(f"There is no stored search called “{spec.name}” to resume.", field="name")
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=spec.base.epochs * spec.search_seeds, reduction_factor=3) \
            if spec.pruning else optuna.pruners.NopPruner()
        study = optuna.create_study(study_name=spec.name, storage=url, direction="maximize", pruner=pruner,
                                    sampler=optuna.samplers.TPESampler(seed=spec.base.seed, n_startup_trials=4))
        study.set_user_attr("auglab_format", SEARCH_FORMAT)
        study.set_user_attr("spec", spec.to_dict())
        return study
    except AugLabError:
        raise
    except Exception as exc:  # noqa: BLE001 - Optuna/SQLAlchemy schema or file problems reach the user as words
        raise AugLabError(f"The search database could not be opened ({type(exc).__name__}: {exc}).",
                          hint="It may come from another Optuna version; its file is kept untouched.", field="storage") from exc


def _check_format(study: Any) -> None:
    found = study.user_attrs.get("auglab_format")
    if found != SEARCH_FORMAT:
        raise AugLabError(f"The search “{study.study_name}” was stored by another version of Augmentation Lab (format {found}, "
                          f"this one reads {SEARCH_FORMAT}); it cannot be resumed or confirmed here.",
                          hint="Its trials stay in the database untouched; start a new search under another name.", field="name")


def load_search(name: str, *, storage: str | None = None) -> tuple[SearchSpec, Any]:
    """The stored spec and study of search ``name``."""
    optuna = _optuna()
    try:
        study = optuna.load_study(study_name=name, storage=storage or storage_url())
    except KeyError:
        raise AugLabError(f"There is no stored search called “{name}”.", field="name") from None
    _check_format(study)
    return SearchSpec.from_dict(study.user_attrs["spec"]), study


def trial_rows(study: Any) -> list[TrialRow]:
    """Every trial of ``study`` as rows, in order."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else 0.0
        rows.append(TrialRow(t.number, t.state.name, t.value, dict(t.params), t.user_attrs.get("pipeline"), seconds,
                             t.user_attrs.get("note", "")))
    return rows


TrialCallback = Callable[[TrialRow], None]
SearchEpochCallback = Callable[[int, Any], None]  # (trial number, EpochRecord)


def run_search(spec: SearchSpec, *, executor: Executor | None = None, resume: bool = False, storage: str | None = None,
               dataset: ImageDataset | None = None, on_trial: TrialCallback | None = None,
               on_epoch: SearchEpochCallback | None = None, cancel: threading.Event | None = None,
               confirm: bool = True) -> SearchResult:
    """Search ``spec.space`` within the budget, then confirm the winner on the held-out part.

    Args:
        spec: The search.
        executor: Who trains the trials (default: :class:`LocalExecutor`).
        resume: Continue the stored search of the same name (its budget counts anew).
        storage: SQLAlchemy URL of the search database (default: :func:`storage_url`).
        dataset: Already-loaded data (default: load ``spec.base.dataset``).
        on_trial: Called with each finished trial.
        on_epoch: Called with (trial number, record) after every epoch of a trial.
        cancel: Stop after the current step; trials so far are kept, nothing is confirmed.
        confirm: Run the confirmation at the end (when at least one trial completed).

    Raises:
        AugLabError: bad space, data too small to hold out, a name clash or a study of another format.
    """
    optuna = _optuna()
    space = create_space(spec.space, spec.data_kind, spec.base.pipeline)
    executor = executor or LocalExecutor()
    if dataset is None:
        from augment_core.experiment.runner import load_dataset

        dataset = load_dataset(spec.base)
    search_data, held_out = holdout_split(dataset, spec.holdout_fraction, spec.base.seed)
    search_part = DataPart("search", spec.holdout_fraction, spec.base.seed, dataset.fingerprint)
    study = open_study(spec, resume=resume, storage=storage)
    start, result = time.perf_counter(), SearchResult(spec)
    deadline = threading.Event()
    timer = threading.Timer(spec.budget_seconds, deadline.set) if spec.budget_seconds else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    stop = _either(deadline, cancel)
    # trials search per-image pipelines only: the winner is confirmed without mixing, so trials train without it too
    trial_spec = replace(spec.base, seeds=spec.search_seeds, folds=0, mixup_alpha=0.0, cutmix_alpha=0.0)
    done = 0
    try:
        while not stop.is_set() and (spec.budget_trials is None or done < spec.budget_trials):
            batch = min(executor.workers, spec.budget_trials - done if spec.budget_trials else executor.workers)
            trials, requests = [], []
            for _ in range(batch):
                trial = study.ask()
                pipeline = engine_dict(space.build(trial))
                trial.set_user_attr("pipeline", pipeline)
                trials.append(trial)
                requests.append(RunRequest(replace(trial_spec, name=f"{spec.name} · trial {trial.number}", pipeline=pipeline),
                                           arms=("augmented",), dataset=search_data, part=search_part,
                                           label=f"trial {trial.number}"))
            pruned = [False] * batch

            def report(i: int, record: Any) -> None:
                if pruned[i]:  # a queued run may finish an epoch or two before its cancel arrives: not reported
                    return
                trials[i].report(record.val_acc, record.replicate * spec.base.epochs + record.epoch)
                if on_epoch is not None:
                    on_epoch(trials[i].number, record)
                if trials[i].should_prune():
                    pruned[i] = True
                    requests[i].cancel.set()

            runs = executor.run(requests, on_epoch=report, cancel=stop)
            for i, (trial, run) in enumerate(zip(trials, runs)):
                if pruned[i]:
                    trial.set_user_attr("note", "pruned: behind the other trials at the same epoch")
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                elif run.status == "completed":
                    study.tell(trial, float(np.mean([f.val_acc for f in run.finals])))
                else:
                    trial.set_user_attr("note", "stopped when the time budget ran out" if deadline.is_set() and run.status == "cancelled"
                                        else run.message or run.status)
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                done += 1
                if on_trial is not None:
                    on_trial(next(r for r in trial_rows(study) if r.number == trial.number))
    finally:
        if timer is not None:
            timer.cancel()
    result.trials = trial_rows(study)
    completed = [t for t in result.trials if t.state == "COMPLETE" and t.value is not None]
    result.best = max(completed, key=lambda t: t.value) if completed else None
    if cancel is not None and cancel.is_set():
        result.status, result.message = "cancelled", "Stopped by the user; the trials so far are kept and can be confirmed."
    elif result.best is None:
        result.status = "failed"
        result.message = _too_small(spec, result.trials)
    elif confirm:
        result.confirmation = confirm_study(spec, study, held_out, executor=executor, cancel=cancel,
                                            source=dataset.fingerprint)
    result.seconds = time.perf_counter() - start
    return result


def _too_small(spec: SearchSpec, trials: list[TrialRow]) -> str:
    if spec.budget_seconds is not None and trials:
        return (f"The budget ({spec.budget_seconds:g} s) was too small for even one trial to finish; no trial completed. "
                "Allow more time, or fewer epochs per trial.")
    return "No trial completed; see the trials' notes."


def confirm_study(spec: SearchSpec, study: Any, held_out: ImageDataset, *, executor: Executor | None = None,
                  cancel: threading.Event | None = None, source: str = "") -> ArmsResult:
    """Re-compare the best trial, your pipeline and no augmentation on ``held_out`` with fresh seeds; store the result."""
    completed = [t for t in trial_rows(study) if t.state == "COMPLETE" and t.value is not None]
    if not completed:
        raise AugLabError("No trial of this search has completed yet, so there is nothing to confirm.", field="name")
    best = max(completed, key=lambda t: t.value)
    arms = [Arm(WINNER, best.pipeline)]
    if spec.base.pipeline is not None:
        arms.append(Arm(YOURS, spec.base.pipeline, spec.base.mixup_alpha, spec.base.cutmix_alpha))
    base = replace(spec.base, name=f"{spec.name} · confirmation", seeds=spec.confirm_seeds, folds=0, seed=spec.base.seed + 10_000)
    part = DataPart("held-out", spec.holdout_fraction, spec.base.seed, source)  # how a worker rebuilds held_out
    result = run_arms(ArmsSpec(base, tuple(arms)), executor=executor or LocalExecutor(), dataset=held_out, cancel=cancel, part=part)
    if result.leaderboard is not None:
        study.set_user_attr("confirmation", {"trial": best.number, "leaderboard": json.loads(json.dumps(result.leaderboard.to_dict(), default=str))})
    return result


def confirm_search(name: str, *, storage: str | None = None, executor: Executor | None = None,
                   cancel: threading.Event | None = None) -> SearchResult:
    """Confirm a stored (e.g. cancelled or restarted) search by name."""
    spec, study = load_search(name, storage=storage)
    from augment_core.experiment.runner import load_dataset

    data = load_dataset(spec.base)
    _, held_out = holdout_split(data, spec.holdout_fraction, spec.base.seed)
    result = SearchResult(spec, trials=trial_rows(study))
    completed = [t for t in result.trials if t.state == "COMPLETE" and t.value is not None]
    result.best = max(completed, key=lambda t: t.value) if completed else None
    result.confirmation = confirm_study(spec, study, held_out, executor=executor, cancel=cancel, source=data.fingerprint)
    return result
