"""SQLite store of experiment runs, in the data folder (``AUGLAB_DATA_DIR``).

Written as the run progresses (one row per finished epoch), so a crash or a cancelled run loses
nothing that finished. WAL journal, one connection per thread (a page's worker thread and its
script thread can share one :class:`RunStore`).

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
"""
EPOCH_COLUMNS = ("arm", "replicate", "seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


class RunStore:
    """Runs, their per-epoch metrics and final analyses in one SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else data_dir() / "runs.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.row_factory = sqlite3.Row
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
                "INSERT INTO runs (name, spec, status, class_names, dataset_fingerprint, versions, started_at) VALUES (?,?,?,?,?,?,?)",
                (result.spec.name, result.spec.to_json(), "running", json.dumps(list(result.class_names)),
                 result.dataset_fingerprint, json.dumps(result.versions), result.started_at))
            return int(cur.lastrowid)  # type: ignore[arg-type]

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
        """Delete run ``run_id`` and its metrics; True if it existed."""
        with self._conn() as conn:
            return conn.execute("DELETE FROM runs WHERE id=?", (run_id,)).rowcount > 0

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
