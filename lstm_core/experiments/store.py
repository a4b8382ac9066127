"""Every finished or stopped run kept in a database, so runs survive a restart.

The database is an embedded SQLite file by default, or a PostgreSQL server that several app
servers share. Both go through one code path: SQLAlchemy 2 Core with bound parameters only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy
from sqlalchemy import (
    Column,
    Double,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.model.results import RunResult

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STORE_URL = "sqlite:///runs/runs.sqlite"
"""The embedded default; a relative SQLite path in a URL is taken from the project's folder."""
STORE_VARIABLE = "LSTM_LAB_STORE"
POSTGRESQL_DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT_SECONDS = 5

SQLITE_DAMAGED_CODES = {sqlite3.SQLITE_ERROR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
"""SQLite errors that mean the file is not a usable run store (not a database, corrupt, or a
database without our table's columns). A locked, read-only or unopenable file is not set aside."""

METADATA = MetaData()
RUNS = Table(
    "runs",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("ticker", Text, nullable=False),
    Column("data_fingerprint", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("history", Text, nullable=False),
    Column("test", Text, nullable=False),
    Column("seconds", Double, nullable=False),
    Column("stopped", Integer, nullable=False),
    Column("epochs_completed", Integer, nullable=False),
    Column("group_name", Text),
    Column("model", LargeBinary),
    Column("extras", Text),
    # AUTOINCREMENT, as before: a deleted run's id is never given to a new run.
    sqlite_autoincrement=True,
)
BACKTESTS = Table(
    "backtests",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("ticker", Text, nullable=False),
    Column("content", Text, nullable=False),
    sqlite_autoincrement=True,
)
"""Walk-forward backtests (lstm_core.forecasting.backtest), each kept whole as its JSON."""
TABLE_COLUMNS = [
    "id", "when", "ticker", "lag", "batch", "epochs", "units", "learning rate", "train share",
    "seed", "target", "validation share", "validation ratio", "LSTM RMSE ($)",
    "baseline RMSE ($)", "LSTM / baseline", "DM p (test)", "MSE (standardized)",
    "direction right (%)", "seconds", "stopped", "epochs done", "group",
]  # fmt: skip

_shared_engines: dict[str, Engine] = {}
_shared_engines_lock = threading.Lock()


def _store_url(configured: str | os.PathLike[str] | None = None) -> URL:
    """The store's URL from an argument, else $LSTM_LAB_STORE, else the embedded default."""
    if configured is None:
        configured = os.environ.get(STORE_VARIABLE, "").strip() or DEFAULT_STORE_URL
    if isinstance(configured, os.PathLike) or "://" not in configured:
        # A plain path, as before: relative to the folder the app was started from.
        return URL.create("sqlite", database=str(Path(configured).resolve()))
    try:
        url = make_url(configured)
    except (ArgumentError, ValueError) as error:
        # The text is not repeated: it may hold a password.
        raise StoreError(
            f"The run store's location ({STORE_VARIABLE}) is neither a file path nor a database "
            f"URL such as {DEFAULT_STORE_URL} or {POSTGRESQL_DRIVER}://user@host:5432/database."
        ) from error
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        if not url.database or url.database == ":memory:":
            raise StoreError(
                "A SQLite run store needs a file, such as sqlite:///runs/runs.sqlite; "
                "a store in memory would lose every run when the app stops."
            )
        database = Path(url.database)
        if not database.is_absolute():
            database = PROJECT_ROOT / database
        return url.set(drivername="sqlite", database=str(database))
    if url.drivername in ("postgresql", POSTGRESQL_DRIVER):
        return url.set(drivername=POSTGRESQL_DRIVER)
    raise StoreError(
        f"The run store must be a SQLite file or a PostgreSQL database (a URL starting with "
        f"sqlite:/// or {POSTGRESQL_DRIVER}://), not {url.drivername}://."
    )


def store_url(configured: str | os.PathLike[str] | None = None) -> str:
    """The run store's SQLAlchemy URL, password included, such as Optuna's study storage takes.

    `configured` is a file path or a URL; by default $LSTM_LAB_STORE, else runs/runs.sqlite.
    """
    return _store_url(configured).render_as_string(hide_password=False)


def _shared_engine(url: URL) -> Engine:
    """One pooled engine per PostgreSQL URL, so many sessions share a few connections."""
    key = url.render_as_string(hide_password=False)
    with _shared_engines_lock:
        if key not in _shared_engines:
            _shared_engines[key] = sqlalchemy.create_engine(
                url,
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                    "application_name": "lstm-stock-lab",
                },
            )
        return _shared_engines[key]


def _reason(error: SQLAlchemyError, password: str | None) -> str:
    """The driver's own short reason, such as 'Connection refused', without any password."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    # psycopg says "connection to server at ..., port ... failed: <the reason>".
    reason = reason.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip().rstrip(".")
    if password:
        reason = reason.replace(password, "***")
    return reason


def _is_damaged_sqlite(error: Exception) -> bool:
    original = getattr(error, "orig", error)
    return isinstance(original, _DamagedFile) or (
        isinstance(original, sqlite3.DatabaseError)
        and getattr(original, "sqlite_errorcode", None) in SQLITE_DAMAGED_CODES
    )


class _DamagedFile(sqlite3.DatabaseError):
    """SQLite's own integrity check found the file damaged."""


class RunStore:
    """Saved runs in SQLite or PostgreSQL. A damaged SQLite file is set aside and a new store
    is made; `notice` says so. Any failure to reach or use the database is a StoreError."""

    def __init__(self, location: str | os.PathLike[str] | None = None) -> None:
        self._url = _store_url(location)
        self.url = self._url.render_as_string(hide_password=False)
        """The SQLAlchemy URL (password included): Optuna's study storage can share it."""
        self.shown_url = self._url.render_as_string(hide_password=True)
        """The URL with any password hidden, for messages."""
        self.notice: str | None = None
        self.path: Path | None = None
        """The SQLite file, or None for PostgreSQL."""
        if self._url.get_backend_name() == "sqlite":
            self.path = Path(self._url.database or "")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"The run store's folder {self.path.parent} cannot be created ({error})."
                ) from error
            # A connection per use, as before, so no handle keeps the file open.
            self.engine = sqlalchemy.create_engine(
                self._url, poolclass=NullPool, connect_args={"timeout": 10}
            )
        else:
            self.engine = _shared_engine(self._url)
        try:
            self._prepare()
        except (SQLAlchemyError, sqlite3.DatabaseError) as error:
            if self.path is None or not self.path.exists() or not _is_damaged_sqlite(error):
                raise StoreError(self._sentence(error, "could not be opened")) from error
            self._set_aside(self.path)

    def _sentence(self, error: SQLAlchemyError | sqlite3.DatabaseError, what: str) -> str:
        reason = _reason(error, self._url.password)  # type: ignore[arg-type]
        return f"The run store at {self.shown_url} {what} ({reason}); check {STORE_VARIABLE}."

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A connection in a transaction that commits on success; errors become StoreError."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(self._sentence(error, "could not be read or written")) from error

    def _prepare(self) -> None:
        """Check a SQLite file, create the table if needed, and add columns newer than it."""
        with self.engine.begin() as connection:
            if self.path is not None:
                result = connection.execute(text("PRAGMA quick_check")).scalar()
                if result != "ok":
                    raise _DamagedFile(result)
            METADATA.create_all(connection, checkfirst=True)
            self._add_extras_column(connection)
            connection.execute(select(*RUNS.columns).limit(1)).fetchall()

    def _add_extras_column(self, connection: Connection) -> None:
        """Stores made before the `extras` column get it; their old runs keep NULL there."""
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE runs ADD COLUMN IF NOT EXISTS extras TEXT"))
            return
        columns = {column["name"] for column in sqlalchemy.inspect(connection).get_columns("runs")}
        if "extras" not in columns:
            connection.execute(text("ALTER TABLE runs ADD COLUMN extras TEXT"))

    def _set_aside(self, path: Path) -> None:
        """Keep the damaged SQLite file under a new name and start an empty store."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        damaged = path.with_name(f"{path.name}.damaged-{stamp}")
        os.replace(path, damaged)
        self.notice = (
            f"The saved runs could not be read (the file was damaged), so a new, empty store was "
            f"started. The old file was kept as {damaged.name}."
        )
        try:
            self._prepare()
        except (SQLAlchemyError, sqlite3.DatabaseError) as error:
            raise StoreError(self._sentence(error, "could not be opened")) from error

    def save(self, result: Any, owner: str = "local", group: str | None = None) -> int:
        """Store a RunResult (with its model when it has one); return the new run's id."""
        model_bytes = getattr(result, "model_bytes", None)
        if model_bytes is None and getattr(result, "model", None) is not None:
            from lstm_core.model.network import model_to_bytes

            model_bytes = model_to_bytes(result.model)
            result.model_bytes = model_bytes
        payload = result.to_json()
        extras_json = getattr(result, "extras_json", None)
        extras = extras_json() if callable(extras_json) else None
        values = {
            "owner": owner,
            "created_at": payload["finished_at"],
            "ticker": result.config.ticker,
            "data_fingerprint": getattr(result, "data_fingerprint", "") or "",
            "config": json.dumps(payload["config"]),
            "metrics": json.dumps(payload["metrics"]),
            "history": json.dumps(payload["history"]),
            "test": json.dumps(payload["test"]),
            "seconds": float(payload["seconds"]),
            "stopped": int(payload["stopped"]),
            "epochs_completed": int(payload["epochs_completed"]),
            "group_name": group,
            "model": model_bytes,
            "extras": None if extras is None else json.dumps(extras),
        }
        with self._begin() as connection:
            inserted = connection.execute(insert(RUNS).values(**values))
            return int(inserted.inserted_primary_key[0])

    def table(self, owner: str | None = None) -> pd.DataFrame:
        """One row per run with its key hyperparameters and metrics, newest first."""
        query = select(
            RUNS.c.id,
            RUNS.c.created_at,
            RUNS.c.config,
            RUNS.c.metrics,
            RUNS.c.seconds,
            RUNS.c.stopped,
            RUNS.c.epochs_completed,
            RUNS.c.group_name,
            RUNS.c.extras,
        )
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(RUNS.c.id.desc())).mappings().all()
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
                    "target": config.get("target", "level"),
                    "validation share": config.get("validation_fraction", 0.0),
                    "validation ratio": (validation.get("comparison") or {}).get(
                        "rmse_ratio", float("nan")
                    ),
                    "LSTM RMSE ($)": lstm["rmse"],
                    "baseline RMSE ($)": baseline["rmse"],
                    "LSTM / baseline": lstm["rmse"] / baseline["rmse"],
                    "DM p (test)": test_figures.get("dm_pvalue", float("nan")),
                    "MSE (standardized)": lstm["mse_scaled"],
                    "direction right (%)": lstm["direction_accuracy"],
                    "seconds": row["seconds"],
                    "stopped": bool(row["stopped"]),
                    "epochs done": row["epochs_completed"],
                    "group": row["group_name"] or "",
                }
            )
        return pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)

    def load(self, run_id: int) -> Any:
        """A stored run as a RunResult without its model (load that with `load_model`)."""
        columns = [column for column in RUNS.columns if column.name != "model"]
        with self._begin() as connection:
            row = (
                connection.execute(select(*columns).where(RUNS.c.id == int(run_id)))
                .mappings()
                .first()
            )
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
        result.run_id = int(row["id"])
        apply_extras = getattr(result, "apply_extras", None)
        if row["extras"] and callable(apply_extras):
            apply_extras(json.loads(row["extras"]))
        return result

    def load_model(self, run_id: int) -> Any:
        """The stored Keras model, loaded with safe_mode so no stored code can run."""
        with self._begin() as connection:
            model = connection.execute(
                select(RUNS.c.model).where(RUNS.c.id == int(run_id))
            ).scalar()
        if model is None:
            raise StoreError(f"Run {run_id} has no saved model.")
        from lstm_core.model.network import model_from_bytes

        return model_from_bytes(bytes(model))

    def save_backtest(self, result: Any, owner: str = "local") -> int:
        """Store a BacktestResult as its JSON; return the new backtest's id."""
        values = {
            "owner": owner,
            "created_at": result.finished_at,
            "ticker": result.config.ticker,
            "content": json.dumps(result.to_json()),
        }
        with self._begin() as connection:
            inserted = connection.execute(insert(BACKTESTS).values(**values))
            return int(inserted.inserted_primary_key[0])

    def latest_backtest(self, owner: str | None = None) -> Any | None:
        """The newest stored backtest (only `owner`'s, when given), or None."""
        from lstm_core.forecasting.backtest import BacktestResult

        query = select(BACKTESTS.c.content).order_by(BACKTESTS.c.id.desc()).limit(1)
        if owner is not None:
            query = query.where(BACKTESTS.c.owner == owner)
        with self._begin() as connection:
            content = connection.execute(query).scalar()
        return None if content is None else BacktestResult.from_json(json.loads(content))

    def delete(self, run_ids: Iterable[int], owner: str | None = None) -> int:
        """Delete runs by id (only `owner`'s, when given); return how many were deleted."""
        ids = [int(run_id) for run_id in run_ids]
        if not ids:
            return 0
        query = delete(RUNS).where(RUNS.c.id.in_(ids))
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self._begin() as connection:
            return int(connection.execute(query).rowcount)


def open_run_store() -> RunStore:
    """The configured run store; when it cannot be opened, the embedded default instead.

    The default's `notice` then says why, in a sentence without any password. When the
    configured store is the default itself, or the default fails too, StoreError is raised.
    """
    try:
        return RunStore()
    except StoreError as error:
        try:
            configured = store_url()
        except StoreError:
            configured = None
        if configured == store_url(DEFAULT_STORE_URL):
            raise
        fallback = RunStore(DEFAULT_STORE_URL)
        instead = (
            f"Until that is fixed, runs are saved in this machine's own store "
            f"({DEFAULT_STORE_URL}), which only this app server sees."
        )
        fallback.notice = " ".join([str(error), instead, fallback.notice or ""]).strip()
        return fallback
