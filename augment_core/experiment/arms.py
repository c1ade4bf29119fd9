"""Many arms, one experiment: no augmentation plus K pipelines, everything else identical.

An :class:`ArmsSpec` is a base :class:`~augment_core.experiment.spec.ExperimentSpec` (data,
model, strategy, seeds, epochs: shared by every arm; its own pipeline is ignored) and the
arms. :func:`run_arms` trains the plain arm once and each pipeline's augmented arm once per
replicate through an :class:`~augment_core.experiment.executor.Executor`; because the engine
pairs replicates by seed (same split, initial weights, batch order), every arm is paired with
every other exactly as the two arms of a single experiment are. The result carries each arm's
mean curve with its band and the Holm-corrected :mod:`leaderboard`.

Example:
    >>> spec = ArmsSpec(create_spec_preset("demo", epochs=5), (Arm("Demo", DEMO_PIPELINE), Arm("Light", light_dict)))
    >>> result = run_arms(spec)
    >>> result.leaderboard.summary
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.executor import DataPart, Executor, LocalExecutor, RunRequest
from augment_core.experiment.leaderboard import NONE_ARM, Leaderboard, build_leaderboard
from augment_core.experiment.results import EpochRecord, ExperimentResult
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.stats import curves

ArmEpochCallback = Callable[[str, EpochRecord], None]  # (arm name, its finished epoch)
MAX_ARMS = 24  # more arms than a page can show side by side; a search confirms far fewer


@dataclass(frozen=True)
class Arm:
    """One augmented arm: a pipeline and optional batch mixing."""

    name: str  # shown on the leaderboard; unique within an experiment
    pipeline: dict[str, Any] | None = None  # albumentations dict (as ExperimentSpec.pipeline), None = no per-image augmentation
    mixup_alpha: float = 0.0  # MixUp Beta(α, α); 0 = off
    cutmix_alpha: float = 0.0  # CutMix Beta(α, α); 0 = off


@dataclass(frozen=True)
class ArmsSpec:
    """A multi-arm experiment: shared settings plus the arms ("No augmentation" is always added)."""

    base: ExperimentSpec  # data, model, strategy, seeds, epochs... shared by every arm (its pipeline is ignored)
    arms: tuple[Arm, ...] = ()  # the augmented arms

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        names = [a.name for a in self.arms]
        if not self.arms:
            raise AugLabError("Add at least one pipeline to compare with no augmentation.", field="arms")
        if len(self.arms) > MAX_ARMS:
            raise AugLabError(f"Compare at most {MAX_ARMS} pipelines at once (got {len(self.arms)}).", field="arms")
        if len(set(names)) != len(names) or NONE_ARM in names or any(not n.strip() for n in names):
            raise AugLabError(f"Each arm needs its own non-empty name, other than “{NONE_ARM}” (got {', '.join(names)}).",
                              field="arms")
        for arm in self.arms:
            self.arm_spec(arm)  # validates pipeline and mixing through the spec's own checks

    def arm_spec(self, arm: Arm | None) -> ExperimentSpec:
        """The engine spec of ``arm`` (None: no augmentation)."""
        if arm is None:
            return replace(self.base, name=f"{self.base.name} · {NONE_ARM}", pipeline=None, mixup_alpha=0.0, cutmix_alpha=0.0)
        return replace(self.base, name=f"{self.base.name} · {arm.name}", pipeline=arm.pipeline,
                       mixup_alpha=arm.mixup_alpha, cutmix_alpha=arm.cutmix_alpha)

    @property
    def names(self) -> list[str]:
        """Every arm's name, no augmentation first."""
        return [NONE_ARM, *(a.name for a in self.arms)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"base": self.base.to_dict(), "arms": [asdict(a) for a in self.arms]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArmsSpec:
        """Rebuild from :meth:`to_dict` output."""
        if not isinstance(data, dict) or not isinstance(data.get("arms"), list) or not isinstance(data.get("base"), dict):
            raise AugLabError("A multi-arm spec needs “base” (an experiment spec) and “arms” (a list).", field="spec")
        try:
            arms = tuple(Arm(**a) for a in data["arms"])
        except TypeError as exc:
            raise AugLabError(f"Invalid arm ({exc}); an arm has name, pipeline, mixup_alpha and cutmix_alpha.", field="arms") from exc
        return cls(ExperimentSpec.from_dict(data["base"]), arms)

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


@dataclass
class ArmsResult:
    """What a multi-arm experiment produced (kept even when cancelled or partly failed)."""

    spec: ArmsSpec  # what was run
    results: dict[str, ExperimentResult] = field(default_factory=dict)  # arm name -> its engine run
    status: str = "completed"  # completed, cancelled or failed (the worst of the arms)
    message: str = ""  # why not completed
    leaderboard: Leaderboard | None = None  # None until some arm finished a replicate

    def finals(self) -> dict[str, list[float]]:
        """Arm name -> final validation accuracy per finished replicate, in replicate order."""
        return {name: [f.val_acc for f in sorted(r.finals, key=lambda f: f.replicate)] for name, r in self.results.items()}

    def curves(self, metric: str = "val_acc") -> dict[str, list[dict[str, float]]]:
        """Arm name -> mean and std of ``metric`` per epoch over replicates."""
        return {name: curves([e.to_dict() for e in r.epochs], metric).get(r.epochs[0].arm if r.epochs else "plain", [])
                for name, r in self.results.items()}


def arm_requests(spec: ArmsSpec, *, dataset: Any = None, part: DataPart | None = None) -> list[RunRequest]:
    """One engine request per arm, no augmentation first (its plain arm only; the others their augmented arm)."""
    return [RunRequest(spec.arm_spec(None), arms=("plain",), dataset=dataset, part=part, label=NONE_ARM),
            *(RunRequest(spec.arm_spec(a), arms=("augmented",), dataset=dataset, part=part, label=a.name) for a in spec.arms)]


def summarise(spec: ArmsSpec, results: list[ExperimentResult]) -> ArmsResult:
    """Combine per-arm engine results into an :class:`ArmsResult` with its leaderboard."""
    out = ArmsResult(spec, dict(zip(spec.names, results)))
    bad = [(n, r) for n, r in out.results.items() if r.status != "completed"]
    if bad:
        out.status = "failed" if any(r.status == "failed" for _, r in bad) else "cancelled"
        out.message = "; ".join(f"{n}: {r.message or r.status}" for n, r in bad)
    finals = out.finals()
    if any(finals.values()) and finals.get(NONE_ARM):
        evaluations = {name: [f.to_dict() for f in sorted(r.finals, key=lambda f: f.replicate)] for name, r in out.results.items()}
        out.leaderboard = build_leaderboard(finals, evaluations=evaluations)
    return out


def run_arms(spec: ArmsSpec, *, executor: Executor | None = None, dataset: Any = None,
             on_epoch: ArmEpochCallback | None = None, cancel: threading.Event | None = None,
             part: DataPart | None = None) -> ArmsResult:
    """Train every arm over every replicate and build the leaderboard.

    Args:
        spec: The arms and their shared settings.
        executor: Who trains (default: :class:`LocalExecutor`, in this process, one run at a time).
        dataset: Already-loaded data (default: load ``spec.base.dataset``).
        on_epoch: Called with (arm name, record) after every finished epoch.
        cancel: Stop after the current step; finished replicates still count.
        part: Which part of ``spec.base.dataset`` ``dataset`` is, for executors in other processes.
    """
    requests = arm_requests(spec, dataset=dataset, part=part)
    names = spec.names
    callback = None if on_epoch is None else (lambda i, record: on_epoch(names[i], record))
    results = (executor or LocalExecutor()).run(requests, on_epoch=callback, cancel=cancel)
    return summarise(spec, results)
