"""The experiment spec: one frozen dataclass that describes a run completely.

Pages build it, :func:`~augment_core.experiment.runner.run_experiment` consumes it, the store
saves it and the CLI reads it from JSON. ``ExperimentSpec.from_json(spec.to_json()) == spec``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from augment_core.errors import AugLabError
from augment_core.settings import get_int
from augment_core.experiment.userdata import SQUARE_MODES

STRATEGIES: dict[str, str] = {
    "head": "Head only (linear probe): the backbone is frozen, only the new classifier learns.",
    "last_block": "Last block + head: the backbone's last stage and the classifier learn; earlier stages are frozen.",
    "all": "All layers, with a lower learning rate for the backbone (discriminative learning rates).",
}
OPTIMIZERS: tuple[str, ...] = ("adamw", "sgd")
SCHEDULES: tuple[str, ...] = ("cosine", "constant")


# Spec fields whose upper bound is a budget setting (the form's widgets read the same table).
SPEC_LIMITS: dict[str, str] = {
    "epochs": "AUGLAB_MAX_EPOCHS", "epoch_repeats": "AUGLAB_MAX_EPOCH_REPEATS", "seeds": "AUGLAB_MAX_SEEDS",
    "folds": "AUGLAB_MAX_SEEDS", "batch_size": "AUGLAB_MAX_BATCH_SIZE", "train_per_class": "AUGLAB_MAX_PER_CLASS",
}


def spec_limit(field_name: str) -> int:
    """Largest value spec field ``field_name`` accepts (from the settings table); see :data:`SPEC_LIMITS`."""
    return get_int(SPEC_LIMITS[field_name])


def _canonical(value: Any) -> Any:
    """JSON round trip, so tuples become lists and a spec equals its reloaded self."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class ExperimentSpec:
    """Everything that defines an augmentation experiment (both arms, every seed)."""

    name: str = "experiment"  # label shown in run lists
    dataset: str = "shapes"  # built-in data set name, or a path to a zip / folder of class folders
    dataset_options: dict[str, Any] = field(default_factory=dict)  # options for a built-in data set (e.g. per_class)
    image_size: int = 32  # side, in pixels, images are resized to
    backbone: str = "smallcnn-synthetic"  # backbone registry name
    strategy: str = "last_block"  # fine-tuning strategy: head, last_block or all
    optimizer: str = "adamw"  # adamw or sgd (momentum 0.9, nesterov)
    lr: float = 3e-3  # learning rate of the head (and of trainable backbone layers unless strategy is all)
    backbone_lr_factor: float = 0.1  # strategy all: backbone learning rate = lr x this
    weight_decay: float = 1e-4  # decoupled weight decay (AdamW) or L2 (SGD)
    schedule: str = "cosine"  # learning-rate schedule over all steps: cosine or constant
    batch_size: int = 32  # training images per step
    epochs: int = 30  # evaluations of the validation set per arm and seed
    epoch_repeats: int = 1  # passes over the training set per epoch (tiny sets need more steps per evaluation)
    seeds: int = 3  # repetitions with different seeds (ignored when folds >= 2)
    folds: int = 0  # k for stratified k-fold cross-validation instead of repeated seeds; 0 = off
    val_fraction: float = 0.5  # share of each class held out for validation
    train_per_class: int | None = None  # keep only this many training images per class (few-shot); None = all
    pipeline: dict[str, Any] | None = None  # albumentations dict (albumentations.to_dict) for the augmented arm
    mixup_alpha: float = 0.0  # MixUp Beta(α, α) for the augmented arm; 0 = off
    cutmix_alpha: float = 0.0  # CutMix Beta(α, α) for the augmented arm; 0 = off
    seed: int = 0  # base seed: replicate i uses seed + i for split, init, batch order and augmentation
    square: str = "pad"  # uploads: how images are made square: pad (keeps the whole picture), crop or stretch

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset_options", _canonical(dict(self.dataset_options)))
        if self.pipeline is not None:
            object.__setattr__(self, "pipeline", _canonical(self.pipeline))
        self._validate()

    def _validate(self) -> None:
        def bad(field_name: str, message: str) -> AugLabError:
            return AugLabError(message, field=field_name)

        if self.strategy not in STRATEGIES:
            raise bad("strategy", f"Unknown strategy “{self.strategy}”; choose one of {', '.join(STRATEGIES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", f"Unknown optimiser “{self.optimizer}”; choose one of {', '.join(OPTIMIZERS)}.")
        if self.square not in SQUARE_MODES:
            raise bad("square", f"Unknown way to make images square “{self.square}”; choose one of {', '.join(SQUARE_MODES)}.")
        if self.schedule not in SCHEDULES:
            raise bad("schedule", f"Unknown schedule “{self.schedule}”; choose one of {', '.join(SCHEDULES)}.")
        checks = [
            ("image_size", 16 <= self.image_size <= 512, "Image size must be between 16 and 512 pixels."),
            ("lr", 0 < self.lr <= 10, "The learning rate must be positive (and at most 10)."),
            ("backbone_lr_factor", 0 <= self.backbone_lr_factor <= 10, "The backbone learning-rate factor must be between 0 and 10."),
            ("weight_decay", self.weight_decay >= 0, "Weight decay cannot be negative."),
            ("batch_size", self.batch_size >= 2, "The batch size must be at least 2 (BatchNorm needs two images)."),
            ("epochs", self.epochs >= 1, "Train for at least one epoch."),
            ("epoch_repeats", self.epoch_repeats >= 1, "Epoch repeats must be at least 1."),
            ("seeds", self.seeds >= 1, "Use at least one seed."),
            ("folds", self.folds == 0 or self.folds >= 2, "Use 0 (off) or at least 2 folds."),
            ("val_fraction", 0 < self.val_fraction < 1, "The validation fraction must be between 0 and 1."),
            ("train_per_class", self.train_per_class is None or self.train_per_class >= 1, "Keep at least one training image per class."),
            ("mixup_alpha", self.mixup_alpha >= 0, "MixUp α cannot be negative."),
            ("cutmix_alpha", self.cutmix_alpha >= 0, "CutMix α cannot be negative."),
        ]
        for name, ok, message in checks:
            if not ok:
                raise bad(name, message)
        # Budgets before work: each count a request can make big is capped by a setting.
        for name, setting in SPEC_LIMITS.items():
            value = getattr(self, name)
            if value is not None and value > get_int(setting):
                raise bad(name, f"{name.replace('_', ' ').capitalize()} {value:,} is more than the limit of {get_int(setting):,} ({setting}).")
        per_class = self.dataset_options.get("per_class")
        if per_class is not None and (isinstance(per_class, bool) or not isinstance(per_class, int) or per_class > get_int("AUGLAB_MAX_PER_CLASS")):
            raise bad("dataset_options", f"dataset_options.per_class must be a whole number up to {get_int('AUGLAB_MAX_PER_CLASS'):,} "
                      f"(AUGLAB_MAX_PER_CLASS), not {per_class!r}.")
        if self.pipeline is not None and "transform" not in self.pipeline:
            raise bad("pipeline", "The pipeline must be an albumentations dict (with a “transform” key), as albumentations.to_dict gives.")

    def __hash__(self) -> int:
        return hash(self.to_json())

    @property
    def replicates(self) -> int:
        """Number of paired comparisons: folds if cross-validating, else seeds."""
        return self.folds if self.folds >= 2 else self.seeds

    @property
    def has_augmentation(self) -> bool:
        """True when the augmented arm differs from the plain one in configuration."""
        from augment_core.pipelines.io import document_transforms  # the one reader of the dict; loads albumentations

        return bool(document_transforms(self.pipeline)) or self.mixup_alpha > 0 or self.cutmix_alpha > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return _canonical(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentSpec:
        """Build a spec from :meth:`to_dict` output; unknown keys are refused, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AugLabError(f"Unknown experiment setting(s): {', '.join(unknown)}.", hint=f"Known settings: {', '.join(sorted(known))}.", field=unknown[0])
        try:
            return cls(**data)
        except TypeError as exc:
            raise AugLabError(f"Invalid experiment spec ({exc}).") from exc

    def to_json(self) -> str:
        """Serialise to an indented JSON string."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExperimentSpec:
        """Parse :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AugLabError(f"The spec is not valid JSON ({exc}).", field="spec") from exc
        if not isinstance(data, dict):
            raise AugLabError("The spec must be a JSON object.", field="spec")
        return cls.from_dict(data)
