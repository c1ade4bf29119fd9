"""Parameter specs for widgets, derived from each transform's pydantic ``InitSchema``.

The schema and ``__init__`` signature say the type, the default and, often, the bounds
(``Ge``/``Le`` constraints, albumentations' ``check_range_bounds`` validators). What they do not
say (sensible slider bounds for unbounded numbers, OpenCV's integer codes as words, parameters
that only make sense with masks or boxes) lives in one curated table, :data:`OVERRIDES`.

A :class:`ParamSpec` is plain data: a page turns it into a widget, a test into min/max values.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal

from augment_core.transforms.bounds import range_bounds

Kind = Literal["range", "number", "select", "bool", "color", "pair"]

# OpenCV's integer codes, once: (label a widget shows, cv2 constant a code snippet writes).
OPENCV_CODES: dict[str, dict[int, tuple[str, str]]] = {
    "interpolation": {0: ("nearest", "cv2.INTER_NEAREST"), 1: ("linear", "cv2.INTER_LINEAR"), 2: ("cubic", "cv2.INTER_CUBIC"),
                      3: ("area", "cv2.INTER_AREA"), 4: ("lanczos", "cv2.INTER_LANCZOS4"), 5: ("linear (exact)", "cv2.INTER_LINEAR_EXACT"),
                      6: ("nearest (exact)", "cv2.INTER_NEAREST_EXACT")},
    "border_mode": {0: ("constant (fill colour)", "cv2.BORDER_CONSTANT"), 1: ("replicate edge", "cv2.BORDER_REPLICATE"),
                    2: ("reflect", "cv2.BORDER_REFLECT"), 3: ("wrap around", "cv2.BORDER_WRAP"), 4: ("reflect (no edge repeat)", "cv2.BORDER_REFLECT_101")},
}
INTERPOLATION_LABELS = {code: label for code, (label, _) in OPENCV_CODES["interpolation"].items()}
BORDER_LABELS = {code: label for code, (label, _) in OPENCV_CODES["border_mode"].items()}
_CODE_LABELS = {"interpolation": INTERPOLATION_LABELS, "border_mode": BORDER_LABELS}

# Parameters that only matter for masks, boxes or keypoints, or that take Python objects:
# the single-image playground leaves them at albumentations' default.
HIDDEN = frozenset({
    "mask_interpolation", "fill_mask", "rotate_method", "keypoint_remapping_method", "mask_indices",
    "bbox_labels", "mask", "mask_params", "max_size_hw", "translate_px", "interpolation_pair",
    "noise_params", "metadata_key", "shift_limit_x", "shift_limit_y", "mask_drop_value", "area_for_downscale",
})

# Two-number parameters that are a pair of sizes (height, width), not a (min, max) range.
PAIRS = {
    "size": ("height", "width"), "tile_grid_size": ("rows", "columns"), "grid": ("rows", "columns"),
    "num_grid_xy": ("cells across", "cells down"), "shift_xy": ("shift x", "shift y"),
}

_DROPOUT_FILL = {0: "black", 128: "grey", 255: "white", "random": "random noise", "random_uniform": "random colour", "inpaint_telea": "inpaint (Telea)", "inpaint_ns": "inpaint (Navier-Stokes)"}

# The curated table: what the schema does not say. Keys are "param" (every transform) or
# "Transform.param" (one transform, wins over the plain key). Values replace ParamSpec fields;
# callables take the preview image's (height, width) for sizes that depend on the image.
OVERRIDES: dict[str, dict[str, Any]] = {
    "limit": {"low": -180, "high": 180, "step": 1},
    "rotate_limit": {"low": -180, "high": 180, "step": 1},
    "blur_limit": {"low": 3, "high": 31, "step": 2},
    "GaussianBlur.blur_limit": {"low": 0, "high": 31, "step": 1, "help": "Kernel size; 0 means it is computed from sigma."},
    "sigma_limit": {"low": 0.0, "high": 10.0, "step": 0.1},
    "UnsharpMask.sigma_limit": {"low": 0.0, "high": 10.0, "step": 0.1},
    "ColorJitter.brightness": {"low": 0.0, "high": 3.0}, "ColorJitter.contrast": {"low": 0.0, "high": 3.0},
    "ColorJitter.saturation": {"low": 0.0, "high": 3.0}, "ColorJitter.hue": {"low": -0.5, "high": 0.5},
    "hue_shift_limit": {"low": -180, "high": 180, "step": 1}, "sat_shift_limit": {"low": -100, "high": 100, "step": 1},
    "val_shift_limit": {"low": -100, "high": 100, "step": 1},
    "r_shift_limit": {"low": -128, "high": 128, "step": 1}, "g_shift_limit": {"low": -128, "high": 128, "step": 1},
    "b_shift_limit": {"low": -128, "high": 128, "step": 1},
    "brightness_limit": {"low": -1.0, "high": 1.0}, "contrast_limit": {"low": -1.0, "high": 1.0},
    "Affine.scale": {"low": 0.25, "high": 2.5, "step": 0.05}, "Affine.rotate": {"low": -180, "high": 180, "step": 1, "default": (0.0, 0.0)},
    "Affine.shear": {"low": -45, "high": 45, "step": 1},
    "Affine.translate_percent": {"kind": "range", "low": -0.5, "high": 0.5, "default": (0.0, 0.0), "step": 0.01},
    "shift_limit": {"low": -0.5, "high": 0.5, "step": 0.01}, "scale_limit": {"low": -0.5, "high": 1.0, "step": 0.01},
    "distort_limit": {"low": -0.95, "high": 1.0},  # -1 collapses a grid cell to zero width
    "Perspective.scale": {"low": 0.0, "high": 0.3, "step": 0.01},
    "PiecewiseAffine.scale": {"low": 0.0, "high": 0.1, "step": 0.005}, "nb_rows": {"low": 2, "high": 10}, "nb_cols": {"low": 2, "high": 10},
    "ElasticTransform.alpha": {"low": 0.0, "high": 300.0, "step": 1.0}, "ElasticTransform.sigma": {"low": 1.0, "high": 100.0, "step": 1.0},
    "clip_limit": {"low": 1.0, "high": 40.0, "step": 0.5}, "tile_grid_size": {"low": 1, "high": 32},
    "grid": {"low": 1, "high": 10}, "num_steps": {"low": 1, "high": 20},
    "GridElasticDeform.num_grid_xy": {"low": 2, "high": 16, "default": (4, 4)},
    "GridElasticDeform.magnitude": {"low": 1, "high": 50, "default": 10},
    "border_mode": {"kind": "select"},
    "ShiftScaleRotate.border_mode": {"kind": "select", "options": tuple(BORDER_LABELS), "labels": tuple(BORDER_LABELS.values())},
    "num_bits": {"kind": "number", "low": 1, "high": 8, "step": 1, "integer": True, "default": 4},
    "multiplier": {"low": 0.0, "high": 3.0}, "gamma_limit": {"low": 20, "high": 300, "step": 1},
    "max_factor": {"low": 1.0, "high": 3.0}, "step_factor": {"low": 0.005, "high": 0.2, "step": 0.005},
    "FancyPCA.alpha": {"low": 0.0, "high": 2.0}, "max_delta": {"low": 1, "high": 20},
    "iterations": {"low": 1, "high": 5}, "radius": {"low": 1, "high": 30}, "alias_blur": {"low": 0.0, "high": 2.0},
    "sigma_x_limit": {"low": 0.1, "high": 5.0}, "sigma_y_limit": {"low": 0.1, "high": 5.0},
    "beta_limit": {"low": 0.5, "high": 8.0}, "noise_limit": {"low": 0.5, "high": 1.5},
    "AdvancedBlur.rotate_limit": {"low": -90, "high": 90},
    "kernel_size": {"low": 3, "high": 15, "step": 2}, "Sharpen.sigma": {"low": 0.1, "high": 5.0}, "lightness": {"low": 0.0, "high": 2.0},
    "Emboss.strength": {"low": 0.0, "high": 2.0}, "threshold": {"low": 0, "high": 255},
    "ISONoise.intensity": {"low": 0.0, "high": 2.0},
    "n_segments": {"low": 2, "high": 500}, "Superpixels.max_size": {"low": 16, "high": 512, "step": 16},
    "num_masks_x": {"low": 0, "high": 10, "default": (1, 3)}, "num_masks_y": {"low": 0, "high": 10, "default": (0, 2)},
    "num_holes_range": {"low": 1, "high": 20}, "hole_height_range": {"low": 0.01, "high": 1.0},
    "hole_width_range": {"low": 0.01, "high": 1.0}, 
    "channel_drop_range": {"low": 1, "high": 2}, "ChannelDropout.fill": {"kind": "number", "low": 0, "high": 255, "step": 1},
    "drop_value": {"kind": "number", "low": 0, "high": 255, "step": 1, "integer": True},
    "plasma_size": {"low": 16, "high": 512, "step": 16}, "roughness": {"low": 0.1, "high": 10.0},
    "brightness_coeff": {"low": 0.1, "high": 5.0}, "drop_width": {"low": 1, "high": 5}, "blur_value": {"low": 1, "high": 15},
    "src_radius": {"low": 2, "high": 800, "step": 2}, "num_flare_circles_range": {"low": 1, "high": 20},
    "number_of_patches": {"low": 1, "high": 10}, "num_shadows_limit": {"low": 1, "high": 5}, "shadow_dimension": {"low": 3, "high": 10},
    "Spatter.gauss_sigma": {"low": 0.5, "high": 5.0}, "num_output_channels": {"hidden": True},
    "Morphological.scale": {"low": 1, "high": 10},
    "RandomGridShuffle.grid": {"low": 1, "high": 8},
    "noise_scale_factor": {"low": 0.05, "high": 1.0},
    "RandomCrop.height": {"low": 1, "high": lambda h, w: h, "default": lambda h, w: max(1, round(h * 0.75))},
    "RandomCrop.width": {"low": 1, "high": lambda h, w: w, "default": lambda h, w: max(1, round(w * 0.75))},
    "CenterCrop.height": {"low": 1, "high": lambda h, w: h, "default": lambda h, w: max(1, round(h * 0.75))},
    "CenterCrop.width": {"low": 1, "high": lambda h, w: w, "default": lambda h, w: max(1, round(w * 0.75))},
    # Crop corners: the left/top corner stays in the first half, the right/bottom one in the second,
    # so no single slider can produce an empty crop (albumentations would refuse it).
    "Crop.x_min": {"low": 0, "high": lambda h, w: w // 2 - 1, "default": lambda h, w: w // 8},
    "Crop.y_min": {"low": 0, "high": lambda h, w: h // 2 - 1, "default": lambda h, w: h // 8},
    "Crop.x_max": {"low": lambda h, w: w // 2, "high": lambda h, w: w, "default": lambda h, w: w - w // 8},
    "Crop.y_max": {"low": lambda h, w: h // 2, "high": lambda h, w: h, "default": lambda h, w: h - h // 8},
    "Resize.height": {"low": 8, "high": lambda h, w: 2 * h, "default": lambda h, w: h // 2},
    "Resize.width": {"low": 8, "high": lambda h, w: 2 * w, "default": lambda h, w: w},
    "RandomResizedCrop.size": {"low": 8, "high": lambda h, w: max(h, w), "default": lambda h, w: (h, w)},
    "RandomSizedCrop.size": {"low": 8, "high": lambda h, w: max(h, w), "default": lambda h, w: (h, w)},
    "RandomSizedCrop.w2h_ratio": {"low": 0.2, "high": 5.0, "step": 0.05},
    "RandomSizedCrop.min_max_height": {"integer": True, "step": 1, "low": 8, "high": lambda h, w: h, "default": lambda h, w: (max(1, h // 2), h)},
    "LongestMaxSize.max_size": {"kind": "number", "integer": True, "low": 8, "high": lambda h, w: 2 * max(h, w), "default": lambda h, w: max(8, max(h, w) // 2), "step": 1},
    "SmallestMaxSize.max_size": {"kind": "number", "integer": True, "low": 8, "high": lambda h, w: 2 * max(h, w), "default": lambda h, w: max(8, min(h, w) // 2), "step": 1},
    "PadIfNeeded.min_height": {"low": 1, "high": lambda h, w: 2 * h, "default": lambda h, w: round(h * 1.25)},
    "PadIfNeeded.min_width": {"low": 1, "high": lambda h, w: 2 * w, "default": lambda h, w: round(w * 1.25)},
    "pad_height_divisor": {"hidden": True}, "pad_width_divisor": {"hidden": True},
    "Pad.padding": {"kind": "number", "integer": True, "low": 0, "high": lambda h, w: max(h, w) // 2, "default": lambda h, w: max(1, max(h, w) // 10), "step": 1},
    "CropAndPad.percent": {"kind": "range", "low": -0.5, "high": 0.5, "default": (-0.1, 0.1), "step": 0.01},
    "px": {"hidden": True},
    "CLAHE.clip_limit": {"low": 1.0, "high": 40.0, "step": 0.5, "default": (1.0, 4.0)},
    "RandomResizedCrop.ratio": {"low": 0.1, "high": 10.0, "step": 0.05},
    "Downscale.scale_range": {"low": 0.05, "high": 1.0}, "GlassBlur.sigma": {"low": 0.1, "high": 5.0},
    "ShotNoise.scale_range": {"low": 0.01, "high": 1.0},
    # A single 8 is refused by albumentations, but 8 bits (the image unchanged) is a valid end of a
    # range, which files use (TrivialAugment draws 4..8): files and links may go one further.
    "Posterize.num_bits": {"high": 7, "accept_high": 8},
    # Erasing crashes in albumentations 2.0.8 when no hole of the drawn area fits the aspect-ratio
    # range; up to a fifth of the image it always fits. Previews report any remaining failure.
    "Erasing.scale": {"low": 0.01, "high": 0.2, "default": (0.02, 0.2)}, "Erasing.ratio": {"low": 0.3, "high": 3.3},
    "GaussianBlur.sigma_limit": {"low": 0.1, "high": 10.0, "step": 0.1}, "RingingOvershoot.cutoff": {"low": 0.1},
    "freq_mask_param": {"low": 1, "high": lambda h, w: h}, "time_mask_param": {"low": 1, "high": lambda h, w: w},
    "mask_x_length": {"low": 0, "high": lambda h, w: w, "default": lambda h, w: (w // 16, w // 4)},
    "mask_y_length": {"low": 0, "high": lambda h, w: h, "default": lambda h, w: (h // 16, h // 4)},
    "ChromaticAberration.interpolation": {"options": (0, 1, 2, 3, 4), "labels": tuple(INTERPOLATION_LABELS[i] for i in range(5))},
    "crop_left": {"high": 0.5}, "crop_right": {"high": 0.5}, "crop_top": {"high": 0.5}, "crop_bottom": {"high": 0.5},
}


@dataclass(frozen=True)
class ParamSpec:
    """How one constructor argument is shown and sampled.

    ``default`` is in widget form: a ``(low, high)`` tuple for ranges and pairs, a value for numbers,
    booleans and selects, an ``(r, g, b)`` tuple for colours.
    """

    name: str  # constructor argument
    kind: Kind  # which widget
    default: Any  # the value the widget starts at
    help: str = ""  # plain-words tooltip, from the docstring's Args section
    low: float | None = None  # slider minimum (range, number, pair)
    high: float | None = None  # slider maximum
    step: float | None = None  # slider step
    integer: bool = False  # whole numbers only
    options: tuple[Any, ...] = ()  # select values, as albumentations takes them
    labels: tuple[str, ...] = ()  # select labels, same order as ``options``
    parts: tuple[str, str] = ("min", "max")  # names of a pair's two numbers
    hidden: bool = False  # left at albumentations' default, not shown
    accept_high: float | None = None  # largest value a file or link may hold, when above ``high``

    @property
    def label(self) -> str:
        """Human label: ``std_range`` -> ``Std range``."""
        return self.name.replace("_", " ").capitalize()


def _args_help(doc: str | None) -> dict[str, str]:
    """First sentence of each argument's description in a Google-style docstring."""
    helps: dict[str, str] = {}
    if not doc or "Args:" not in doc:
        return helps
    section = doc.split("Args:", 1)[1]
    section = re.split(r"\n\s*(Targets|Image types|Returns|Note|Notes|Examples|References|Raises|Number of channels)\s*:", section)[0]
    for match in re.finditer(r"^\s{4,12}(\w+)\s*(\([^\n]*?\))?\s*:\s*(.+?)(?=^\s{4,12}\w+\s*(\([^\n]*?\))?\s*:|\Z)", section, re.S | re.M):
        text = " ".join(match.group(3).split())
        sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        helps.setdefault(match.group(1), sentence[:300])
    return helps


def _flatten(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for part in typing.get_args(annotation) for a in _flatten(part)]
    return [annotation]


def _classify(name: str, annotation: Any, default: Any) -> tuple[Kind | None, dict[str, Any]]:
    """Pick a widget kind from the annotation; ``None`` when no widget fits."""
    parts = _flatten(annotation)
    literals = [a for a in parts if typing.get_origin(annotation) is Literal or typing.get_origin(a) is Literal]
    if typing.get_origin(annotation) is Literal:
        literals = [annotation]
    if literals and all(typing.get_origin(a) is Literal or a is type(None) for a in parts):
        options = tuple(v for lit in literals for v in typing.get_args(lit))
        if type(None) in parts or (default is None and None not in options):
            options = (None, *options)
        codes = _CODE_LABELS.get("interpolation" if "interpolation" in name else name, {})
        labels = tuple(codes.get(v, "none" if v is None else str(v).replace("_", " ")) if isinstance(v, (int, type(None))) else str(v).replace("_", " ") for v in options)
        return "select", {"options": options, "labels": labels}
    if bool in parts and all(a in (bool, type(None)) for a in parts):
        return "bool", {}
    if name == "fill" and isinstance(default, (int, float)):
        if any(typing.get_origin(a) is Literal for a in parts):
            return "select", {"options": tuple(_DROPOUT_FILL), "labels": tuple(_DROPOUT_FILL.values())}
        return "color", {}
    tuples = [a for a in parts if typing.get_origin(a) is tuple]
    if any(len(typing.get_args(t)) == 3 and typing.get_args(t)[0] is int for t in tuples) or name in {"src_color", "drop_color"}:
        return "color", {}
    pairs = [t for t in tuples if len(typing.get_args(t)) == 2 and all(a in (int, float) for a in typing.get_args(t))]
    if pairs:
        integer = all(a is int for t in pairs for a in typing.get_args(t)) or (
            int in parts and float not in parts and all(a is int for a in typing.get_args(pairs[0]))
        )
        return ("pair" if name in PAIRS else "range"), {"integer": integer}
    if default is None:
        return None, {}
    if int in parts and isinstance(default, int) and not isinstance(default, bool):
        return "number", {"integer": True}
    if float in parts and isinstance(default, (int, float)):
        return "number", {}
    return None, {}


def _fallback_bounds(default: Any, integer: bool) -> tuple[float, float]:
    values = [abs(float(v)) for v in (default if isinstance(default, (tuple, list)) else (default,))]
    top = max(values + [0.0])
    high = top * 2 if top > 0 else 1.0
    negative = any(float(v) < 0 for v in (default if isinstance(default, (tuple, list)) else (default,)))
    return (-high if negative else 0.0, math.ceil(high) if integer else high)


def _nice_step(low: float, high: float) -> float:
    span = (high - low) / 50 or 0.01
    exponent = math.floor(math.log10(span))
    return float(f"{10 ** exponent:.10g}")


def _widget_default(kind: Kind, default: Any) -> Any:
    if kind in ("range", "pair"):
        if isinstance(default, (int, float)):
            return (-abs(default), abs(default)) if kind == "range" else (default, default)
        return tuple(default)
    if kind == "color":
        values = default if isinstance(default, (tuple, list)) else (default,) * 3
        return tuple(int(round(float(v))) for v in values[:3])
    return default


def derive_params(cls: type, image_size: tuple[int, int] = (512, 512)) -> tuple[ParamSpec, ...]:
    """ParamSpecs for every constructor argument of ``cls`` except ``p`` and ``strict``.

    Args:
        cls: An albumentations transform class.
        image_size: (height, width) of the image being previewed; sizes of crops and resizes
            get defaults and bounds relative to it.
    """
    height, width = image_size
    signature = inspect.signature(cls.__init__)
    fields = cls.InitSchema.model_fields if hasattr(cls, "InitSchema") else {}
    helps = _args_help(cls.__doc__)
    specs: list[ParamSpec] = []
    for name, param in signature.parameters.items():
        if name in ("self", "p", "strict", "always_apply") or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        override = {**OVERRIDES.get(name, {}), **OVERRIDES.get(f"{cls.__name__}.{name}", {})}
        override = {k: (v(height, width) if callable(v) else v) for k, v in override.items()}
        default = override.pop("default", None if param.default is inspect.Parameter.empty else param.default)
        field = fields.get(name)
        annotation = field.annotation if field is not None else param.annotation
        kind, extra = _classify(name, annotation, default)
        kind = override.pop("kind", kind)
        if kind == "select" and not extra.get("options") and "options" not in override:
            kind, extra = _classify(name, annotation, default)
        if kind is None or name in HIDDEN or override.get("hidden"):
            specs.append(ParamSpec(name, kind or "number", default, hidden=True))
            continue
        spec = ParamSpec(name, kind, _widget_default(kind, default), help=helps.get(name, ""), **extra)
        low_open = high_open = False
        if kind in ("range", "number", "pair"):
            low, high, low_open, high_open = range_bounds(field)
            flo, fhi = _fallback_bounds(spec.default, spec.integer)
            low = flo if low is None else low
            high = fhi if high is None or (isinstance(high, float) and math.isinf(high)) else high
            if isinstance(high, (int, float)) and low is not None and high > low + 1000 and kind != "pair":
                high = max(fhi, low + 1)
            spec = replace(spec, low=low, high=high)
        spec = replace(spec, **{k: v for k, v in override.items() if k in ParamSpec.__dataclass_fields__})
        if spec.kind == "pair" and name in PAIRS:
            spec = replace(spec, parts=PAIRS[name])
        if spec.kind in ("range", "number", "pair") and spec.step is None:
            spec = replace(spec, step=1 if spec.integer else _nice_step(float(spec.low), float(spec.high)))
        if spec.kind in ("range", "number", "pair") and "low" not in override and low_open:
            spec = replace(spec, low=spec.low + spec.step)
        if spec.kind in ("range", "number", "pair") and "high" not in override and high_open:
            spec = replace(spec, high=spec.high - spec.step)
        if spec.kind in ("range", "number", "pair") and isinstance(spec.step, int) and spec.step >= 1 and not spec.integer and all(
            float(v).is_integer() for v in (spec.low, spec.high)
        ):
            spec = replace(spec, integer=True)
        specs.append(spec)
    return tuple(specs)


def to_kwargs(specs: tuple[ParamSpec, ...], values: dict[str, Any]) -> dict[str, Any]:
    """Turn widget values into constructor keyword arguments (hidden params are left out).

    Colours become ``(r, g, b)`` tuples; ranges and pairs become tuples; integers are ints.
    """
    kwargs: dict[str, Any] = {}
    for spec in specs:
        if spec.hidden or spec.name not in values:
            if not spec.hidden and spec.name not in values and spec.default is not None:
                values = {**values, spec.name: spec.default}
            else:
                continue
        value = values[spec.name]
        if spec.kind == "color" and isinstance(value, str):
            value = tuple(int(value.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
        if spec.kind in ("range", "pair", "color"):
            value = tuple(int(v) if spec.integer or spec.kind == "color" else float(v) for v in value)
        elif spec.kind == "number" and value is not None:
            value = int(value) if spec.integer else float(value)
        kwargs[spec.name] = value
    return kwargs


def parse_text_value(spec: ParamSpec, text: str) -> Any:
    """Parse a value given as text (a link's query parameter) into widget form.

    Ranges and pairs are ``"low,high"``; booleans ``true``/``false``; colours ``#rrggbb``;
    selects match an option or its label. Raises ``ValueError`` when the text does not fit.
    """
    text = text.strip()
    if spec.kind in ("range", "pair"):
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"{spec.name} needs two numbers separated by a comma")
        low, high = (float(v) for v in parts)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{spec.name} must be finite numbers")
        values = (int(low), int(high)) if spec.integer else (low, high)
        if not (spec.low <= values[0] <= spec.high and spec.low <= values[1] <= spec.high):
            raise ValueError(f"{spec.name} must be within {spec.low}..{spec.high}")
        return values
    if spec.kind == "number":
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"{spec.name} must be a finite number")
        value = int(number) if spec.integer else number
        if not spec.low <= value <= spec.high:
            raise ValueError(f"{spec.name} must be within {spec.low}..{spec.high}")
        return value
    if spec.kind == "bool":
        return text.lower() in ("1", "true", "yes", "on")
    if spec.kind == "color":
        return tuple(int(text.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    for option, label in zip(spec.options, spec.labels):
        if text in (str(option), label):
            return option
    raise ValueError(f"{text!r} is not an option of {spec.name}")

