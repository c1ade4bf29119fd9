"""Bounds: what the schema says a parameter accepts, and the one check files, links and specs get.

:func:`range_bounds` reads a pydantic field's public metadata (``annotated_types`` constraints
and albumentations' range validators); :func:`derive_params` turns it into widget bounds.
:func:`out_of_bounds` checks constructor arguments against those widget bounds: it is the one
bounds check shared by the widgets, the importer, share links and the experiment spec, so a file
or a link can never ask for more than a slider can.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import annotated_types
from pydantic import AfterValidator

if TYPE_CHECKING:
    from augment_core.transforms.params import ParamSpec

# Hidden parameters that count pixels: a file may set them, within the importer's pixel limit.
HIDDEN_PIXEL_COUNTS = frozenset({"px", "translate_px", "max_size_hw", "pad_height_divisor", "pad_width_divisor"})

# albumentations' ``check_range_bounds`` validators say their bounds only in their error message
# ("All values in (-inf,) must be >= 0 and <= 1"), which is part of the library's public
# behaviour; probing the validator with -inf and +inf reads both ends without touching closures.
_BOUNDS_MESSAGE = re.compile(r"must be (>=|>) (\S+?)(?: and (<=|<) (\S+?))?$")


def _probe_bounds(func: Any) -> tuple[float | None, float | None, bool, bool] | None:
    """Bounds of a range validator, read from what it says about (-inf,) and (+inf,)."""
    low = high = None
    low_open = high_open = False
    found = False
    for probe in (float("-inf"), float("inf")):
        try:
            func((probe,))
        except ValueError as exc:
            match = _BOUNDS_MESSAGE.search(str(exc).strip())
            if match is None:
                continue
            found = True
            low, low_open = float(match.group(2)), match.group(1) == ">"
            if match.group(4) is not None:
                high, high_open = float(match.group(4)), match.group(3) == "<"
        except Exception:  # noqa: BLE001 - a validator of another shape: it says nothing about bounds
            return None
    return (low, high, low_open, high_open) if found else None


def range_bounds(field: Any) -> tuple[float | None, float | None, bool, bool]:
    """Bounds from the field's public metadata: ``annotated_types`` constraints and range validators.

    ``Ge``/``Gt``/``Le``/``Lt`` are read as such; an ``AfterValidator`` is asked about -inf/+inf
    (see :func:`_probe_bounds`); ``process_non_negative_range`` means the low end is 0.
    Returns (low, high, low_exclusive, high_exclusive); exclusive ends are moved in by one step later.
    """
    low = high = None
    low_open = high_open = False
    for meta in getattr(field, "metadata", ()):
        if isinstance(meta, (annotated_types.Ge, annotated_types.Gt)):
            value = meta.ge if isinstance(meta, annotated_types.Ge) else meta.gt
            if isinstance(value, (int, float)):
                low, low_open = value, isinstance(meta, annotated_types.Gt)
        elif isinstance(meta, (annotated_types.Le, annotated_types.Lt)):
            value = meta.le if isinstance(meta, annotated_types.Le) else meta.lt
            if isinstance(value, (int, float)):
                high, high_open = value, isinstance(meta, annotated_types.Lt)
        elif isinstance(meta, annotated_types.Interval):
            for attr, value in (("ge", meta.ge), ("gt", meta.gt), ("le", meta.le), ("lt", meta.lt)):
                if isinstance(value, (int, float)):
                    if attr in ("ge", "gt"):
                        low, low_open = value, attr == "gt"
                    else:
                        high, high_open = value, attr == "lt"
        elif isinstance(meta, AfterValidator):
            if getattr(meta.func, "__name__", "") == "process_non_negative_range":
                low, low_open = 0, False
                continue
            probed = _probe_bounds(meta.func)
            if probed is not None:
                p_low, p_high, low_open, p_high_open = probed
                low = int(p_low) if p_low is not None and p_low.is_integer() else p_low
                if p_high is not None:
                    high, high_open = (int(p_high) if p_high.is_integer() else p_high), p_high_open
    return low, high, low_open, high_open


def _numbers(value: Any) -> list[float]:
    """Every number inside ``value`` (tuples, lists, ``{"x": …, "y": …}`` dicts); booleans are not numbers."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (tuple, list)):
        return [n for v in value for n in _numbers(v)]
    return []


def out_of_bounds(specs: tuple[ParamSpec, ...], args: dict[str, Any], hidden_limit: float | None = None) -> list[str]:
    """Plain-words problems with constructor ``args`` that a widget of ``specs`` could not show.

    This is the one bounds check shared by the widgets, the importer, share links and the
    experiment spec: a file or a link can never ask for more than a slider can. Every number
    must be finite; numbers of a range, number or pair widget must lie within its low..high;
    colour channels within 0..255. Hidden parameters have no widget; with ``hidden_limit``
    those that count pixels (:data:`HIDDEN_PIXEL_COUNTS`: CropAndPad's ``px``, Affine's
    ``translate_px``) must lie within ±``hidden_limit``; others keep albumentations' validation.

    Example:
        >>> out_of_bounds(derive_params(A.GaussianBlur), {"blur_limit": (3, 99999)})  # doctest: +SKIP
        ['blur_limit 99999 is outside the allowed 0 to 31']
    """
    problems: list[str] = []
    by_name = {spec.name: spec for spec in specs}
    for name, value in args.items():
        numbers = _numbers(value)
        if any(not math.isfinite(n) for n in numbers):
            problems.append(f"{name} must be a finite number, not {value!r}")
            continue
        spec = by_name.get(name)
        if spec is None or spec.hidden:
            if hidden_limit is not None and name in HIDDEN_PIXEL_COUNTS and any(abs(n) > hidden_limit for n in numbers):
                problems.append(f"{name} {value!r} is outside the allowed -{hidden_limit:g} to {hidden_limit:g}")
            continue
        if spec.kind == "color":
            low, high = 0.0, 255.0
        elif spec.kind in ("range", "number", "pair") and spec.low is not None and spec.high is not None:
            low, high = float(spec.low), float(spec.high if spec.accept_high is None else spec.accept_high)
        else:
            continue
        bad = [n for n in numbers if not low <= n <= high]
        if bad:
            shown = int(bad[0]) if float(bad[0]).is_integer() else bad[0]
            problems.append(f"{name} {shown} is outside the allowed {low:g} to {high:g}")
    return problems
