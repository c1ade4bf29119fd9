"""Augmentation Lab's library: every piece of logic behind the pages, free of any UI.

Importing this package sets ``NO_ALBUMENTATIONS_UPDATE=1`` before albumentations is
imported anywhere, so the library never calls out to check for updates.
"""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from augment_core.errors import AugLabError, markdown_text  # noqa: E402

__all__ = ["AugLabError", "markdown_text"]
