"""Every finished or stopped run kept in an embedded SQLite database, so runs survive a restart."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.results import RunResult

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE_PATH = PROJECT_ROOT / "runs" / "runs.sqlite"
STORE_PATH_VARIABLE = "LSTM_LAB_STORE"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ticker TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    history TEXT NOT NULL,
    test TEXT NOT NULL,
    seconds REAL NOT NULL,
    stopped INTEGER NOT NULL,
    epochs_completed INTEGER NOT NULL,
    group_name TEXT,
    model BLOB,
    extras TEXT
)
"""


def default_store_path() -> Path:
    """The store's path: $LSTM_LAB_STORE when set, else runs/runs.sqlite in the project."""
    configured = os.environ.get(STORE_PATH_VARIABLE)
    return Path(configured) if configured else DEFAULT_STORE_PATH


class RunStore:
    """Runs on disk. A damaged file is set aside and a new store is made; `notice` says so."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.notice: str | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._check()
        except sqlite3.DatabaseError:
            self._set_aside()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success and is always closed."""
        connection = sqlite3.connect(self.path, timeout=10)
        connection.row_factory = sqlite3.Row
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def _check(self) -> None:
        with self._connect() as connection:
            result = connection.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(result)
            connection.execute(SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
            if "extras" not in columns:
                # Stores written before runs carried significance tests and validation figures.
                connection.execute("ALTER TABLE runs ADD COLUMN extras TEXT")
            connection.execute("SELECT id, owner, config, model FROM runs LIMIT 1").fetchall()

    def _set_aside(self) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        damaged = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        os.replace(self.path, damaged)
        self.notice = (
            f"The saved runs could not be read (the file was damaged), so a new, empty store was "
            f"started. The old file was kept as {damaged.name}."
        )
        self._check()

    def save(self, result: Any, owner: str = "local", group: str | None = None) -> int:
        """Store a RunResult (with its model when it has one); return the new run's id."""
        model_bytes = getattr(result, "model_bytes", None)
        if model_bytes is None and getattr(result, "model", None) is not None:
            from lstm_core.model import model_to_bytes

            model_bytes = model_to_bytes(result.model)
            result.model_bytes = model_bytes
        payload = result.to_json()
        fingerprint = getattr(result, "data_fingerprint", "") or ""
        extras = result.extras_json() if hasattr(result, "extras_json") else None
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO runs (owner, created_at, ticker, data_fingerprint, config, metrics, "
                "history, test, seconds, stopped, epochs_completed, group_name, model, extras) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    owner,
                    payload["finished_at"],
                    result.config.ticker,
                    fingerprint,
                    json.dumps(payload["config"]),
                    json.dumps(payload["metrics"]),
                    json.dumps(payload["history"]),
                    json.dumps(payload["test"]),
                    float(payload["seconds"]),
                    int(payload["stopped"]),
                    int(payload["epochs_completed"]),
                    group,
                    model_bytes,
                    None if extras is None else json.dumps(extras),
                ),
            )
            return int(cursor.lastrowid)

    def table(self, owner: str | None = None) -> pd.DataFrame:
        """One row per run with its key hyperparameters and metrics, newest first."""
        query = (
            "SELECT id, created_at, config, metrics, seconds, stopped, group_name, extras FROM runs"
        )
        parameters: tuple[Any, ...] = ()
        if owner is not None:
            query += " WHERE owner = ?"
            parameters = (owner,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id DESC", parameters).fetchall()
        records = []
        for row in rows:
            config = json.loads(row["config"])
            metrics = json.loads(row["metrics"])
            lstm, baseline = metrics["lstm"], metrics["persistence"]
            extras = json.loads(row["extras"]) if row["extras"] else {}
            validation = extras.get("validation") or {}
            test_figures = extras.get("comparison") or {}
            records.append(
                {
                    "id": row["id"],
                    "when": row["created_at"],
                    "ticker": config["ticker"],
                    "lag": config["lag"],
                    "batch": config["batch_size"],
                    "epochs": config["epochs"],
                    "units": "/".join(str(size) for size in config["units"]),
                    "learning rate": config["learning_rate"],
                    "train share": config["train_fraction"],
                    "seed": config["seed"],
                    "LSTM RMSE ($)": lstm["rmse"],
                    "baseline RMSE ($)": baseline["rmse"],
                    "target": config.get("target", "level"),
                    "validation share": config.get("validation_fraction", 0.0),
                    "validation ratio": (validation.get("comparison") or {}).get(
                        "rmse_ratio", float("nan")
                    ),
                    "LSTM / baseline": lstm["rmse"] / baseline["rmse"],
                    "DM p (test)": test_figures.get("dm_pvalue", float("nan")),
                    "MSE (standardized)": lstm["mse_scaled"],
                    "direction right (%)": lstm["direction_accuracy"],
                    "seconds": row["seconds"],
                    "stopped": bool(row["stopped"]),
                    "group": row["group_name"] or "",
                }
            )
        return pd.DataFrame.from_records(
            records,
            columns=[
                "id", "when", "ticker", "lag", "batch", "epochs", "units", "learning rate",
                "train share", "seed", "target", "validation share", "validation ratio",
                "LSTM RMSE ($)", "baseline RMSE ($)", "LSTM / baseline", "DM p (test)",
                "MSE (standardized)", "direction right (%)", "seconds", "stopped", "group",
            ],
        )  # fmt: skip

    def load(self, run_id: int) -> Any:
        """A stored run as a RunResult without its model (load that with `load_model`)."""
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise StoreError(f"There is no saved run number {run_id}; it may have been deleted.")
        test = json.loads(row["test"])
        result = RunResult(
            config=TrainConfig.from_dict(json.loads(row["config"])),
            n_train=0,
            n_test=len(test["dates"]),
            metrics=json.loads(row["metrics"]),
            loss_history=list(json.loads(row["history"])["loss"]),
            test_dates=pd.DatetimeIndex(pd.to_datetime(test["dates"])),
            actual=np.asarray(test["actual"], dtype=np.float64),
            predicted=np.asarray(test["predicted"], dtype=np.float64),
            persistence=np.asarray(test["persistence"], dtype=np.float64),
            seconds=float(row["seconds"]),
            stopped=bool(row["stopped"]),
            epochs_completed=int(row["epochs_completed"]),
            finished_at=row["created_at"],
        )
        if row["extras"]:
            result.apply_extras(json.loads(row["extras"]))
        result.run_id = int(row["id"])
        return result

    def load_model(self, run_id: int) -> Any:
        """The stored Keras model, loaded with safe_mode so no stored code can run."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT model FROM runs WHERE id = ?", (int(run_id),)
            ).fetchone()
        if row is None or row["model"] is None:
            raise StoreError(f"Run {run_id} has no saved model.")
        from lstm_core.model import model_from_bytes

        return model_from_bytes(bytes(row["model"]))

    def delete(self, run_ids: Iterable[int], owner: str | None = None) -> int:
        """Delete runs by id (only `owner`'s, when given); return how many were deleted."""
        query = "DELETE FROM runs WHERE id = ?"
        rows = [(int(run_id),) for run_id in run_ids]
        if owner is not None:
            query += " AND owner = ?"
            rows = [(*row, owner) for row in rows]
        with self._connect() as connection:
            before = connection.total_changes
            connection.executemany(query, rows)
            return connection.total_changes - before
