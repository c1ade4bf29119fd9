"""The training-time transform factory: albumentations dict -> seeded per-image function.

"No augmentation" is a branch of this factory (it returns ``None``), not an ``if`` inside the
training loop. :func:`build_compose` is the only place that turns the pipeline dict into an
albumentations object, so the pipeline editor's own builder can replace it in one line.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from typing import Any

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
import albumentations as A
import numpy as np

from augment_core.errors import AugLabError

ImageTransform = Callable[[np.ndarray], np.ndarray]


def build_compose(pipeline: dict[str, Any]) -> A.Compose:
    """Build an albumentations ``Compose`` from its ``to_dict`` form, through the pipeline editor's
    safe importer: only catalog transforms inside ``Compose``/``OneOf``/``SomeOf`` are built, with
    ``strict=True``, and every problem is an :class:`AugLabError` naming the step."""
    from augment_core.pipelines.model import to_compose
    from augment_core.pipelines.io import from_dict

    try:
        return to_compose(from_dict(pipeline))
    except AugLabError as exc:
        raise AugLabError(f"The augmentation pipeline could not be built: {exc.message}",
                          hint=exc.hint or "Export it again from the pipeline editor.", field="pipeline") from exc


def pipeline_is_empty(pipeline: dict[str, Any] | None) -> bool:
    """True when ``pipeline`` has no transforms at all."""
    from augment_core.pipelines.io import document_transforms

    return not document_transforms(pipeline)


def create_train_transform(pipeline: dict[str, Any] | None, *, seed: int, image_size: int) -> ImageTransform | None:
    """Return a seeded function (H, W, 3) uint8 -> (H, W, 3) uint8, or ``None`` for no augmentation.

    The compose owns its random generator (``set_random_seed``), so two calls with the same seed
    produce the same sequence of augmented images and nothing reads global random state.

    Raises:
        AugLabError: If the pipeline cannot be built, or changes the image's size or type
            (resizing and normalisation are the engine's job).
    """
    if pipeline_is_empty(pipeline):
        return None
    compose = build_compose(pipeline)  # type: ignore[arg-type]
    compose.set_random_seed(seed)
    checked = False

    def apply(image: np.ndarray) -> np.ndarray:
        nonlocal checked
        try:
            out = compose(image=image)["image"]
        except Exception as exc:
            raise AugLabError(f"The augmentation pipeline failed on a training image ({type(exc).__name__}: {exc}).",
                              field="pipeline") from exc
        if not checked:
            if out.shape != (image_size, image_size, 3) or out.dtype != np.uint8:
                raise AugLabError(
                    f"The pipeline turns a {image_size}x{image_size} uint8 image into {out.shape} {out.dtype}.",
                    hint="Remove resizing, cropping-to-size and Normalize/ToTensor steps: the engine resizes and normalises.",
                    field="pipeline")
            checked = True
        return out

    return apply


def _alive(pid: int) -> bool:
    """True while process ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _put(out: Any, item: Any, stop: Any, owner: int | None) -> bool:
    """Put ``item`` on the full-able queue; False (give up) once the run stops or the training process is gone.

    A blocking put would wait forever after the training process died (killed, out of memory):
    the child, its forkserver and the resource tracker would then outlive the run, holding memory.
    """
    while True:
        try:
            out.put(item, timeout=0.1)  # short: a stopped run waits for this child at most this long
            return True
        except queue.Full:
            if stop.is_set() or (owner is not None and not _alive(owner)):
                _abandon(out)
                return False


def _abandon(out: Any) -> None:
    """Nobody will read the rest: exit without flushing the queue (its feeder thread may be stuck on a full pipe)."""
    out.cancel_join_thread()


def augment_worker(factory: Callable[[], ImageTransform | None], images: np.ndarray, plans: list[list[np.ndarray]],
                   out: Any, stop: Any, owner: int | None = None) -> None:
    """Child-process body: augment every batch of every plan, in order, into ``out``.

    Runs in a separate process so albumentations' per-image Python work does not fight the
    training loop for the GIL. This module imports no torch, so the process starts quickly. The
    transform is built here from a picklable ``factory``; one seeded transform processes the
    batches in plan order, so the images are exactly those a thread would produce.
    Puts ``("batch", (B, H, W, 3) uint8)`` items, then ``("done", None)``, or ``("error", (message, hint))``.
    """
    try:
        import cv2

        cv2.setNumThreads(1)  # the training process owns the other cores
        transform = factory()
        for plan in plans:
            for positions in plan:
                if stop.is_set():
                    _abandon(out)
                    return
                raw = images[positions]
                if not _put(out, ("batch", np.stack([transform(im) for im in raw]) if transform is not None else raw),
                            stop, owner):
                    return
        _put(out, ("done", None), stop, owner)
    except AugLabError as exc:
        _put(out, ("error", (exc.message, exc.hint)), stop, owner)
    except BaseException as exc:  # anything else: report it rather than die silently
        _put(out, ("error", (f"{type(exc).__name__}: {exc}", None)), stop, owner)
