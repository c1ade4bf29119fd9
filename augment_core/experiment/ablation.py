"""Ablation: which steps of a pipeline pull their weight.

For a pipeline of n top-level steps (a ``OneOf``/``SomeOf`` block counts as one step) the arms
are the full pipeline, the pipeline without each step in turn, and optionally each step alone,
all against no augmentation with everything else identical (:mod:`arms`). A step's **effect** is
the full pipeline minus the pipeline without it, paired by replicate, with Holm-corrected
intervals over the n steps (:func:`~augment_core.experiment.leaderboard.holm_differences`):
it *helps* when the interval is above zero, *hurts* when below, and otherwise *makes no clear
difference*.

Example:
    >>> result = run_ablation(create_spec_preset("demo", epochs=10), DEMO_PIPELINE)
    >>> print(result.summary)
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.arms import Arm, ArmEpochCallback, ArmsResult, ArmsSpec, run_arms
from augment_core.experiment.executor import Executor
from augment_core.experiment.leaderboard import NONE_ARM, Difference, holm_differences
from augment_core.experiment.spec import ExperimentSpec
from augment_core.pipelines.io import from_dict, to_dict
from augment_core.pipelines.model import Group, Item, Pipeline

FULL_ARM = "Full pipeline"


def engine_dict(pipeline: Pipeline) -> dict[str, Any] | None:
    """The engine's form of a pipeline (``ExperimentSpec.pipeline``): albumentations' dict, None when empty."""
    if pipeline.is_empty:
        return None
    document = to_dict(pipeline)
    return {"__version__": document["__version__"], "transform": document["transform"]}


def step_label(position: int, item: Item) -> str:
    """"2. Affine" or "3. OneOf(GaussNoise, GaussianBlur)"."""
    if isinstance(item, Group):
        return f"{position}. {item.name}({', '.join(s.name for s in item.steps if s.enabled)})"
    return f"{position}. {item.name}"


def ablation_arms(pipeline: dict[str, Any], *, singles: bool = False) -> tuple[Arm, ...]:
    """The full pipeline, each "without step i", and with ``singles`` each "only step i"."""
    parsed = from_dict(pipeline)
    items = [i for i in parsed.items if i.enabled and not (isinstance(i, Group) and not any(s.enabled for s in i.steps))]
    if not items:
        raise AugLabError("The pipeline has no enabled step to ablate.", hint="Add steps in the pipeline editor first.", field="pipeline")
    arms = [Arm(FULL_ARM, engine_dict(Pipeline(tuple(items), parsed.seed)))]
    for i, item in enumerate(items):
        label = step_label(i + 1, item)
        rest = Pipeline(tuple(items[:i] + items[i + 1:]), parsed.seed)
        if not rest.is_empty:  # a one-step pipeline without its step is the no-augmentation arm itself
            arms.append(Arm(f"without {label}", engine_dict(rest)))
        if singles and len(items) > 1:
            arms.append(Arm(f"only {label}", engine_dict(Pipeline((item,), parsed.seed))))
    return tuple(arms)


@dataclass(frozen=True)
class StepEffect:
    """What one step adds to the full pipeline."""

    step: str  # "2. Affine"
    effect: Difference | None  # full minus without this step, Holm-corrected over the steps (None: not finished)
    verdict: str  # "helps", "hurts", "makes no clear difference" or "not finished"


@dataclass
class AblationResult:
    """The multi-arm result plus each step's effect and a plain-words summary."""

    arms: ArmsResult  # every arm, its curves and the leaderboard
    steps: list[StepEffect]  # in pipeline order
    summary: str  # plain words


def step_effects(result: ArmsResult, *, confidence: float = 0.95) -> list[StepEffect]:
    """Each step's effect (full minus without it), Holm-corrected over the steps."""
    finals = result.finals()
    full = finals.get(FULL_ARM, [])
    full_arm = next(a for a in result.spec.arms if a.name == FULL_ARM)
    labels = [step_label(i + 1, item) for i, item in enumerate(from_dict(full_arm.pipeline).items)]
    evaluations = {name: [f.to_dict() for f in sorted(r.finals, key=lambda f: f.replicate)] for name, r in result.results.items()}
    pairs, images = [], []
    for label in labels:
        # a one-step pipeline without its step is the no-augmentation arm
        name = f"without {label}" if f"without {label}" in finals else NONE_ARM
        without = finals.get(name, [])
        n = min(len(full), len(without))
        pairs.append((without[:n], full[:n]))
        images.append((evaluations.get(name, [])[:n], evaluations.get(FULL_ARM, [])[:n]))
    diffs = holm_differences(pairs, confidence, images=images) if pairs else []
    out = []
    for label, d in zip(labels, diffs):
        if d.n == 0 or math.isnan(d.mean):
            out.append(StepEffect(label, None, "not finished"))
            continue
        verdict = ("helps" if d.mean > 0 else "hurts") if d.significant else "makes no clear difference"
        out.append(StepEffect(label, d, "cannot tell (at chance)" if d.cannot_tell else verdict))
    return out


def _summary(steps: list[StepEffect], confidence: float) -> str:
    if not steps:
        return "No step finished."
    words = []
    for s in steps:
        if s.effect is None:
            words.append(f"{s.step}: not finished")
        elif math.isnan(s.effect.ci_low):
            words.append(f"{s.step} {s.verdict} ({s.effect.mean:+.1f} points, one run: no interval)")
        else:
            words.append(f"{s.step} {s.verdict} ({s.effect.mean:+.1f} points, {s.effect.ci_low:+.1f} to {s.effect.ci_high:+.1f})")
    return (f"What each step adds to the full pipeline (full minus without it, Holm-corrected {confidence:.0%} "
            f"intervals over {len(steps)} steps): " + "; ".join(words) + ".")


def run_ablation(base: ExperimentSpec, pipeline: dict[str, Any] | None = None, *, singles: bool = False,
                 executor: Executor | None = None, dataset: Any = None, on_epoch: ArmEpochCallback | None = None,
                 cancel: threading.Event | None = None) -> AblationResult:
    """Ablate ``pipeline`` (default: ``base.pipeline``) under ``base``'s settings.

    Raises:
        AugLabError: no pipeline, or one without enabled steps.
    """
    pipeline = pipeline if pipeline is not None else base.pipeline
    if pipeline is None:
        raise AugLabError("There is no pipeline to ablate.", hint="Compose one in the pipeline editor first.", field="pipeline")
    spec = ArmsSpec(replace(base, name=f"ablation: {base.name}"), ablation_arms(pipeline, singles=singles))
    arms = run_arms(spec, executor=executor, dataset=dataset, on_epoch=on_epoch, cancel=cancel)
    steps = step_effects(arms)
    return AblationResult(arms, steps, _summary(steps, 0.95))
