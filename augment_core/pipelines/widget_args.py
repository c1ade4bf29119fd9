"""Widget values that show a step's arguments: the inverse of :func:`augment_core.transforms.params.to_kwargs`.

The pipeline editor draws a step with the same sliders as the Playground; an imported or linked
step may hold values no slider can show, and those are reported so the editor keeps them as
they are until the user moves their widget.
"""

from __future__ import annotations

from typing import Any

from augment_core.pipelines.model import Step
from augment_core.transforms import catalog
from augment_core.transforms.params import ParamSpec


def _clamp(value: float, spec: ParamSpec) -> float:
    low = spec.low if spec.low is not None else value
    high = spec.high if spec.high is not None else value
    number = min(max(float(value), float(low)), float(high))
    return int(round(number)) if spec.integer else number


def widget_values(step: Step, image_size: tuple[int, int] = (512, 512)) -> tuple[dict[str, Any], list[str]]:
    """Widget values that show ``step.args`` (the inverse of :func:`params.to_kwargs`).

    Returns the values and the names of arguments a widget cannot show exactly (outside the
    slider's range, or in a form such as a dict that has no widget). The editor keeps those
    arguments as they are until the user moves their widget.
    """
    values: dict[str, Any] = {}
    inexact: list[str] = []
    for spec in catalog.get_transform(step.name).visible_params(image_size):
        if spec.name not in step.args:
            continue
        raw = step.args[spec.name]
        if isinstance(raw, dict) and set(raw) == {"x", "y"} and raw["x"] == raw["y"]:
            raw = raw["x"]  # Affine spells (a, b) as {"x": (a, b), "y": (a, b)} once validated
        try:
            if spec.kind in ("range", "pair"):
                pair = (-abs(raw), abs(raw)) if isinstance(raw, (int, float)) and spec.kind == "range" else (
                    (raw, raw) if isinstance(raw, (int, float)) else tuple(raw))
                if len(pair) != 2:
                    raise ValueError(spec.name)
                value: Any = tuple(_clamp(v, spec) for v in pair)
                exact = all(float(a) == float(b) for a, b in zip(value, pair))
            elif spec.kind == "number":
                value = _clamp(raw, spec)
                exact = float(value) == float(raw)
            elif spec.kind == "color":
                rgb = raw if isinstance(raw, (tuple, list)) else (raw,) * 3
                value = tuple(int(round(float(v))) for v in rgb[:3])
                exact = len(rgb) == 3 and all(float(a) == float(b) for a, b in zip(value, rgb))
            elif spec.kind == "select":
                exact = raw in spec.options
                value = raw if exact else spec.default
            else:
                value, exact = bool(raw), isinstance(raw, bool)
        except (TypeError, ValueError):
            value, exact = spec.default, False
        values[spec.name] = value
        if not exact:
            inexact.append(spec.name)
    return values, inexact
