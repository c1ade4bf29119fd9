"""SQLite store of experiment runs, in the data folder (``AUGLAB_DATA_DIR``).

Written as the run progresses (one row per finished epoch), so a crash or a cancelled run loses
nothing that finished. WAL journal with a busy timeout, one connection per thread, and several
processes on one file (the app's pages, its workers, a second server): the file is also the run
queue (see :mod:`augment_core.experiment.queue`). A file that is not a readable SQLite database is
refused with a message naming it, never recreated over. Each run's kept models (to try and export,
see :mod:`augment_core.experiment.export`) are files in the data folder named by :func:`kept_model_file`;
:meth:`RunStore.delete_run` deletes them with the run.

Example:
    >>> store = RunStore()                      # <data dir>/runs.sqlite3
    >>> result = run_experiment(spec, store=store)
    >>> [r["id"] for r in store.list_runs()]
    >>> store.export_csv(result.run_id)
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment.results import EpochRecord, ExperimentResult, FinalEvaluation
from augment_core.experiment.spec import ExperimentSpec
from augment_core.settings import data_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    class_names TEXT NOT NULL,
    dataset_fingerprint TEXT NOT NULL,
    versions TEXT NOT NULL,
    analysis TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL DEFAULT 0
    -- queue columns (owner, worker, heartbeat_at, cancel_requested, queued_at, progress, device): see _QUEUE_COLUMNS
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    arm TEXT NOT NULL, replicate INTEGER NOT NULL, seed INTEGER NOT NULL, epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL, lr REAL, seconds REAL,
    PRIMARY KEY (run_id, arm, replicate, epoch)
);
CREATE TABLE IF NOT EXISTS finals (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    arm TEXT NOT NULL, replicate INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, arm, replicate)
);
CREATE TABLE IF NOT EXISTS run_requests (
    -- what a queued run trains besides its spec (arms, a part of the data): see queue_executor.py
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    request TEXT NOT NULL
);
"""
# Added to runs for the queue; ALTERed into databases made before the queue existed.
_QUEUE_COLUMNS = {
    "owner": "TEXT NOT NULL DEFAULT ''",  # sha256 of the starting session's secret (or user), never the secret
    "follow": "TEXT NOT NULL DEFAULT ''",  # public token of the page that started it: who may read it by link
    "worker": "TEXT NOT NULL DEFAULT ''",  # "host:pid" of the worker that claimed it
    "heartbeat_at": "REAL NOT NULL DEFAULT 0",  # time.time() of the worker's last heartbeat
    "cancel_requested": "INTEGER NOT NULL DEFAULT 0",  # set by the page; the worker stops after the current step
    "queued_at": "TEXT NOT NULL DEFAULT ''",  # ISO-8601 UTC
    "progress": "TEXT NOT NULL DEFAULT ''",  # JSON of the latest BatchProgress, written with each heartbeat
    "device": "TEXT NOT NULL DEFAULT ''",  # where the run trained ("cpu", "cuda:0", "ray")
}
BUSY_TIMEOUT_MS = 30_000  # writers wait this long for another process's write to end
EPOCH_COLUMNS = ("arm", "replicate", "seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


def kept_model_file(run_id: int, arm: str) -> Path:
    """Where run ``run_id``'s trained ``arm`` model is kept: ``<data dir>/models/run<id>_<arm>.pt``."""
    return data_dir() / "models" / f"run{int(run_id)}_{arm}.pt"


def delete_kept_models(run_id: int) -> int:
    """Delete every arm's kept model of run ``run_id``; return how many files went."""
    files = list((data_dir() / "models").glob(f"run{int(run_id)}_*.pt"))  # "run1_*" never matches run11's files
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


class RunStore:
    """Runs, their per-epoch metrics and final analyses in one SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else data_dir() / "runs.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            with self._conn() as conn:
                conn.executescript(_SCHEMA)
                have = {r["name"] for r in conn.execute("PRAGMA table_info(runs)")}
                for name, decl in _QUEUE_COLUMNS.items():
                    if name not in have:
                        conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise corrupt_database_error(self.path, exc) from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def create_run(self, result: ExperimentResult) -> int:
        """Insert a run with status "running"; return its id."""
        with self._conn() as conn:
            cur = conn.execute(
                "INSERT INTO runs (name, spec, status, class_names, dataset_fingerprint, versions, started_at, device) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (result.spec.name, result.spec.to_json(), "running", json.dumps(list(result.class_names)),
                 result.dataset_fingerprint, json.dumps(result.versions), result.started_at, result.versions.get("device", "")))
            return int(cur.lastrowid)  # type: ignore[arg-type]

    def attach_run(self, run_id: int, result: ExperimentResult) -> None:
        """Fill in a queued run's data details as its worker starts it (the row exists since it was enqueued)."""
        with self._conn() as conn:
            found = conn.execute("UPDATE runs SET class_names=?, dataset_fingerprint=?, versions=?, started_at=?, device=? "
                                 "WHERE id=?", (json.dumps(list(result.class_names)), result.dataset_fingerprint,
                                                json.dumps(result.versions), result.started_at,
                                                result.versions.get("device", ""), run_id)).rowcount
        if not found:
            raise AugLabError(f"There is no stored run {run_id} to start (was it deleted?).", field="run_id")

    def add_epoch(self, run_id: int, record: EpochRecord) -> None:
        """Save one finished epoch (committed at once)."""
        values = [getattr(record, c) for c in EPOCH_COLUMNS]
        with self._conn() as conn:
            conn.execute(f"INSERT OR REPLACE INTO epochs (run_id, {', '.join(EPOCH_COLUMNS)}) VALUES (?{',?' * len(EPOCH_COLUMNS)})",
                         [run_id, *values])

    def add_final(self, run_id: int, final: FinalEvaluation) -> None:
        """Save one arm's end-of-training analysis."""
        with self._conn() as conn:
            conn.execute("INSERT OR REPLACE INTO finals (run_id, arm, replicate, data) VALUES (?,?,?,?)",
                         (run_id, final.arm, final.replicate, json.dumps(final.to_dict())))

    def finish_run(self, result: ExperimentResult) -> None:
        """Record the final status, message, analysis and end time."""
        with self._conn() as conn:
            conn.execute("UPDATE runs SET status=?, message=?, analysis=?, finished_at=?, seconds=? WHERE id=?",
                         (result.status, result.message, json.dumps(result.analysis, allow_nan=True),
                          result.finished_at, result.seconds, result.run_id))

    def list_runs(self) -> list[dict[str, Any]]:
        """Newest first: id, name, status, started/finished, verdict and mean difference."""
        rows = self._conn().execute("SELECT id, name, status, message, started_at, finished_at, seconds, analysis FROM runs ORDER BY id DESC").fetchall()
        out = []
        for row in rows:
            comparison = json.loads(row["analysis"]).get("comparison") or {}
            out.append({"id": row["id"], "name": row["name"], "status": row["status"], "message": row["message"],
                        "started_at": row["started_at"], "finished_at": row["finished_at"], "seconds": row["seconds"],
                        "verdict": comparison.get("verdict", ""), "mean_difference": comparison.get("mean")})
        return out

    def load_run(self, run_id: int) -> ExperimentResult:
        """Rebuild the :class:`ExperimentResult` of run ``run_id``."""
        conn = self._conn()
        row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise AugLabError(f"There is no stored run {run_id}.", hint="List the runs to see their ids.", field="run_id")
        epochs = [EpochRecord(**{c: r[c] for c in EPOCH_COLUMNS}) for r in conn.execute(
            f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id=? ORDER BY replicate, epoch, arm DESC", (run_id,))]
        finals = [FinalEvaluation(**json.loads(r["data"])) for r in conn.execute(
            "SELECT data FROM finals WHERE run_id=? ORDER BY replicate, arm DESC", (run_id,))]
        return ExperimentResult(ExperimentSpec.from_json(row["spec"]), row["status"], row["message"], row["id"],
                                tuple(json.loads(row["class_names"])), row["dataset_fingerprint"], epochs, finals,
                                json.loads(row["analysis"]), row["started_at"], row["finished_at"],
                                json.loads(row["versions"]), row["seconds"])

    def delete_run(self, run_id: int) -> bool:
        """Delete run ``run_id``, its metrics and its kept models; True if it existed.

        Raises:
            AugLabError: the run is queued or running (a worker is writing it): cancel it first.
        """
        with self._conn() as conn:
            # One statement, so a worker cannot claim the run between the check and the delete.
            deleted = conn.execute("DELETE FROM runs WHERE id=? AND status NOT IN ('queued', 'running')", (run_id,)).rowcount
            row = None if deleted else conn.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()
        if deleted:
            delete_kept_models(run_id)  # after the commit: a failed delete keeps the run and its models together
            return True
        if row is not None:
            raise AugLabError(f"Run {run_id} is {row['status']}, so it cannot be deleted.",
                              hint="Cancel it first; once it has stopped it can be deleted.", field="run_id")
        return False

    def export_json(self, run_id: int) -> str:
        """The whole run as JSON (spec, epochs, finals, analysis, versions, times, status)."""
        return json.dumps(self.load_run(run_id).to_dict(), indent=2)

    def export_csv(self, run_id: int) -> str:
        """Per-epoch metrics as CSV, one row per arm, replicate and epoch."""
        result = self.load_run(run_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(("run_id", *EPOCH_COLUMNS))
        for e in result.epochs:
            writer.writerow((run_id, *(getattr(e, c) for c in EPOCH_COLUMNS)))
        return buffer.getvalue()


def corrupt_database_error(path: Path, exc: Exception) -> AugLabError:
    """The user-facing error for a run database that SQLite cannot read (never silently replaced)."""
    return AugLabError(f"The run database {path} cannot be read: {exc}.",
                       hint="It is left untouched. Move it aside (or restore a backup) and restart; a new, empty "
                            "database is then created in its place.", field="AUGLAB_DATA_DIR")
