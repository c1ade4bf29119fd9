"""The shapes every lesson shares: controls it asks for, blocks it returns, links it offers.

A lesson is data plus one pure function. The page turns each :class:`Control` into a widget,
calls :func:`augment_core.lessons.build_lesson` once, and draws the :class:`LessonView` that
comes back, block by block. Nothing here knows about Streamlit, so every lesson is tested as
plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PLAYGROUND = "pages/playground.py"
PIPELINE = "pages/pipeline.py"
EXPERIMENT = "pages/experiment.py"
# Lessons link into pages other people are still building; a link is only drawn when the file exists.
# Links into the experiment page name ExperimentSpec fields (backbone, strategy, seeds, mixup_alpha...).


@dataclass(frozen=True)
class Control:
    """One input a lesson asks for; the page draws it as a widget.

    ``kind`` is ``"slider"`` (numeric; ``low``/``high``/``step``), ``"steps"`` (a slider over
    ``options``, for ordered choices) or ``"select"`` (a drop-down over ``options``).
    """

    name: str  # keyword argument of the lesson's build function
    label: str  # widget label
    kind: str  # "slider", "steps" or "select"
    default: Any  # starting value
    help: str  # what the control does, in plain words (shown as a tooltip)
    low: float | None = None  # slider minimum
    high: float | None = None  # slider maximum
    step: float | None = None  # slider step
    options: tuple[Any, ...] = ()  # choices for "steps" and "select"
    labels: tuple[str, ...] = ()  # how each option is shown; defaults to str(option)

    def label_of(self, option: Any) -> str:
        """Text shown for ``option``."""
        if self.labels and option in self.options:
            return self.labels[self.options.index(option)]
        return str(option)


@dataclass(frozen=True)
class Link:
    """A button that opens another page preconfigured through its query parameters."""

    page: str  # page script, relative to the repository root (e.g. "pages/playground.py")
    label: str  # button text
    query_params: dict[str, str] = field(default_factory=dict)  # read by the target page
    icon: str = ":material/open_in_new:"


@dataclass(frozen=True)
class Block:
    """One thing to draw.

    ``kind`` is one of ``"markdown"``, ``"latex"``, ``"figure"`` (a plotly figure),
    ``"image"`` ((H, W, 3) or (H, W) uint8 array), ``"metrics"`` (list of (label, value, help))
    or ``"table"`` (list of row dicts).
    """

    kind: str
    content: Any
    caption: str = ""  # drawn under images and figures
    key: str = ""  # stable name (tests find blocks by it; the page uses it for element keys)


Row = list[Block]


@dataclass(frozen=True)
class LessonView:
    """Everything a lesson shows for one set of control values."""

    rows: list[Row]  # each row is drawn as side-by-side columns, top to bottom
    links: list[Link]  # buttons that open other pages set up to try this

    def block(self, key: str) -> Block:
        """The block named ``key`` (raises ``KeyError`` when there is none)."""
        for row in self.rows:
            for block in row:
                if block.key == key:
                    return block
        raise KeyError(key)

    def blocks(self, kind: str | None = None) -> list[Block]:
        """All blocks, or those of one ``kind``, in drawing order."""
        return [b for row in self.rows for b in row if kind is None or b.kind == kind]


@dataclass(frozen=True)
class Lesson:
    """One registered lesson."""

    key: str  # registry name, also the ``?lesson=`` query parameter of the Learn page
    number: int  # position in the course
    title: str  # short title for the selector
    icon: str  # material icon name
    text: str  # the lesson itself, in markdown: what to look at and why
    controls: tuple[Control, ...]  # inputs, in the order they are drawn
    images: int  # how many pictures the lesson needs from the picker (0, 1 or 2)
    default_samples: tuple[str, ...]  # built-in images picked at first
    build: Callable[..., LessonView]  # build(images, **control values) -> LessonView

    def defaults(self) -> dict[str, Any]:
        """Control values before the user touches anything."""
        return {c.name: c.default for c in self.controls}


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 luma (ITU-R BT.601 weights, as OpenCV uses)."""
    if image.ndim == 2:
        return image
    weights = np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(image[..., :3].astype(np.float64) @ weights), 0, 255).astype(np.uint8)


def square_crop(image: np.ndarray) -> np.ndarray:
    """The largest centred square of ``image`` (rotations by 90° then keep every pixel)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(image[top:top + side, left:left + side])


def fmt_range(low: float, high: float | None = None, digits: int = 3) -> str:
    """A "low,high" query-parameter value (the playground's format for ranges)."""
    high = low if high is None else high

    def one(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:.{digits}g}"

    return f"{one(low)},{one(high)}"
