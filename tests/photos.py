"""A small two-class set of real photographs, built offline from scikit-image's bundled pictures.

``skimage.data`` ships a handful of real photographs inside the package (no download). Class
``cat`` is random crops of ``chelsea`` (a tabby cat, 451x300), class ``coffee`` random crops of
``coffee`` (a cup on a saucer, 600x400). Each crop covers 35-80% of the photo's width with an
aspect ratio of 0.6-2.2 (about a third wider than 1.5:1, as phone photos of insects were in
issue 13), at a random position, saved as JPEG.

What it can show: that real photographs of different sizes and aspect ratios flow through the
upload, squaring, split, training, statistics and export paths, and that a backbone separates
two visibly different scenes. What it cannot show: generalisation to new objects (every image of
a class comes from one photograph), or whether augmentation helps on real data.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image

CLASSES = ("cat", "coffee")


def _source(name: str) -> np.ndarray:
    from skimage import data

    return {"cat": data.chelsea, "coffee": data.coffee}[name]()  # (H, W, 3) uint8


def photo_crops(name: str, count: int, *, seed: int) -> list[tuple[str, bytes]]:
    """``count`` JPEG crops of class ``name``'s photograph, chosen by ``seed``."""
    rng = np.random.default_rng([seed, CLASSES.index(name)])
    photo = _source(name)
    h, w = photo.shape[:2]
    out = []
    for i in range(count):
        cw = int(w * rng.uniform(0.35, 0.8))
        ch = min(h, int(cw / rng.uniform(0.6, 2.2)))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        buffer = io.BytesIO()
        Image.fromarray(photo[top:top + ch, left:left + cw]).save(buffer, "JPEG", quality=90)
        out.append((f"{name}_{i:03d}.jpg", buffer.getvalue()))
    return out


def photo_zip(per_class: int, *, seed: int = 0, val_per_class: int = 0, val_folder: str = "val") -> bytes:
    """A zip of class folders (``cat/…``), or with ``val_per_class`` a ``train/`` + ``val/`` layout."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in CLASSES:
            files = photo_crops(name, per_class + val_per_class, seed=seed)
            for i, (file_name, content) in enumerate(files):
                if not val_per_class:
                    archive.writestr(f"{name}/{file_name}", content)
                else:
                    split = val_folder if i >= per_class else "train"
                    archive.writestr(f"{split}/{name}/{file_name}", content)
    return buffer.getvalue()
