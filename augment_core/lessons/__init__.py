"""The Learn page's lessons: a registry of interactive lessons, each a pure function.

``list_lessons()`` gives the keys in course order, ``get_lesson(key)`` the entry (its text, its
controls, how many pictures it needs), and ``build_lesson(key, images, values)`` returns the
:class:`~augment_core.lessons.base.LessonView` to draw: formulas, plotly figures, images,
numbers and links into the other pages, preconfigured through query parameters.

Example:
    >>> from augment_core import lessons
    >>> lessons.list_lessons()[:2]
    ['finetuning', 'geometry']
    >>> view = lessons.build_lesson("geometry", [image], {"theta": 30})
    >>> view.block("rotation_latex").content[:9]
    'R(30^\\circ'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augment_core.errors import AugLabError
from augment_core.transforms.images import downscale
from augment_core.lessons import choosing, colour, evaluation, finetuning, geometry, mixed_labels, noise
from augment_core.lessons.base import Block, Control, Lesson, LessonView, Link

__all__ = ["Block", "Control", "Lesson", "LessonView", "Link", "build_lesson", "get_lesson", "list_lessons"]

MAX_SIDE = 256  # lessons work on small previews: every slider move recomputes everything

_REGISTRY: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in sorted(
        (finetuning.LESSON, geometry.LESSON, colour.LESSON, noise.LESSON, mixed_labels.LESSON, choosing.LESSON,
         evaluation.LESSON),
        key=lambda lesson: lesson.number,
    )
}


def list_lessons() -> list[str]:
    """Keys of every lesson, in course order."""
    return list(_REGISTRY)


def get_lesson(key: str) -> Lesson:
    """The lesson registered as ``key``; :class:`AugLabError` when there is none."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise AugLabError(f"There is no lesson called “{key}”.", hint=f"Choose one of: {', '.join(_REGISTRY)}.",
                          field="lesson") from None


def check_values(lesson: Lesson, values: dict[str, Any]) -> dict[str, Any]:
    """Control values completed with defaults and checked against each control's range or options."""
    unknown = set(values) - {c.name for c in lesson.controls}
    if unknown:
        raise AugLabError(f"The lesson “{lesson.title}” has no setting {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    checked = lesson.defaults() | values
    for control in lesson.controls:
        value = checked[control.name]
        if control.kind == "slider":
            if not isinstance(value, (int, float, np.number)) or not control.low <= value <= control.high:
                raise AugLabError(f"{control.label} must be a number from {control.low:g} to {control.high:g}, not {value!r}.",
                                  field=control.name)
        elif value not in control.options:
            raise AugLabError(f"{control.label} cannot be {value!r}.",
                              hint=f"Choose one of: {', '.join(control.label_of(o) for o in control.options)}.", field=control.name)
    return checked


def build_lesson(key: str, images: list[np.ndarray] | None = None, values: dict[str, Any] | None = None, *,
                 samples: tuple[str, ...] = ()) -> LessonView:
    """Everything lesson ``key`` shows for these pictures and control values.

    Args:
        key: A name from :func:`list_lessons`.
        images: (H, W, 3) uint8 RGB pictures (samples or uploads); lessons that need fewer ignore
            the rest. They are downscaled to :data:`MAX_SIDE` first.
        values: Control values by name; missing ones take their defaults.
        samples: Names of the built-in images in ``images``, passed on in links so the target
            page opens on the same pictures.

    Raises:
        AugLabError: for an unknown lesson, a value out of range, or too few pictures.
    """
    lesson = get_lesson(key)
    checked = check_values(lesson, dict(values or {}))
    pictures = [downscale(np.asarray(im), MAX_SIDE) for im in (images or [])][: max(lesson.images, 0)]
    for picture in pictures:
        if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
            raise AugLabError("Lessons need RGB pictures with 8 bits per channel.", hint="Pick a sample or upload a JPEG or PNG.")
    if len(pictures) < lesson.images:
        need = "two pictures" if lesson.images == 2 else "a picture"
        raise AugLabError(f"This lesson needs {need}.", hint="Upload an image or pick a sample to start.", field="images")
    return lesson.build(pictures, samples=tuple(samples), **checked)
