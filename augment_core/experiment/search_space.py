"""What a search may try: three spaces of pipelines, with the presets' label-safety rules applied.

* ``presets``: one of the pipeline presets that are safe for the kind of data (RandAugment-style
  with its N and M searched too).
* ``families``: any subset of one operation per catalog family (geometry, colour, noise and
  blur, occlusion), each with its own probability and magnitude (0..1 of its strongest form).
* ``around``: the user's pipeline, each top-level step with its probability and a magnitude
  scale (0.25..2×, ranges widened or narrowed about their middle).

Label safety is applied *before* the search: an operation or preset that the rules of
:mod:`augment_core.pipelines.presets` flag for the kind of data is left out (no flips on digits),
and an operation whose strongest form is unsafe has its magnitude capped at the strongest safe
one (rotations on digits stay within 30°). A candidate that still breaks a rule is never trained.

Each space is a function ``(trial) -> Pipeline`` over Optuna's ``trial.suggest_*``; the same
parameters always give the same pipeline, so a stored trial can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from augment_core.errors import AugLabError
from augment_core.pipelines.io import from_dict
from augment_core.pipelines.model import Group, Pipeline, Step, normalise
from augment_core.pipelines.presets import create_pipeline_preset, get_pipeline_preset, label_warnings, list_pipeline_presets

SPACES: dict[str, str] = {
    "presets": "Presets only: which preset suits this data (and RandAugment's N and M).",
    "families": "Catalog families: which operations, each with its own probability and strength.",
    "around": "Around my pipeline: each step's probability and strength, scaled 0.25–2×.",
}
_FILL = {"border_mode": 0, "fill": 0}
_NO_MAGNITUDE = frozenset({"flip", "channels"})  # on or off: only their probability is searched
_CAPS = (1.0, 0.75, 0.5, 0.3, 0.2, 0.15, 0.1)  # magnitudes tried, strongest first, when capping an unsafe operation


def _op(name: str, build: Callable[[float], dict[str, Any]]) -> Callable[[float, float], Step]:
    return lambda m, p: normalise(Step(name, build(m), p=p))


# One operation per family member; magnitude m in 0..1 of its strongest form.
OPERATIONS: dict[str, Callable[[float, float], Step]] = {
    "flip": _op("HorizontalFlip", lambda m: {}),
    "rotate": _op("Affine", lambda m: {"rotate": (-180 * m, 180 * m), **_FILL}),
    "shift": _op("Affine", lambda m: {"translate_percent": (-0.3 * m, 0.3 * m), **_FILL}),
    "zoom": _op("Affine", lambda m: {"scale": (1 - 0.4 * m, 1 + 0.4 * m), **_FILL}),
    "colour": _op("ColorJitter", lambda m: {"brightness": (1 - 0.5 * m, 1 + 0.5 * m), "contrast": (1 - 0.5 * m, 1 + 0.5 * m),
                                            "saturation": (1 - 0.8 * m, 1 + 0.8 * m), "hue": (-0.5 * m, 0.5 * m)}),
    "channels": _op("ChannelShuffle", lambda m: {}),
    "noise": _op("GaussNoise", lambda m: {"std_range": (0.01, 0.01 + 0.15 * m)}),
    "blur": _op("GaussianBlur", lambda m: {"sigma_limit": (0.1, 0.1 + 1.9 * m)}),
    "dropout": _op("CoarseDropout", lambda m: {"num_holes_range": (1, 1 + round(7 * m)),
                                               "hole_height_range": (0.05, 0.05 + 0.2 * m), "hole_width_range": (0.05, 0.05 + 0.2 * m)}),
}


def _safe(pipeline: Pipeline, data_kind: str) -> bool:
    return not label_warnings(pipeline, data_kind)


def safe_operations(data_kind: str) -> dict[str, float]:
    """Operation name -> the strongest safe magnitude for ``data_kind`` (unsafe ones left out)."""
    out = {}
    for name, make in OPERATIONS.items():
        cap = next((m for m in _CAPS if _safe(Pipeline((make(m, 1.0),)), data_kind)), None)
        if cap is not None:
            out[name] = cap
    return out


def safe_presets(data_kind: str) -> list[str]:
    """Presets with no label warning for ``data_kind`` (RandAugment-style checked at its strongest)."""
    out = []
    for name in list_pipeline_presets():
        options = {k: hi for k, (_, hi, _) in get_pipeline_preset(name).options.items()}
        if _safe(create_pipeline_preset(name, **options), data_kind):
            out.append(name)
    return out


def scale_args(args: dict[str, Any], factor: float) -> dict[str, Any]:
    """Widen or narrow every numeric (low, high) range about its middle; non-negative ranges stay non-negative."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                and value[0] < value[1]):
            mid, half = (value[0] + value[1]) / 2, (value[1] - value[0]) / 2 * factor
            low, high = mid - half, mid + half
            if value[0] >= 0:
                low = max(0.0, low)
            if all(isinstance(v, int) for v in value):
                low, high = round(low), max(round(low) + 1, round(high))
            out[key] = (low, high)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Space:
    """A search space ready for Optuna: how to build a candidate from a trial."""

    name: str  # presets, families or around
    data_kind: str  # label-safety rules applied
    choices: tuple[str, ...]  # presets, operations or step labels the space draws on
    build: Callable[[Any], Pipeline]  # trial -> candidate pipeline (uses trial.suggest_*)


def create_space(name: str, data_kind: str, pipeline: dict[str, Any] | None = None) -> Space:
    """The space ``name`` for ``data_kind`` (``around`` needs the user's ``pipeline``).

    Raises:
        AugLabError: unknown space, nothing safe left to search, or an unsafe or missing pipeline.
    """
    if name == "presets":
        names = safe_presets(data_kind)
        if not names:
            raise AugLabError(f"No preset is label-safe for “{data_kind}”, so there is nothing to search.", field="space")

        def build_preset(trial: Any) -> Pipeline:
            chosen = trial.suggest_categorical("preset", names)
            if get_pipeline_preset(chosen).options:
                return create_pipeline_preset(chosen, n=trial.suggest_int("n", 1, 3), m=trial.suggest_int("m", 0, 30))
            return create_pipeline_preset(chosen)

        return Space(name, data_kind, tuple(names), build_preset)
    if name == "families":
        caps = safe_operations(data_kind)
        if not caps:
            raise AugLabError(f"No operation is label-safe for “{data_kind}”.", field="space")

        def build_families(trial: Any) -> Pipeline:
            steps = []
            for op, cap in caps.items():
                if trial.suggest_categorical(f"{op}", [False, True]):
                    p = trial.suggest_float(f"{op}.p", 0.1, 1.0)
                    m = cap if op in _NO_MAGNITUDE else trial.suggest_float(f"{op}.m", 0.05 * cap, cap)
                    steps.append(OPERATIONS[op](m, p))
            return Pipeline(tuple(steps))

        return Space(name, data_kind, tuple(caps), build_families)
    if name == "around":
        if pipeline is None:
            raise AugLabError("“Around my pipeline” needs a pipeline; compose one in the editor first.", field="pipeline")
        mine = from_dict(pipeline)
        if mine.is_empty:
            raise AugLabError("Your pipeline has no enabled step to search around.", field="pipeline")
        unsafe = label_warnings(mine, data_kind)
        if unsafe:
            raise AugLabError(f"Your pipeline is not label-safe for “{data_kind}”: {unsafe[0].message}",
                              hint="Remove or change that step first, or choose another kind of data.", field="pipeline")
        items = [i for i in mine.items if i.enabled]

        def build_around(trial: Any) -> Pipeline:
            out = []
            for k, item in enumerate(items):
                p = trial.suggest_float(f"step{k + 1}.p", 0.0, 1.0)
                scale = trial.suggest_float(f"step{k + 1}.scale", 0.25, 2.0, log=True)
                if isinstance(item, Group):
                    out.append(Group(item.kind, tuple(normalise(Step(s.name, scale_args(s.args, scale), p=s.p)) for s in item.steps),
                                     p=p, n=item.n, replace=item.replace))
                else:
                    out.append(normalise(Step(item.name, scale_args(item.args, scale), p=p)))
            return Pipeline(tuple(out), mine.seed)

        return Space(name, data_kind, tuple(i.name for i in items), build_around)
    raise AugLabError(f"Unknown search space “{name}”.", hint=f"Choose one of: {', '.join(SPACES)}.", field="space")
