"""The one-click stakeholder demo: the engine's demo preset, its images before and after, its story.

Nothing here is tuned for the demo: the spec is the engine's ``demo`` preset exactly as
:func:`augment_core.experiment.create_spec_preset` builds it (read at call time, so any retuning of
the preset is what the demo shows), and the curves are the engine's real, unsmoothed result.
On two CPU cores the preset finishes in under a minute (38 s measured while another benchmark
shared the cores; 75 s with a whole test suite running beside it), so nothing is shortened.

Example:
    >>> spec = demo_spec()
    >>> strip = before_after(spec, load_dataset(spec))
    >>> len(strip.originals) == len(strip.augmented) == len(strip.captions)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentSpec, ImageDataset, RunStore, create_spec_preset, get_spec_preset_info
from augment_core.experiment.augmentation import create_train_transform

DEMO_PRESET = "demo"  # the engine preset the demo runs, unchanged


def demo_spec() -> ExperimentSpec:
    """The engine's demo preset, as the engine defines it right now."""
    return create_spec_preset(DEMO_PRESET)


def demo_title() -> str:
    """The preset's title, for headings ("Demo: augmentation helps (shapes, 5 images per class)")."""
    return get_spec_preset_info(DEMO_PRESET).title


def demo_why() -> str:
    """The preset's plain-words reason why augmentation should help here."""
    return get_spec_preset_info(DEMO_PRESET).why


def is_demo(spec: ExperimentSpec) -> bool:
    """True when ``spec`` is exactly the current demo preset (so a page can recognise a demo job)."""
    return spec == demo_spec()


def stored_demo_run(store: RunStore) -> int | None:
    """The newest completed run of exactly the current demo spec in ``store``, or ``None``.

    The Demo page shows it instead of offering "Run the demo" again (another tab, a restart):
    the same spec and seeds give the same result, so training again only costs time.
    """
    demo = demo_spec()
    for row in store.list_runs():
        if row["status"] == "completed" and row["name"] == demo.name and store.load_run(int(row["id"])).spec == demo:
            return int(row["id"])
    return None


@dataclass(frozen=True)
class BeforeAfter:
    """Images as stored and the same images after the demo pipeline, in pairs."""

    originals: list[np.ndarray]  # (S, S, 3) uint8, one per pair
    augmented: list[np.ndarray]  # (S, S, 3) uint8, originals[i] after the pipeline
    captions: list[str]  # class name of pair i (the pipeline keeps the label)


def before_after(spec: ExperimentSpec, dataset: ImageDataset, *, per_class: int = 1, variants: int = 1,
                 seed: int = 0) -> BeforeAfter:
    """``per_class`` images of each class and ``variants`` augmented versions of each, seeded.

    The augmented images come from the engine's own training transform
    (:func:`~augment_core.experiment.augmentation.create_train_transform`), so they are what
    the augmented arm trains on, not an illustration.

    Args:
        spec: The experiment (its pipeline and image size are used).
        dataset: Its data, at ``spec.image_size``.
        per_class: Images picked from each class.
        variants: Augmented draws per picked image (originals repeat to keep the pairs aligned).
        seed: Chooses the images and seeds the pipeline.

    Raises:
        AugLabError: The spec has no pipeline, or the pipeline fails on the images.
    """
    transform = create_train_transform(spec.pipeline, seed=seed, image_size=spec.image_size)
    if transform is None:
        raise AugLabError("This experiment has no augmentation pipeline, so there is nothing to show before and after.",
                          field="pipeline")
    rng = np.random.default_rng(seed)
    originals: list[np.ndarray] = []
    augmented: list[np.ndarray] = []
    captions: list[str] = []
    for label, name in enumerate(dataset.class_names):
        indices = np.flatnonzero(dataset.labels == label)
        for index in np.sort(rng.permutation(indices)[:per_class]):
            image = dataset.images[int(index)]
            for _ in range(variants):
                originals.append(image)
                augmented.append(transform(image))
                captions.append(name)
    return BeforeAfter(originals, augmented, captions)
