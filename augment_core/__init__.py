"""Augmentation Lab's library: every piece of logic behind the pages, free of any UI.

Importing this package sets ``NO_ALBUMENTATIONS_UPDATE=1`` before albumentations is
imported anywhere, so the library never calls out to check for updates, and imports
albumentations without its optional torch helpers (see :func:`_import_albumentations_lean`).
"""

import os
import sys

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def _import_albumentations_lean() -> None:
    """Import albumentations without loading torch, unless torch is already loaded.

    albumentations 2.0.8 imports its ``albumentations.pytorch`` helpers (``ToTensorV2``) whenever
    torch can be imported, which costs about 1.5 s of a 2-core machine's CPU: most of the
    Playground's start. We never use those helpers (the engine converts to tensors itself), and
    pages that train, estimate or predict import torch themselves when they need it. ``None`` in
    ``sys.modules`` makes ``import torch`` fail for the one import; albumentations catches that
    ImportError, and the block is lifted at once, so torch imports normally afterwards.
    """
    if "albumentations" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import albumentations  # noqa: F401
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


_import_albumentations_lean()

from augment_core.errors import AugLabError, markdown_text  # noqa: E402

__all__ = ["AugLabError", "markdown_text"]
