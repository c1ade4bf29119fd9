"""Built-in experiment presets (a registry): the demo where augmentation helps, and one where it hurts.

Each preset carries the text the app shows to explain *why* the outcome is what it is. The
validation data of every preset is drawn from the same distribution as its training data;
nothing about it was chosen to suit the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.spec import ExperimentSpec

# The demo pipeline, in albumentations' own dict format (albumentations.to_dict / from_dict).
# It covers the variation the shapes really have: position, rotation, size, colour, noise.
DEMO_PIPELINE: dict[str, Any] = {
    "__version__": "2.0.8",
    "transform": {
        "__class_fullname__": "Compose",
        "p": 1.0,
        "transforms": [
            {"__class_fullname__": "Affine", "p": 1.0, "translate_percent": {"x": [-0.2, 0.2], "y": [-0.2, 0.2]},
             "rotate": [-180.0, 180.0], "scale": {"x": [0.75, 1.3], "y": [0.75, 1.3]}, "keep_ratio": True,
             "border_mode": 1, "interpolation": 1},
            {"__class_fullname__": "HorizontalFlip", "p": 0.5},
            {"__class_fullname__": "ColorJitter", "p": 0.8, "brightness": [0.7, 1.3], "contrast": [0.7, 1.3],
             "saturation": [0.5, 1.5], "hue": [-0.5, 0.5]},
            {"__class_fullname__": "ChannelShuffle", "p": 0.5},
        ],
    },
}

# For photographs of objects: the variation a second photo of the same kind of thing has
# (framing, a small tilt, left-right, light). No ChannelShuffle or half-turns: colour and
# up-down are often what tells photographed classes apart.
PHOTO_PIPELINE: dict[str, Any] = {
    "__version__": "2.0.8",
    "transform": {
        "__class_fullname__": "Compose",
        "p": 1.0,
        "transforms": [
            {"__class_fullname__": "Affine", "p": 1.0, "translate_percent": {"x": [-0.1, 0.1], "y": [-0.1, 0.1]},
             "rotate": [-15.0, 15.0], "scale": {"x": [0.9, 1.15], "y": [0.9, 1.15]}, "keep_ratio": True,
             "border_mode": 2, "interpolation": 1},
            {"__class_fullname__": "HorizontalFlip", "p": 0.5},
            {"__class_fullname__": "ColorJitter", "p": 0.8, "brightness": [0.8, 1.2], "contrast": [0.8, 1.2],
             "saturation": [0.8, 1.2], "hue": [-0.05, 0.05]},
        ],
    },
}

# A wrong pipeline for digits: flips and half-turns turn 6 into 9, 2 into 5 (mirrored)...
WRONG_DIGITS_PIPELINE: dict[str, Any] = {
    "__version__": "2.0.8",
    "transform": {
        "__class_fullname__": "Compose",
        "p": 1.0,
        "transforms": [
            {"__class_fullname__": "HorizontalFlip", "p": 0.5},
            {"__class_fullname__": "VerticalFlip", "p": 0.5},
            {"__class_fullname__": "RandomRotate90", "p": 1.0},
        ],
    },
}


@dataclass(frozen=True)
class PresetInfo:
    """One built-in experiment."""

    name: str  # registry key (CLI: --preset NAME)
    title: str  # label for select boxes
    why: str  # plain-words explanation of the expected outcome, shown in the app
    make: Callable[[], ExperimentSpec]  # builds the spec


def _demo() -> ExperimentSpec:
    return ExperimentSpec(
        name="demo: shapes, 5 per class", dataset="shapes", dataset_options={"per_class": 200, "seed": 1234},
        image_size=32, backbone="smallcnn-synthetic", strategy="last_block", optimizer="adamw", lr=3e-3,
        weight_decay=1e-4, schedule="cosine", batch_size=32, epochs=30, epoch_repeats=2, seeds=3,
        val_fraction=0.5, train_per_class=5, pipeline=DEMO_PIPELINE, seed=0)


def _wrong() -> ExperimentSpec:
    return ExperimentSpec(
        name="teaching case: flipping digits", dataset="digits", image_size=32, backbone="smallcnn-synthetic",
        strategy="last_block", optimizer="adamw", lr=3e-3, batch_size=32, epochs=20, epoch_repeats=1, seeds=3,
        val_fraction=0.5, train_per_class=10, pipeline=WRONG_DIGITS_PIPELINE, seed=0)


PRESETS: dict[str, PresetInfo] = {
    "demo": PresetInfo(
        "demo", "Demo: augmentation helps (shapes, 5 images per class)",
        "Only 5 training images per shape, but every shape can appear anywhere, at any angle and size, in any "
        "colour. Five pictures cannot show all of that, so the plain model learns the few poses and colours it "
        "saw. The pipeline (shift, rotate, scale, flip, colour changes) makes up exactly that missing variation, "
        "and none of it changes which shape it is, so the augmented model generalises to the 100 validation "
        "images per shape, which come from the same generator and were never chosen to suit the pipeline.",
        _demo),
    "wrong-augmentation": PresetInfo(
        "wrong-augmentation", "Teaching case: the wrong augmentation hurts (flipping digits)",
        "Flips and quarter-turns do not preserve what a digit is: a 6 upside down is a 9, a mirrored 2 looks like "
        "a 5. The augmented model is trained on images whose labels are now wrong or ambiguous, and real "
        "handwriting is always upright, so augmentation that ignores the meaning of the classes costs accuracy.",
        _wrong),
}


def list_spec_presets() -> list[str]:
    """Names of the built-in experiments, the demo first."""
    return list(PRESETS)


def get_spec_preset_info(name: str) -> PresetInfo:
    """Return the registry entry for ``name`` or raise :class:`AugLabError`."""
    try:
        return PRESETS[name]
    except KeyError:
        raise AugLabError(f"Unknown preset “{name}”.", hint=f"Choose one of: {', '.join(PRESETS)}.", field="preset") from None


def create_spec_preset(name: str, **overrides: Any) -> ExperimentSpec:
    """Build preset ``name``'s spec, with any field overridden (e.g. ``seeds=5``)."""
    spec = get_spec_preset_info(name).make()
    return replace(spec, **overrides) if overrides else spec
