"""Built-in images, so every page works on a fresh machine without an upload.

Real photographs come from scikit-image, which ships them inside the package (no download);
teaching images are drawn here, so that what a geometric transform does is easy to see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont


@dataclass(frozen=True)
class Sample:
    """One built-in image."""

    name: str  # shown in pickers
    description: str  # where it comes from
    load: Callable[[], np.ndarray]  # returns (H, W, 3) uint8 RGB


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        return np.ascontiguousarray(image[..., :3].astype(np.uint8))

    return load


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def labelled_grid(size: int = 384, cells: int = 6) -> np.ndarray:
    """A checkerboard with each cell labelled (A1, B2, …) and an arrow pointing up.

    Flips, rotations and crops are obvious on it: the labels read backwards or sideways.
    """
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    step = size // cells
    font = _font(step // 3)
    for row in range(cells):
        for col in range(cells):
            box = (col * step, row * step, (col + 1) * step, (row + 1) * step)
            dark = (row + col) % 2 == 0
            draw.rectangle(box, fill=(40, 70, 140) if dark else (235, 235, 225))
            draw.text((box[0] + step / 2, box[1] + step / 2), f"{'ABCDEFGH'[col]}{row + 1}", font=font, anchor="mm", fill="white" if dark else (30, 30, 30))
    centre = size / 2
    draw.polygon([(centre, step * 0.6), (centre - step * 0.6, step * 1.6), (centre + step * 0.6, step * 1.6)], fill=(230, 60, 40))
    return np.asarray(image)


def text_card(width: int = 480, height: int = 240) -> np.ndarray:
    """Dark text on paper: shows what blur, noise and compression do to fine detail."""
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.text((20, 30), "Augmentation Lab", font=_font(44), fill=(20, 20, 20))
    draw.text((20, 110), "The quick brown fox jumps over the lazy dog.", font=_font(20), fill=(20, 20, 20))
    draw.text((20, 150), "0123456789   6 9   b d   p q", font=_font(28), fill=(150, 20, 20))
    return np.asarray(image)


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample("Labelled grid", "Generated here: a labelled checkerboard with an arrow, for geometric transforms.", labelled_grid),
        Sample("Text card", "Generated here: printed text and digits, for blur, noise and label-changing flips.", text_card),
        Sample("Astronaut", "Photograph of astronaut Eileen Collins (NASA, public domain), shipped with scikit-image.", _skimage("astronaut")),
        Sample("Cat", "Photograph of Chelsea the cat (Stefan van der Walt, CC0), shipped with scikit-image.", _skimage("chelsea")),
        Sample("Coffee", "Photograph of a cup of coffee (Rachel Michetti, CC0), shipped with scikit-image.", _skimage("coffee")),
        Sample("Rocket", "Photograph of a SpaceX Falcon 9 launch (public domain), shipped with scikit-image.", _skimage("rocket")),
        Sample("Microscopy", "Immunohistochemistry micrograph (Greg Wilson, CC0), shipped with scikit-image.", _skimage("immunohistochemistry")),
    )
}


def list_samples() -> list[str]:
    """Names of the built-in images, teaching images first."""
    return list(SAMPLES)


@lru_cache(maxsize=16)
def load_sample(name: str) -> np.ndarray:
    """The built-in image ``name`` as (H, W, 3) uint8 RGB; read-only, cached."""
    image = SAMPLES[name].load()
    image.setflags(write=False)
    return image


def parse_sample_link(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The built-in images a ``?samples=`` link names, deduplicated and bounded, plus notes.

    Each distinct name is kept once, in order; unknown names are dropped; at most
    ``AUGLAB_LINK_MAX_SAMPLES`` are kept (a link naming one sample 6,000 times used to load it
    6,000 times). Only the first ``AUGLAB_LINK_MAX_CHARS`` characters are read.

    Example:
        >>> parse_sample_link("Cat,Cat,Nope")
        (('Cat',), ('The link names 1 image this app does not have (Nope); it is left out.',))
    """
    from augment_core.settings import get_int

    limit, max_chars = get_int("AUGLAB_LINK_MAX_SAMPLES"), get_int("AUGLAB_LINK_MAX_CHARS")
    names = [n.strip() for n in str(text)[:max_chars].split(",") if n.strip()]
    unique = list(dict.fromkeys(names))
    known = [n for n in unique if n in SAMPLES]
    unknown = [n for n in unique if n not in SAMPLES]
    notes: list[str] = []
    if unknown:
        shown = ", ".join(unknown[:3]) + (", …" if len(unknown) > 3 else "")
        notes.append(f"The link names {len(unknown)} image{'s' if len(unknown) != 1 else ''} this app does not have ({shown}); "
                     f"{'it is' if len(unknown) == 1 else 'they are'} left out.")
    if len(known) > limit:
        notes.append(f"The link names {len(known)} images; the first {limit} are shown (AUGLAB_LINK_MAX_SAMPLES).")
        known = known[:limit]
    return tuple(known), tuple(notes)
