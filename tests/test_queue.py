"""The run queue in the store: atomic claims across processes, heartbeats, cancel, stale runs, ownership, files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from augment_core.errors import AugLabError
from augment_core.experiment import (EpochRecord, ExperimentSpec, QueueFullError, RunQueue, RunStore, owner_hash,
                                     storage_error_message)

SPEC = ExperimentSpec(epochs=2, seeds=1)
ROOT = Path(__file__).resolve().parents[1]


def _record(epoch: int, arm: str = "plain") -> EpochRecord:
    return EpochRecord(arm, 0, 0, epoch, 0.5, 0.5, 0.5, 0.5, 1e-3, 0.01)


def test_enqueue_claim_in_order_and_positions():
    queue = RunQueue()
    ids = [queue.enqueue(SPEC, owner="alice", follow="page-a") for _ in range(3)]
    assert [queue.state(i).position for i in ids] == [1, 2, 3]
    assert queue.state(ids[0]).status == "queued" and queue.state(ids[0]).owner == owner_hash("alice") != "alice"
    run_id, spec = queue.claim("w1")
    assert run_id == ids[0] and spec == SPEC
    state = queue.state(ids[0])
    assert state.status == "running" and state.worker == "w1" and state.position is None
    assert [queue.state(i).position for i in ids[1:]] == [1, 2]
    assert queue.active() == {"queued": ids[1:], "running": ids[:1]}
    assert queue.latest_for("page-a") == ids[2]  # the newest of its active runs


CLAIMER = """
import sys, time
from augment_core.experiment import RunQueue, RunStore
queue = RunQueue(RunStore(sys.argv[1]))
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all claimers start together
got = []
while True:
    claimed = queue.claim(sys.argv[2])
    if claimed is None:
        break
    got.append(claimed[0])
print(",".join(map(str, got)))
"""


def test_two_worker_processes_claiming_at_once_never_claim_a_run_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGLAB_MAX_QUEUED", "100")
    store = RunStore(tmp_path / "runs.sqlite3")
    queue = RunQueue(store)
    ids = {queue.enqueue(SPEC) for _ in range(40)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = str(time.time() + 8)  # after every process has imported and opened the database
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, str(store.path), f"w{i}", start], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT) for i in range(3)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    claimed = [int(x) for out in outputs for x in out.split(",") if x]
    assert sorted(claimed) == sorted(ids)  # every run claimed, none twice, none lost
    workers = {queue.state(i).worker for i in ids}
    assert workers <= {"w0", "w1", "w2"}


def test_full_queue_is_refused_with_a_message(monkeypatch):
    monkeypatch.setenv("AUGLAB_MAX_QUEUED", "2")
    queue = RunQueue()
    queue.enqueue(SPEC)
    queue.enqueue(SPEC)
    with pytest.raises(QueueFullError, match="queue is full") as refused:
        queue.enqueue(SPEC)
    assert "AUGLAB_MAX_QUEUED" in refused.value.hint
    queue.claim("w")  # one starts: room again
    queue.enqueue(SPEC)


def test_cancel_needs_the_owner_secret_queued_at_once_running_by_flag():
    queue = RunQueue()
    first, second = queue.enqueue(SPEC, owner="alice"), queue.enqueue(SPEC, owner="alice")
    with pytest.raises(AugLabError, match="Only the session that started"):
        queue.request_cancel(first, "mallory")
    assert queue.request_cancel(second, "alice") == "cancelled"
    assert queue.state(second).status == "cancelled"
    queue.claim("w")
    assert queue.heartbeat(first, "w") is False
    assert queue.request_cancel(first, "alice") == "running"
    assert queue.state(first).cancel_requested and queue.heartbeat(first, "w") is True


def test_heartbeat_stores_progress_and_a_stale_run_becomes_failed_with_its_epochs():
    from augment_core.experiment import BatchProgress

    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    queue.claim("w-dead")
    queue.heartbeat(run_id, "w-dead", BatchProgress("plain", 0, 1, 2, 3, 0.7, 0.25))
    queue.store.add_epoch(run_id, _record(1))
    assert queue.state(run_id).progress.fraction == 0.25
    assert queue.reap_stale(stale_s=60) == []  # fresh heartbeat: still running
    time.sleep(0.05)
    assert queue.reap_stale(stale_s=0.01) == [run_id]
    state = queue.state(run_id)
    assert state.status == "failed" and "w-dead" in state.message and "1 finished epoch" in state.message
    assert "not restarted" in state.message
    assert len(queue.store.load_run(run_id).epochs) == 1  # nothing finished is lost
    assert queue.heartbeat(run_id, "w-dead") is True  # a worker that comes back is told to stop


def test_runs_written_outside_the_queue_are_never_reaped():
    from augment_core.experiment import ExperimentResult

    store = RunStore()
    run_id = store.create_run(ExperimentResult(SPEC))  # the CLI's in-process run: status running, no worker
    assert RunQueue(store).reap_stale(stale_s=0) == []
    assert store.load_run(run_id).status == "running"


def test_requeue_after_a_polite_stop_starts_from_scratch_unless_cancel_was_asked():
    queue = RunQueue()
    run_id = queue.enqueue(SPEC, owner="alice")
    queue.claim("w")
    queue.store.add_epoch(run_id, _record(1))
    queue.requeue(run_id, "w")
    state = queue.state(run_id)
    assert state.status == "queued" and state.position == 1 and queue.store.load_run(run_id).epochs == []
    queue.claim("w2")
    queue.request_cancel(run_id, "alice")
    queue.requeue(run_id, "w2")  # the user asked to cancel: it stays stopped
    assert queue.state(run_id).status == "running" and queue.state(run_id).cancel_requested


def test_a_running_or_queued_run_cannot_be_deleted():
    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    with pytest.raises(AugLabError, match="is queued, so it cannot be deleted"):
        queue.store.delete_run(run_id)
    queue.claim("w")
    with pytest.raises(AugLabError, match="is running"):
        queue.store.delete_run(run_id)
    queue.fail(run_id, "test")
    assert queue.store.delete_run(run_id) is True
    assert queue.store.delete_run(run_id) is False


def test_corrupt_database_file_is_refused_with_its_name_and_left_untouched(tmp_path):
    path = tmp_path / "runs.sqlite3"
    garbage = b"this is not a database, it is a note somebody saved here" * 100
    path.write_bytes(garbage)
    with pytest.raises(AugLabError) as refused:
        RunStore(path)
    assert str(path) in refused.value.message and "Move it aside" in refused.value.hint
    assert path.read_bytes() == garbage


def test_a_database_from_before_the_queue_gains_its_columns(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, spec TEXT NOT NULL,
        status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', class_names TEXT NOT NULL, dataset_fingerprint TEXT NOT NULL,
        versions TEXT NOT NULL, analysis TEXT NOT NULL DEFAULT '{}', started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0);""")
    conn.execute("INSERT INTO runs (name, spec, status, class_names, dataset_fingerprint, versions, started_at) "
                 "VALUES ('old', ?, 'completed', '[]', '', '{}', '2025-01-01T00:00:00+00:00')", (SPEC.to_json(),))
    conn.commit()
    conn.close()
    queue = RunQueue(RunStore(path))
    assert queue.state(1).status == "completed" and queue.state(1).owner == ""
    assert queue.enqueue(SPEC) == 2


def test_unreferenced_old_uploads_are_cleaned_and_referenced_or_fresh_ones_kept(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    used, unused, fresh = (folder / f"{n}.zip" for n in ("aaa", "bbb", "ccc"))
    for path in (used, unused, fresh):
        path.write_bytes(b"PK")
    old = time.time() - 7200
    for path in (used, unused):
        os.utime(path, (old, old))
    queue = RunQueue()
    queue.enqueue(ExperimentSpec(dataset=str(used)))
    removed = queue.clean_uploads(folder, keep_s=3600)
    assert removed == [unused] and used.exists() and fresh.exists() and not unused.exists()


def test_storage_errors_are_said_in_plain_words():
    assert "disk holding the data folder is full" in storage_error_message(sqlite3.OperationalError("database or disk is full"))
    assert "Could not write" in storage_error_message(PermissionError(13, "Permission denied"))
