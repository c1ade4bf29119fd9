"""Preset pipelines, each with a one-line rationale, and label-safety warnings per kind of data.

Presets are a registry (:func:`list_pipeline_presets`, :func:`get_pipeline_preset`, :func:`create_pipeline_preset`) of
functions returning a :class:`~augment_core.pipelines.model.Pipeline` built only from catalog
transforms, so a preset loads into the editor like any imported pipeline. No preset changes the
image size: the experiment engine trains on fixed-size images.

RandAugment-style (Cubuk et al. 2020) applies ``N`` operations drawn from a fixed list, each at
magnitude ``M`` on torchvision's 0–30 scale; signed operations (rotate, shear, translate,
brightness, contrast, colour) draw their amount in ``[-M, +M]`` rather than ``±M`` exactly,
because one albumentations step cannot pick a random sign. TrivialAugment-style (Müller and
Hutter 2021) applies one operation from the same list at a random magnitude up to the maximum.

Example:
    >>> pipe = create_pipeline_preset("RandAugment-style", n=2, m=9)
    >>> [w.message for w in label_warnings(create_pipeline_preset("Natural photos · medium"), "Digits and handwriting")]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from augment_core.errors import AugLabError
from augment_core.pipelines.model import DEFAULT_SEED, Group, Item, Pipeline, Step, normalise, renumber

_CONSTANT = {"border_mode": 0, "fill": 0}  # geometric steps fill the uncovered corners with black


def _s(name: str, p: float = 1.0, **args: Any) -> Step:
    return normalise(Step(name, args, p=p))


def _one_of(*steps: Step, p: float = 1.0) -> Group:
    return Group("OneOf", tuple(steps), p=p)


def _pipeline(*items: Item, seed: int = DEFAULT_SEED) -> Pipeline:
    return renumber(Pipeline(tuple(items), seed))


def _noise(p: float) -> Group:
    return _one_of(_s("GaussNoise", std_range=(0.02, 0.08)), _s("GaussianBlur", sigma_limit=(0.3, 1.2)),
                   _s("MotionBlur", blur_limit=(3, 7)), p=p)


def light(seed: int = DEFAULT_SEED) -> Pipeline:
    """Mirror, small shifts and zooms, mild lighting changes."""
    return _pipeline(
        _s("HorizontalFlip", p=0.5),
        _s("Affine", p=0.5, scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), rotate=(-10, 10), **_CONSTANT),
        _s("RandomBrightnessContrast", p=0.5, brightness_limit=(-0.1, 0.1), contrast_limit=(-0.1, 0.1)),
        seed=seed,
    )


def medium(seed: int = DEFAULT_SEED) -> Pipeline:
    """Light, plus colour jitter, occasional blur or noise, and small occlusions."""
    return _pipeline(
        _s("HorizontalFlip", p=0.5),
        _s("Affine", p=0.7, scale=(0.8, 1.2), translate_percent=(-0.1, 0.1), rotate=(-20, 20), **_CONSTANT),
        _s("ColorJitter", p=0.7, brightness=(0.8, 1.2), contrast=(0.8, 1.2), saturation=(0.8, 1.2), hue=(-0.03, 0.03)),
        _noise(p=0.3),
        _s("CoarseDropout", p=0.3, num_holes_range=(1, 4), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15)),
        seed=seed,
    )


def heavy(seed: int = DEFAULT_SEED) -> Pipeline:
    """Medium, stronger, plus warps and grey frames: for small data sets that overfit fast."""
    return _pipeline(
        _s("HorizontalFlip", p=0.5),
        _s("Affine", p=0.8, scale=(0.7, 1.3), translate_percent=(-0.15, 0.15), rotate=(-30, 30), shear=(-10, 10), **_CONSTANT),
        _one_of(_s("ElasticTransform", alpha=40.0, sigma=6.0), _s("GridDistortion", distort_limit=(-0.3, 0.3)),
                _s("OpticalDistortion", distort_limit=(-0.3, 0.3)), p=0.3),
        _s("ColorJitter", p=0.8, brightness=(0.6, 1.4), contrast=(0.6, 1.4), saturation=(0.6, 1.4), hue=(-0.08, 0.08)),
        _s("ToGray", p=0.1),
        _noise(p=0.5),
        _s("CoarseDropout", p=0.5, num_holes_range=(2, 8), hole_height_range=(0.05, 0.2), hole_width_range=(0.05, 0.2)),
        seed=seed,
    )


def documents(seed: int = DEFAULT_SEED) -> Pipeline:
    """What scanners and phone cameras do to a page: slight skew, perspective, blur, JPEG, lighting."""
    return _pipeline(
        _s("Affine", p=0.7, rotate=(-3, 3), scale=(0.95, 1.05), translate_percent=(-0.02, 0.02), border_mode=0, fill=255),
        _s("Perspective", p=0.3, scale=(0.02, 0.05), fill=255),
        _s("RandomBrightnessContrast", p=0.5, brightness_limit=(-0.2, 0.2), contrast_limit=(-0.2, 0.2)),
        _one_of(_s("GaussianBlur", sigma_limit=(0.3, 1.0)), _s("MotionBlur", blur_limit=(3, 5)), p=0.3),
        _s("ImageCompression", p=0.3, quality_range=(50, 90)),
        _s("GaussNoise", p=0.2, std_range=(0.01, 0.05)),
        seed=seed,
    )


def digits(seed: int = DEFAULT_SEED) -> Pipeline:
    """Small rotations, shears and elastic strokes; no flips and no large rotations (6 and 9, b and d)."""
    return _pipeline(
        _s("Affine", p=0.8, rotate=(-10, 10), scale=(0.9, 1.1), translate_percent=(-0.08, 0.08), shear=(-8, 8), **_CONSTANT),
        _s("ElasticTransform", p=0.3, alpha=30.0, sigma=5.0),
        _s("GaussNoise", p=0.2, std_range=(0.02, 0.06)),
        _s("CoarseDropout", p=0.2, num_holes_range=(1, 2), hole_height_range=(0.05, 0.12), hole_width_range=(0.05, 0.12)),
        seed=seed,
    )


def medical(seed: int = DEFAULT_SEED) -> Pipeline:
    """Scanner-like intensity changes and small positioning shifts; no flips (anatomy has a side), no hue."""
    return _pipeline(
        _s("Affine", p=0.7, rotate=(-10, 10), scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), **_CONSTANT),
        _s("RandomBrightnessContrast", p=0.5, brightness_limit=(-0.15, 0.15), contrast_limit=(-0.15, 0.15)),
        _s("RandomGamma", p=0.4, gamma_limit=(80, 120)),
        _s("CLAHE", p=0.2, clip_limit=(1.0, 3.0)),
        _s("GaussNoise", p=0.3, std_range=(0.01, 0.04)),
        seed=seed,
    )


def policy_ops(fraction: float, *, random_magnitude: bool = False) -> list[Step]:
    """The RandAugment operation list at ``fraction`` (0..1) of each operation's maximum strength.

    With ``random_magnitude`` each operation draws its strength from 0 up to that fraction
    (TrivialAugment); otherwise unsigned operations use exactly that strength (RandAugment).
    """
    f = min(max(fraction, 0.0), 1.0)

    def span(top: float) -> tuple[float, float]:
        return (-top * f, top * f)

    def unsigned(neutral: float, strongest: float) -> tuple[float, float]:
        value = neutral + (strongest - neutral) * f
        return (min(neutral, value), max(neutral, value)) if random_magnitude else (value, value)

    bits = unsigned(8, 4)
    return [
        _s("Affine", rotate=span(30), **_CONSTANT),
        _s("Affine", shear=span(16.7), **_CONSTANT),
        _s("Affine", translate_percent=span(0.45), **_CONSTANT),
        _s("RandomBrightnessContrast", brightness_limit=span(0.9), contrast_limit=(0.0, 0.0)),
        _s("RandomBrightnessContrast", brightness_limit=(0.0, 0.0), contrast_limit=span(0.9)),
        _s("ColorJitter", brightness=(1.0, 1.0), contrast=(1.0, 1.0), saturation=(1 - 0.9 * f, 1 + 0.9 * f), hue=(0.0, 0.0)),
        _s("Sharpen", alpha=unsigned(0.0, 0.9), lightness=(1.0, 1.0)),
        # a single bit count must be 1..7 (albumentations refuses 8, which would change nothing anyway)
        _s("Posterize", num_bits=(round(bits[1]), round(bits[0])) if random_magnitude else min(round(bits[0]), 7)),
        _s("Solarize", threshold_range=unsigned(1.0, 0.0)),
        _s("AutoContrast"),
        _s("Equalize"),
    ]


def rand_augment(seed: int = DEFAULT_SEED, n: int = 2, m: int = 9) -> Pipeline:
    """``n`` operations per image, each at magnitude ``m`` of 30."""
    ops = policy_ops(m / 30)
    if not 1 <= n <= len(ops) or not 0 <= m <= 30:
        raise AugLabError(f"RandAugment needs 1 ≤ N ≤ {len(ops)} and 0 ≤ M ≤ 30 (got N={n}, M={m}).", field="n" if not 1 <= n <= len(ops) else "m")
    return _pipeline(Group("SomeOf", tuple(ops), n=n), seed=seed)


def trivial_augment(seed: int = DEFAULT_SEED) -> Pipeline:
    """One operation per image at a random magnitude."""
    return _pipeline(Group("OneOf", tuple(policy_ops(1.0, random_magnitude=True))), seed=seed)


@dataclass(frozen=True)
class Preset:
    """A named, explained starting pipeline."""

    name: str  # shown in the preset picker
    rationale: str  # one line: why these steps
    data_kind: str  # the kind of data it is meant for (a key of DATA_KINDS)
    build: Callable[..., Pipeline] = field(repr=False)  # (seed=..., **options) -> Pipeline
    options: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (low, high, default)


_PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("Natural photos · light", "A mirror, small zooms and shifts and mild lighting: safe for almost any photo data set.", "Natural photos", light),
    Preset("Natural photos · medium", "Adds colour jitter, occasional blur or noise and small occlusions: a good default for fine-tuning.", "Natural photos", medium),
    Preset("Natural photos · heavy", "Strong geometry, warps, colour and occlusion: for small data sets that overfit quickly.", "Natural photos", heavy),
    Preset("Documents and text", "What scanners and phone cameras do to a page: slight skew, perspective, blur, JPEG; never a mirror.", "Documents and text", documents),
    Preset("Digits and handwriting", "Small rotations, shears and elastic strokes; no flips or large turns, which change the label (6/9, b/d).", "Digits and handwriting", digits),
    Preset("Medical / grey-scale", "Scanner-like intensity and gamma changes and small shifts; no flips (anatomy has a side) and no hue.", "Medical / grey-scale", medical),
    Preset("RandAugment-style", "N operations from a fixed list, each at magnitude M: two numbers to tune instead of a policy.", "Natural photos", rand_augment,
           {"n": (1, 11, 2), "m": (0, 30, 9)}),
    Preset("TrivialAugment-style", "One random operation at a random strength per image: no parameters at all, and often as good.", "Natural photos", trivial_augment),
)}


def list_pipeline_presets() -> list[str]:
    """Names of the presets, in the order the picker shows them."""
    return list(_PRESETS)


def get_pipeline_preset(name: str) -> Preset:
    """The preset ``name``; :class:`AugLabError` if there is none."""
    try:
        return _PRESETS[name]
    except KeyError:
        raise AugLabError(f"There is no preset called “{name}”.", hint=f"Choose one of: {', '.join(_PRESETS)}.", field=name) from None


def create_pipeline_preset(name: str, *, seed: int = DEFAULT_SEED, **options: int) -> Pipeline:
    """Build preset ``name`` (with options such as ``n`` and ``m`` for RandAugment-style)."""
    preset = get_pipeline_preset(name)
    unknown = set(options) - set(preset.options)
    if unknown:
        raise AugLabError(f"The preset “{name}” has no option {', '.join(sorted(unknown))}.", field=name)
    return preset.build(seed=seed, **options)


# --- Label safety -----------------------------------------------------------------------------

DATA_KINDS: dict[str, str] = {
    "Natural photos": "Everyday photos of objects, animals and scenes.",
    "Documents and text": "Scanned or photographed pages, receipts, printed words.",
    "Digits and handwriting": "Single characters or handwritten digits, where orientation is the label.",
    "Medical / grey-scale": "X-rays, CT, MRI or stained slides, where side and intensity carry meaning.",
    "Colour is the class": "Data sets where colour tells the classes apart (ripeness, traffic lights, flowers).",
}

_MIRRORS = frozenset({"HorizontalFlip", "VerticalFlip", "Transpose", "D4", "SquareSymmetry"})
_UPENDS = frozenset({"VerticalFlip", "RandomRotate90", "Transpose", "D4", "SquareSymmetry"})
_COLOUR_CHANGES = frozenset({"ChannelShuffle", "RGBShift", "ToGray", "ToSepia", "InvertImg", "PlanckianJitter", "FancyPCA", "ChannelDropout", "HEStain"})
_ROTATION_ARGS = {"Rotate": "limit", "SafeRotate": "limit", "Affine": "rotate", "ShiftScaleRotate": "rotate_limit"}


def _largest(value: Any) -> float:
    values = value if isinstance(value, (tuple, list)) else (value,)
    return max((abs(float(v)) for v in values if isinstance(v, (int, float))), default=0.0)


def _shifts_hue(step: Step) -> bool:
    if step.name == "HueSaturationValue":
        return _largest(step.args.get("hue_shift_limit", 20)) > 0
    if step.name == "ColorJitter":
        return _largest(step.args.get("hue", 0.5)) > 0
    return step.name in _COLOUR_CHANGES


def _turns_far(step: Step) -> bool:
    arg = _ROTATION_ARGS.get(step.name)
    return arg is not None and _largest(step.args.get(arg, 0)) > 30


@dataclass(frozen=True)
class LabelRule:
    """A kind of step that may change the label of a kind of data."""

    kinds: frozenset[str]  # data kinds the rule applies to
    applies: Callable[[Step], bool]  # does this step trigger it
    message: str  # why, in one sentence


LABEL_RULES: tuple[LabelRule, ...] = (
    LabelRule(frozenset({"Documents and text", "Digits and handwriting"}), lambda s: s.name in _MIRRORS,
              "mirrors characters: a mirrored “b” reads as “d”, and mirrored text is no longer text."),
    LabelRule(frozenset({"Documents and text", "Digits and handwriting"}), lambda s: s.name == "RandomRotate90" or _turns_far(s),
              "can turn characters sideways or upside down: an upside-down 6 is a 9."),
    LabelRule(frozenset({"Documents and text", "Digits and handwriting"}), lambda s: s.name == "RandomGridShuffle",
              "shuffles parts of the image, so strokes and words no longer form the labelled character."),
    LabelRule(frozenset({"Medical / grey-scale"}), lambda s: s.name in _MIRRORS,
              "mirrors anatomy: a left lung becomes a right one; only use it if no label depends on the side."),
    LabelRule(frozenset({"Medical / grey-scale"}), lambda s: s.name == "InvertImg",
              "inverts intensities, so dense tissue looks like air."),
    LabelRule(frozenset({"Medical / grey-scale", "Colour is the class"}), _shifts_hue,
              "changes colours, which carry the label here (stains, ripeness, signal colours)."),
    LabelRule(frozenset({"Natural photos"}), lambda s: s.name in _UPENDS,
              "shows photos upside down or sideways, which real photos rarely are; it often costs accuracy."),
)


@dataclass(frozen=True)
class LabelWarning:
    """One step that may change the label."""

    key: int  # the step's key in the pipeline
    step: str  # the transform's name
    message: str  # "HorizontalFlip mirrors characters: …"


def list_data_kinds() -> list[str]:
    """Kinds of data the label-safety check knows."""
    return list(DATA_KINDS)


def label_warnings(pipeline: Pipeline, data_kind: str) -> list[LabelWarning]:
    """Warnings for enabled steps that may change the label of ``data_kind`` images."""
    if data_kind not in DATA_KINDS:
        raise AugLabError(f"“{data_kind}” is not a kind of data the check knows.", hint=f"Choose one of: {', '.join(DATA_KINDS)}.")
    rules = [r for r in LABEL_RULES if data_kind in r.kinds]
    return [LabelWarning(step.key, step.name, f"{step.name} {rule.message}")
            for step in pipeline.active_steps() for rule in rules if rule.applies(step)]
