"""Shared fixtures: tiny, seeded, offline data and an isolated data folder."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import pytest


@pytest.fixture
def rgb_image() -> np.ndarray:
    """A 64×80 seeded RGB uint8 image with structure (gradients and a square), not just noise."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:80]
    image = np.stack([x * 3, y * 4, (x + y) * 2], axis=-1).astype(np.uint8)
    image[16:40, 20:50] = (220, 40, 40)
    return np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Every test writes into its own data folder, never the user's."""
    monkeypatch.setenv("AUGLAB_DATA_DIR", str(tmp_path / "auglab_data"))
    monkeypatch.setenv("AUGLAB_WORKERS", "0")  # AppTests run app.py: workers come from the test (in-process fakes)
    return tmp_path / "auglab_data"
