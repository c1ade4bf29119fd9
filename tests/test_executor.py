"""The bounded executor: previews run in worker processes with a time limit and a memory cap."""

from __future__ import annotations

import importlib
import operator
import time

import numpy as np
import pytest

from augment_core import AugLabError
from augment_core.transforms import BoundedExecutor, catalog, render_grid_bounded
from augment_core.transforms.preview import render_grid


@pytest.fixture(scope="module")
def executor():
    pool = BoundedExecutor(1, max_bytes=1536 * 1024 * 1024)
    yield pool
    pool.shutdown()


def test_a_call_returns_its_result(executor):
    assert executor.call(operator.add, 2, 3, timeout=120) == 5  # the first call waits for start-up, not counted


def test_a_call_past_its_limit_is_stopped_and_the_worker_replaced(executor):
    executor.call(operator.add, 1, 1, timeout=120)  # worker started
    before = executor.restarts
    start = time.perf_counter()
    with pytest.raises(AugLabError, match="longer than 1 s"):
        executor.call(time.sleep, 30, timeout=1)
    assert time.perf_counter() - start < 10  # not the 30 s the call wanted
    assert executor.restarts == before + 1
    assert executor.call(operator.mul, 6, 7, timeout=120) == 42  # the replacement works


def test_the_functions_own_message_comes_back_as_is(executor):
    with pytest.raises(AugLabError, match="not a transform in the catalog"):
        executor.call(catalog.get_transform, "NoSuchTransform", timeout=120)


def test_a_call_over_the_memory_cap_is_a_message_not_a_crash(executor):
    with pytest.raises(AugLabError, match="more memory"):
        executor.call(bytearray, 8 * 1024**3, timeout=120)
    assert executor.call(operator.add, 1, 2, timeout=120) == 3


def test_bounded_grid_equals_the_direct_grid(rgb_image, monkeypatch):
    monkeypatch.setenv("AUGLAB_PREVIEW_TIMEOUT_S", "60")
    transform = catalog.create_transform("Rotate", {"limit": (-30, 30)})
    bounded = render_grid_bounded(transform, [rgb_image], n=4, seed=3, keep_images=True)
    direct = render_grid(transform, [rgb_image], n=4, seed=3)
    assert [t.caption for t in bounded.tiles] == [t.caption for t in direct.tiles]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(bounded.tiles, direct.tiles))
    # what pages ask for: the same encoded tiles, without shipping the full-size arrays back
    light = render_grid_bounded(transform, [rgb_image], n=4, seed=3)
    assert [t.encoded for t in light.tiles] == [t.encoded for t in direct.tiles]
    assert all(t.image is None for t in light.tiles)


def test_every_catalog_transform_previews_in_a_worker_without_torch(executor, rgb_image):
    """Preview workers block torch (a faster start): every transform must still preview there, as on the page."""
    failures = {}
    for name in catalog.list_transforms():
        transform = catalog.create_transform(name, image_size=rgb_image.shape[:2])
        try:
            executor.call(render_grid, transform, [rgb_image], 2, 0, timeout=60, encode=False)
        except AugLabError as exc:
            if "torch" in exc.message.lower() or "no module" in exc.message.lower():
                failures[name] = exc.message
    assert not failures, failures
    with pytest.raises(AugLabError, match="torch"):  # the block is what this test covers
        executor.call(importlib.import_module, "torch", timeout=30)
