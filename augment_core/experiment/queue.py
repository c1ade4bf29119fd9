"""The run queue: queued runs are rows of the run database, claimed atomically by workers.

The life of a run::

    queued --claim--> running --> completed | cancelled | failed
       |                 |--graceful worker stop (app restart)--> queued again (from scratch)
       '--cancel--> cancelled          '--no heartbeat for AUGLAB_STALE_SECONDS--> failed

* :meth:`RunQueue.enqueue` writes the spec (its data reference is ``spec.dataset``: a built-in
  name or a saved upload under the data folder) as a "queued" run in one transaction.
* :meth:`RunQueue.claim` moves the oldest queued run to "running" in one ``UPDATE … RETURNING``
  statement, so two workers (or two servers on one data folder) never claim the same run.
* The worker writes each finished epoch as it ends, and :meth:`RunQueue.heartbeat` (its time,
  the latest step) every ``AUGLAB_HEARTBEAT_SECONDS``; the answer says whether a cancel was asked.
* A running run whose heartbeat is older than ``AUGLAB_STALE_SECONDS`` is marked *failed* with
  its finished epochs (:meth:`RunQueue.reap_stale`), not re-queued: a run that killed its worker
  (out of memory, say) would kill the next one too, and the user can run it again in one click.
  A worker stopped politely (the app is restarting) instead puts its run back in the queue
  (:meth:`RunQueue.requeue`); it starts again from scratch, and because every random choice is
  seeded its numbers equal those of an uninterrupted run.

Ownership: :meth:`enqueue` stores a SHA-256 of the starting session's secret, never the secret;
only that secret may cancel (:meth:`request_cancel`). Anyone with the run's id or the page's
public ``follow`` token may read it.

Example (what a search or a multi-arm experiment does with it)::

    queue = RunQueue()
    ids = [queue.enqueue(spec, owner=secret) for spec in candidates]
    queue.wait(ids[0], timeout=600)                 # or poll queue.state(i) / RunStore().load_run(i)
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.results import BatchProgress
from augment_core.experiment.spec import ExperimentSpec
from augment_core.experiment.store import RunStore
from augment_core.settings import data_dir, get_int, get_setting

ACTIVE = ("queued", "running")
FINISHED = ("completed", "cancelled", "failed")


class QueueFullError(AugLabError):
    """Refused to enqueue: ``AUGLAB_MAX_QUEUED`` runs are already waiting."""


def owner_hash(secret: str) -> str:
    """What the database keeps of an owner secret (so reading the file does not let anyone cancel)."""
    return hashlib.sha256(secret.encode()).hexdigest() if secret else ""


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


@dataclass(frozen=True)
class RunState:
    """A queued or running run as the database has it right now (what a page draws from)."""

    run_id: int  # store id
    spec: ExperimentSpec  # what it runs
    status: str  # queued, running, completed, cancelled or failed
    message: str  # why it stopped (empty while it goes and when completed)
    owner: str  # owner hash ("" for runs started outside the queue)
    follow: str  # public token of the page that started it
    worker: str  # "host:pid" of the worker running it ("" when queued)
    heartbeat_age_s: float | None  # seconds since the worker's last heartbeat (None if it never beat)
    cancel_requested: bool  # a cancel was asked and not yet honoured
    progress: BatchProgress | None  # the latest step the worker reported
    started_at: str  # ISO-8601 UTC (empty while queued)
    position: int | None  # 1-based place in the queue (None unless queued)
    device: str  # where it trains ("" until a worker started it)

    def owned_by(self, secret: str) -> bool:
        """True when ``secret`` is the one that started the run."""
        return bool(self.owner) and owner_hash(secret) == self.owner


class RunQueue:
    """Enqueue, claim, heartbeat, cancel and reap runs in the run database.

    Args:
        store: The database (default: ``<AUGLAB_DATA_DIR>/runs.sqlite3``).
    """

    def __init__(self, store: RunStore | None = None) -> None:
        self.store = store if store is not None else RunStore()

    def _conn(self):  # noqa: ANN202 - sqlite3.Connection; the store's per-thread connection
        return self.store._conn()  # noqa: SLF001 - one database, one owner of the connection

    def enqueue(self, spec: ExperimentSpec, *, owner: str = "", follow: str = "", request: dict[str, Any] | None = None) -> int:
        """Write ``spec`` as a queued run; return its id.

        ``request`` (JSON-ready) is written in the same transaction, so no worker claims the run
        without it; see :func:`augment_core.experiment.queue_executor.run_queued` (arms, a data part).

        Raises:
            QueueFullError: ``AUGLAB_MAX_QUEUED`` runs are already waiting.
        """
        limit = get_int("AUGLAB_MAX_QUEUED")
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")  # count and insert under one write lock: the limit holds across processes
            waiting = conn.execute("SELECT COUNT(*) FROM runs WHERE status='queued'").fetchone()[0]
            if waiting >= limit:
                raise QueueFullError(f"The queue is full: {waiting} runs are waiting to start.",
                                     hint="Try again when some have started (an administrator can raise "
                                          "AUGLAB_MAX_QUEUED or AUGLAB_WORKERS).", field="queue")
            cur = conn.execute(
                "INSERT INTO runs (name, spec, status, class_names, dataset_fingerprint, versions, started_at, owner, "
                "follow, queued_at) VALUES (?, ?, 'queued', '[]', '', '{}', '', ?, ?, ?)",
                (spec.name, spec.to_json(), owner_hash(owner), follow, _now_iso()))
            if request is not None:
                conn.execute("INSERT INTO run_requests (run_id, request) VALUES (?, ?)", (cur.lastrowid, json.dumps(request)))
            return int(cur.lastrowid)  # type: ignore[arg-type]

    def request_of(self, run_id: int) -> dict[str, Any] | None:
        """The ``request`` a run was enqueued with (None for a plain run)."""
        row = self._conn().execute("SELECT request FROM run_requests WHERE run_id=?", (run_id,)).fetchone()
        return None if row is None else json.loads(row["request"])

    def claim(self, worker: str) -> tuple[int, ExperimentSpec] | None:
        """Take the oldest queued run for ``worker`` (atomically); None when the queue is empty."""
        conn = self._conn()
        with conn:
            row = conn.execute(
                "UPDATE runs SET status='running', worker=?, heartbeat_at=?, cancel_requested=0, progress='' "
                "WHERE id = (SELECT id FROM runs WHERE status='queued' ORDER BY id LIMIT 1) AND status='queued' "
                "RETURNING id, spec", (worker, time.time())).fetchone()
        if row is None:
            return None
        return int(row["id"]), ExperimentSpec.from_json(row["spec"])

    def heartbeat(self, run_id: int, worker: str, progress: BatchProgress | None = None) -> bool:
        """Record that ``worker`` is alive on ``run_id`` (and its latest step); True if a cancel was asked.

        Also True when the run is no longer this worker's (reaped as stale, deleted): stop then too.
        """
        payload = json.dumps(progress.__dict__) if progress is not None else None
        conn = self._conn()
        with conn:
            conn.execute("UPDATE runs SET heartbeat_at=?, progress=COALESCE(?, progress) WHERE id=? AND worker=?",
                         (time.time(), payload, run_id, worker))
            row = conn.execute("SELECT cancel_requested, status, worker FROM runs WHERE id=?", (run_id,)).fetchone()
        return row is None or bool(row["cancel_requested"]) or row["status"] != "running" or row["worker"] != worker

    def request_cancel(self, run_id: int, secret: str) -> str:
        """Cancel ``run_id`` for its owner: a queued run is cancelled at once, a running one flagged.

        Returns:
            The run's status after the request ("cancelled", or "running" until the worker stops).

        Raises:
            AugLabError: no such run, or ``secret`` did not start it.
        """
        conn = self._conn()
        with conn:
            row = conn.execute("SELECT status, owner FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                raise AugLabError(f"There is no run {run_id}.", field="run_id")
            if not row["owner"] or row["owner"] != owner_hash(secret):
                raise AugLabError("Only the session that started this run can cancel it.",
                                  hint="You can follow it from this link; ask its owner to stop it.", field="owner")
            if row["status"] == "queued":
                conn.execute("UPDATE runs SET status='cancelled', message=?, finished_at=? WHERE id=? AND status='queued'",
                             ("Cancelled before it started.", _now_iso(), run_id))
                return "cancelled"
            if row["status"] == "running":
                conn.execute("UPDATE runs SET cancel_requested=1 WHERE id=?", (run_id,))
            return str(row["status"])

    def requeue(self, run_id: int, worker: str) -> None:
        """Put a run that ``worker`` stopped politely back at its place in the queue, to start afresh."""
        conn = self._conn()
        with conn:
            # Not when the user asked to cancel too: then "cancelled" is the truth.
            if conn.execute("UPDATE runs SET status='queued', worker='', progress='', heartbeat_at=0, message='', "
                            "started_at='', finished_at='', seconds=0, analysis='{}' WHERE id=? AND worker=? "
                            "AND status IN ('running', 'cancelled') AND cancel_requested=0", (run_id, worker)).rowcount:
                # from scratch: the rerun writes the same seeded epochs again
                conn.execute("DELETE FROM epochs WHERE run_id=?", (run_id,))
                conn.execute("DELETE FROM finals WHERE run_id=?", (run_id,))

    def fail(self, run_id: int, message: str) -> None:
        """Mark a queued or running run failed with ``message`` (keeps its finished epochs)."""
        conn = self._conn()
        with conn:
            conn.execute("UPDATE runs SET status='failed', message=?, finished_at=? WHERE id=? AND status IN ('queued', 'running')",
                         (message, _now_iso(), run_id))

    def reap_stale(self, *, stale_s: float | None = None) -> list[int]:
        """Mark failed every running run whose worker's heartbeat is older than ``stale_s``; return their ids."""
        limit = float(stale_s if stale_s is not None else get_setting("AUGLAB_STALE_SECONDS"))
        conn = self._conn()
        with conn:
            # worker != '': runs trained in-process by the CLI or a script never beat and are not the queue's to reap
            rows = conn.execute("SELECT id, worker FROM runs WHERE status='running' AND worker != '' AND heartbeat_at < ?",
                                (time.time() - limit,)).fetchall()
            for row in rows:
                done = conn.execute("SELECT COUNT(*) FROM epochs WHERE run_id=?", (row["id"],)).fetchone()[0]
                conn.execute(
                    "UPDATE runs SET status='failed', message=?, finished_at=? WHERE id=? AND status='running' AND heartbeat_at < ?",
                    (f"Its worker ({row['worker'] or 'unknown'}) stopped answering: no heartbeat for {limit:g} s (the "
                     f"process was killed, ran out of memory or lost its machine). Its {done} finished epoch(s) are kept. "
                     "It is not restarted by itself, because a run that stopped its worker could stop the next one "
                     "too; use Run again on the Runs page.", _now_iso(), row["id"], time.time() - limit))
        return [int(r["id"]) for r in rows]

    def state(self, run_id: int) -> RunState:
        """The run as the database has it now.

        Raises:
            AugLabError: there is no such run (deleted, or a wrong link).
        """
        conn = self._conn()
        row = conn.execute("SELECT id, spec, status, message, owner, follow, worker, heartbeat_at, cancel_requested, "
                           "progress, started_at, device FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise AugLabError(f"There is no run {run_id} (it may have been deleted).", field="run_id")
        position = None
        if row["status"] == "queued":
            position = 1 + conn.execute("SELECT COUNT(*) FROM runs WHERE status='queued' AND id<?", (run_id,)).fetchone()[0]
        progress = BatchProgress(**json.loads(row["progress"])) if row["progress"] else None
        age = time.time() - row["heartbeat_at"] if row["heartbeat_at"] else None
        return RunState(int(row["id"]), ExperimentSpec.from_json(row["spec"]), row["status"], row["message"], row["owner"],
                        row["follow"], row["worker"], age, bool(row["cancel_requested"]), progress, row["started_at"],
                        position, row["device"])

    def latest_for(self, follow: str) -> int | None:
        """The newest active run started from page token ``follow``, else its newest run; None if none."""
        if not follow:
            return None
        row = self._conn().execute(
            "SELECT id FROM runs WHERE follow=? ORDER BY (status IN ('queued', 'running')) DESC, id DESC LIMIT 1",
            (follow,)).fetchone()
        return int(row["id"]) if row is not None else None

    def active(self) -> dict[str, list[int]]:
        """Ids of queued runs and runs a worker is training, oldest first: ``{"queued": [...], "running": [...]}``."""
        out: dict[str, list[int]] = {"queued": [], "running": []}
        # A "running" row no worker claimed was written by an in-process run (the CLI); not the queue's.
        for row in self._conn().execute("SELECT id, status FROM runs WHERE status='queued' OR (status='running' "
                                        "AND worker != '') ORDER BY id"):
            out[row["status"]].append(int(row["id"]))
        return out

    def recent_seconds(self, limit: int = 5) -> list[float]:
        """Wall times of the last ``limit`` completed runs (to guess when a queued run starts)."""
        rows = self._conn().execute("SELECT seconds FROM runs WHERE status='completed' ORDER BY id DESC LIMIT ?", (limit,))
        return [float(r["seconds"]) for r in rows]

    def wait(self, run_id: int, timeout: float | None = None, *, interval: float = 0.2) -> RunState:
        """Poll until the run has finished (or ``timeout`` passes); return its state. For scripts and tests."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.state(run_id)
            if current.status in FINISHED or (deadline is not None and time.monotonic() > deadline):
                return current
            time.sleep(interval)

    def clean_uploads(self, folder: Path | None = None, *, keep_s: float | None = None) -> list[Path]:
        """Delete saved uploads (``<data dir>/uploads/*.zip``) that no stored run refers to and that are older
        than ``AUGLAB_UPLOAD_KEEP_HOURS``; return what was deleted."""
        folder = folder if folder is not None else data_dir() / "uploads"
        keep = keep_s if keep_s is not None else 3600 * float(get_setting("AUGLAB_UPLOAD_KEEP_HOURS"))
        if not folder.is_dir():
            return []
        used: set[str] = set()
        for row in self._conn().execute("SELECT spec FROM runs"):
            dataset: Any = json.loads(row["spec"]).get("dataset", "")
            used.add(Path(str(dataset)).name)
        removed = []
        for path in folder.glob("*.zip"):
            if path.name not in used and time.time() - path.stat().st_mtime > keep:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed
