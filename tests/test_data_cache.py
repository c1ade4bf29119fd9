"""The Experiment form's prepared data sets are kept within a byte budget, least recently used first out."""

from __future__ import annotations

import numpy as np
import pytest

from augment_core import AugLabError
from augment_core.experiment import ImageDataset
from augment_core.prove import DataCache, PreparedData, data_bytes


def _prepared(images: int, side: int = 10) -> PreparedData:
    data = ImageDataset("t", np.zeros((images, side, side, 3), np.uint8), np.zeros(images, np.int64), ("a",), "test")
    return PreparedData(data, None, "t", {})


def test_counts_bytes_and_drops_the_least_recently_used():
    one = data_bytes(_prepared(10))  # 10 images of 10×10×3 plus labels
    assert one == 10 * 300 + 10 * 8
    cache = DataCache(max_bytes=2 * one)
    builds = []

    def build(key):
        builds.append(key)
        return _prepared(10)

    a = cache.get_or_build("a", lambda: build("a"))
    cache.get_or_build("b", lambda: build("b"))
    assert cache.get_or_build("a", lambda: build("a")) is a and builds == ["a", "b"]  # kept: not rebuilt
    cache.get_or_build("c", lambda: build("c"))  # over budget: "b" (least recently used) goes
    assert "a" in cache and "c" in cache and "b" not in cache and cache.held_bytes == 2 * one


def test_a_set_larger_than_the_budget_is_returned_but_not_kept():
    cache = DataCache(max_bytes=1000)
    small = cache.get_or_build("small", lambda: _prepared(2))
    big = cache.get_or_build("big", lambda: _prepared(100))
    assert len(big.dataset.images) == 100 and "big" not in cache
    assert cache.get_or_build("small", lambda: _prepared(2)) is small, "a set too big to keep evicts nothing"


def test_a_failed_build_is_not_kept():
    cache = DataCache(max_bytes=10**6)

    def broken():
        raise AugLabError("bad zip")

    with pytest.raises(AugLabError):
        cache.get_or_build("z", broken)
    assert "z" not in cache and cache.held_bytes == 0


def test_two_sessions_asking_for_the_same_set_at_once_get_one_build():
    import threading
    import time

    cache = DataCache(max_bytes=10**6)
    builds = []

    def slow_build():
        builds.append(1)
        time.sleep(0.3)
        return _prepared(5)

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get_or_build("same", slow_build))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and got[0] is got[1] is got[2]
