"""Choosing images: built-in samples and uploads, decoded once and cached by their bytes."""

from __future__ import annotations

import numpy as np
import streamlit as st

from augment_core import AugLabError
from augment_core.transforms import IMAGE_TYPES, LoadedImage, PreviewCache, downscale
from augment_core.transforms import SAMPLES, list_samples, load_sample
from augment_core.settings import get_int

UPLOAD_TYPES = list(IMAGE_TYPES)


@st.cache_resource
def preview_cache() -> PreviewCache:
    """One cache for the server: keys are hashes of the uploaded bytes, so sharing is safe."""
    return PreviewCache(capacity=128)


@st.cache_data(max_entries=32)
def sample_preview(name: str, max_side: int) -> np.ndarray:
    """A built-in image, downscaled for preview."""
    return downscale(np.asarray(load_sample(name)), max_side)


def image_picker(key: str, default: tuple[str, ...] = ("Labelled grid",)) -> list[LoadedImage]:
    """Sample multiselect plus a multi-file uploader; returns every image that loaded.

    A file that cannot be loaded is reported by name; the others still load.
    """
    max_side = get_int("AUGLAB_PREVIEW_SIZE")
    left, right = st.columns([1, 1])
    chosen = left.multiselect(
        "Built-in images", list_samples(), default=[d for d in default if d in SAMPLES], key=f"{key}:samples",
        help="Teaching images generated here and photographs shipped with scikit-image.",
    )
    uploads = right.file_uploader(
        "Your images", type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{key}:uploads",
        help="JPEG, PNG, WebP, BMP, GIF or TIFF. Phone photos are rotated upright from their EXIF data.",
    )
    images = [LoadedImage(name, sample_preview(name, max_side)) for name in chosen]
    for upload in uploads or []:
        try:
            images.append(preview_cache().get(upload.getvalue(), upload.name, max_side))
        except AugLabError as exc:
            st.warning(f"**{exc.message}** {exc.hint or ''}", icon=":material/broken_image:")
    return images
