"""Built-in data sets (a registry) and the seeded, stratified train/validation split.

Every data set becomes an :class:`ImageDataset`: uint8 images ``(N, S, S, 3)`` at the run's
image size, integer labels, class names and a one-line provenance. User uploads are turned into
the same type by :mod:`augment_core.experiment.userdata`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from sklearn.model_selection import StratifiedKFold, train_test_split

from augment_core.errors import AugLabError
from augment_core.settings import get_int
from augment_core.experiment.synthetic import SHAPE_CLASSES, make_shapes


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images and labels, ready to split (compared by identity; use ``fingerprint`` for content)."""

    name: str  # registry name or upload label
    images: np.ndarray = field(repr=False)  # (N, S, S, 3) uint8 RGB
    labels: np.ndarray = field(repr=False)  # (N,) int64 in 0..len(class_names)-1
    class_names: tuple[str, ...]  # label index -> name
    description: str  # one line: where the images come from
    file_names: tuple[str, ...] = ()  # per image, for user data (empty for built-ins)
    fixed_val: np.ndarray | None = field(default=None, repr=False)  # (N,) bool: the upload's own val/ images; None = split by seed

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the pixels and labels: identifies the exact data a run used."""
        digest = hashlib.sha256(np.ascontiguousarray(self.images).tobytes())
        digest.update(self.labels.astype(np.int64).tobytes())
        digest.update("\n".join(self.class_names).encode())
        if self.fixed_val is not None:  # the same images with another split are other data
            digest.update(np.asarray(self.fixed_val, dtype=bool).tobytes())
        return digest.hexdigest()

    def counts(self) -> dict[str, int]:
        """Images per class name."""
        return {name: int((self.labels == i).sum()) for i, name in enumerate(self.class_names)}


@dataclass(frozen=True)
class DatasetInfo:
    """One registered built-in data set."""

    name: str  # registry key
    title: str  # label for select boxes
    description: str  # one line: where the images come from
    build: Callable[..., ImageDataset]  # (image_size, **options) -> ImageDataset


def resize_square(images: np.ndarray, size: int, *, resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """Resize a stack of square (N, s, s, 3) uint8 images to (N, size, size, 3)."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), resample)) for im in images])


def check_data_budget(images: int, image_size: int, *, what: str = "The data set") -> None:
    """Refuse, before loading, a data set whose float tensors would pass ``AUGLAB_MAX_DATA_BYTES``.

    The estimate is images × 3 channels × size² × 4 bytes (float32), the form training and
    validation tensors take; the uint8 copy adds a quarter more.

    Raises:
        AugLabError: naming the estimate, the limit and the setting.
    """
    need = images * 3 * image_size * image_size * 4
    limit = get_int("AUGLAB_MAX_DATA_BYTES")
    if need > limit:
        raise AugLabError(f"{what} would need about {need / 1e9:.1f} GB as tensors ({images:,} images of {image_size}×{image_size}), "
                          f"more than the budget of {limit / 1e9:.1f} GB (AUGLAB_MAX_DATA_BYTES).",
                          hint="Use a smaller image size or fewer images.", field="dataset")


def _digits(image_size: int, **options: object) -> ImageDataset:
    if options:
        raise AugLabError(f"The digits data set takes no options, got {sorted(options)}.", field="dataset_options")
    from sklearn.datasets import load_digits  # ships inside scikit-learn: no download

    bunch = load_digits()
    # Before resizing: 1,797 images at 512 px are 1.4 GB of uint8 (2.9 GB at the peak of the stack).
    check_data_budget(len(bunch.images), image_size, what="The digits data set")
    grey = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8), ink is bright
    rgb = np.repeat(grey[..., None], 3, axis=3)
    return ImageDataset("digits", resize_square(rgb, image_size), bunch.target.astype(np.int64),
                        tuple(str(d) for d in range(10)), DATASETS["digits"].description)


def _shapes(image_size: int, *, per_class: int = 100, seed: int = 1234, **options: object) -> ImageDataset:
    if options:
        raise AugLabError(f"Unknown options for the shapes data set: {sorted(options)}.", hint="Use per_class and seed.", field="dataset_options")
    if per_class < 2:
        raise AugLabError("The shapes data set needs at least 2 images per class.", field="dataset_options")
    if per_class > get_int("AUGLAB_MAX_PER_CLASS"):
        raise AugLabError(f"per_class {per_class:,} is more than the limit of {get_int('AUGLAB_MAX_PER_CLASS'):,} (AUGLAB_MAX_PER_CLASS).",
                          field="dataset_options")
    check_data_budget(int(per_class) * len(SHAPE_CLASSES), image_size, what="The shapes data set")
    images, labels = make_shapes(int(per_class), image_size, int(seed))
    return ImageDataset("shapes", images, labels, SHAPE_CLASSES, DATASETS["shapes"].description)


DATASETS: dict[str, DatasetInfo] = {
    "shapes": DatasetInfo(
        "shapes", "Shapes (generated)",
        "Generated on the fly (augment_core/experiment/synthetic.py, fixed seed): circles, triangles, squares, "
        "stars, crosses and hearts at any position, rotation and size, in random colours on flat or gradient "
        "backgrounds with sensor noise.", _shapes),
    "digits": DatasetInfo(
        "digits", "Handwritten digits (scikit-learn)",
        "scikit-learn's copy of the UCI optical recognition of handwritten digits test set: 1,797 real 8x8 "
        "scans of digits 0-9 written by 43 people, upscaled bilinearly.", _digits),
}


def list_datasets() -> list[str]:
    """Names of the built-in data sets."""
    return list(DATASETS)


def get_dataset_info(name: str) -> DatasetInfo:
    """Return the registry entry for ``name`` or raise :class:`AugLabError`."""
    try:
        return DATASETS[name]
    except KeyError:
        raise AugLabError(f"Unknown data set “{name}”.", hint=f"Choose one of: {', '.join(DATASETS)}, or a zip file.",
                          field="dataset") from None


def create_dataset(name: str, *, image_size: int = 32, **options: object) -> ImageDataset:
    """Build built-in data set ``name`` at ``image_size`` pixels a side.

    Example:
        >>> ds = create_dataset("shapes", image_size=32, per_class=10)
        >>> ds.images.shape
        (60, 32, 32, 3)
    """
    return get_dataset_info(name).build(image_size, **options)


def split_indices(labels: np.ndarray, *, val_fraction: float, seed: int,
                  train_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation split, fixed by ``seed``.

    ``train_per_class`` then keeps only that many training images of each class (chosen by the
    same seed), which makes a few-shot setting without touching the validation set.

    Returns:
        (train_indices, val_indices), each sorted, int64.
    """
    idx = np.arange(len(labels))
    try:
        train, val = train_test_split(idx, test_size=val_fraction, stratify=labels, random_state=seed)
    except ValueError as exc:
        raise AugLabError(f"Cannot split these images with a validation fraction of {val_fraction} ({exc}).",
                          hint="Every class needs at least one training and one validation image: add images or change the fraction.",
                          field="val_fraction") from exc
    if train_per_class is not None:
        rng = np.random.default_rng(seed)
        kept = []
        for c in np.unique(labels):
            members = train[labels[train] == c]
            kept.append(rng.permutation(members)[:train_per_class])
        train = np.concatenate(kept)
    return np.sort(train).astype(np.int64), np.sort(val).astype(np.int64)


def kfold_indices(labels: np.ndarray, *, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold splits, fixed by ``seed``: a list of (train_indices, val_indices)."""
    counts = np.bincount(labels)
    if folds < 2 or counts[counts > 0].min() < folds:
        raise AugLabError(f"{folds}-fold cross-validation needs at least {folds} images in every class.",
                          hint="Use fewer folds or repeated seeds.", field="folds")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(tr.astype(np.int64), va.astype(np.int64)) for tr, va in splitter.split(np.zeros(len(labels)), labels)]
