"""Data sets the pages keep in the server between reruns, within one memory budget.

The Experiment form prepares the chosen data at the chosen image size (a built-in set, a zip,
per-class uploads) and shows samples from it; the Runs and Experiment pages rebuild a stored
run's images to show its mistakes. No rerun should rebuild them, but a cache counted in entries
would let a few large sets (each up to ``AUGLAB_MAX_DATA_BYTES`` / 4 of uint8 images) pile up
gigabytes in the server, shared by every session. This one counts bytes
(``AUGLAB_DATA_CACHE_BYTES``) and drops the least recently used set first.

Example:
    >>> prepared = data_cache().get_or_build(("builtin", "shapes", 64), lambda: prepare_builtin("shapes", image_size=64))
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from augment_core.experiment import ImageDataset
from augment_core.prove.server_wide import ServerWide
from augment_core.prove.setup import PreparedData
from augment_core.settings import get_int

P = TypeVar("P", PreparedData, ImageDataset)


def data_bytes(data: PreparedData | ImageDataset) -> int:
    """What a data set (or a prepared one) holds in memory: its images and labels."""
    dataset = data.dataset if isinstance(data, PreparedData) else data
    return int(dataset.images.nbytes + dataset.labels.nbytes)


class DataCache:
    """Least-recently-used data sets, at most ``max_bytes`` of them in all.

    A set larger than the whole budget is returned but not kept (the next rerun builds it again,
    which is slow but bounded). Thread-safe: sessions run in threads of one server, and two that
    ask for the same set at once get one build (the second waits for it), not two copies.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[PreparedData | ImageDataset, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}  # one lock per key being built

    @property
    def held_bytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return sum(size for _, size in self._items.values())

    def get_or_build(self, key: Hashable, build: Callable[[], P]) -> P:
        """The set for ``key``: the kept one, or ``build()`` (kept when it fits; errors are not kept)."""
        with self._lock:
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:  # other keys build at the same time; the same key builds once
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]  # type: ignore[return-value]
            try:
                prepared = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            size = data_bytes(prepared)
            with self._lock:
                if size <= self.max_bytes:
                    self._items[key] = (prepared, size)
                    self._items.move_to_end(key)
                    while sum(s for _, s in self._items.values()) > self.max_bytes:
                        self._items.popitem(last=False)
            return prepared

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items


_CACHE = ServerWide(lambda: DataCache(get_int("AUGLAB_DATA_CACHE_BYTES")))


def data_cache() -> DataCache:
    """The server's one cache of data sets kept for pages (the form's prepared sets, stored runs' images)."""
    return _CACHE.get()
