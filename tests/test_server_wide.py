"""The one-per-server instances that every session's pages share (job and task managers)."""

from __future__ import annotations

import threading

from augment_core.prove.server_wide import ServerWide


def test_made_once_on_first_use_however_many_threads_ask():
    made = []

    def make():
        made.append(object())
        return made[-1]

    shared = ServerWide(make)
    assert made == []  # nothing is made before it is asked for
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(shared.get())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and all(s is made[0] for s in seen)


def test_replace_returns_the_old_one_and_none_means_make_anew():
    shared = ServerWide(list)
    first = shared.get()
    mine = ["mine"]
    assert shared.replace(mine) is first and shared.get() is mine
    assert shared.replace(None) is mine
    assert shared.get() == [] and shared.get() is not first
