"""The run store's database: its URL (SQLite file or PostgreSQL), shared engines and tables.

The database is an embedded SQLite file by default, or a PostgreSQL server that several app
servers share. Both go through one code path: SQLAlchemy 2 Core with bound parameters only.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import sqlalchemy
from sqlalchemy import (
    Column,
    Double,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lstm_core.errors import StoreError

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
    "direction right (%)", "seconds", "stopped", "epochs done", "group", "model",
]  # fmt: skip


_shared_engines: dict[str, Engine] = {}


_shared_engines_lock = threading.Lock()


def parsed_store_url(configured: str | os.PathLike[str] | None = None) -> URL:
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
    return parsed_store_url(configured).render_as_string(hide_password=False)


def shared_engine(url: URL) -> Engine:
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


def failure_reason(error: SQLAlchemyError, password: str | None) -> str:
    """The driver's own short reason, such as 'Connection refused', without any password."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    # psycopg says "connection to server at ..., port ... failed: <the reason>".
    reason = reason.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip().rstrip(".")
    if password:
        reason = reason.replace(password, "***")
    return reason


def is_damaged_sqlite(error: Exception) -> bool:
    original = getattr(error, "orig", error)
    return isinstance(original, DamagedFile) or (
        isinstance(original, sqlite3.DatabaseError)
        and getattr(original, "sqlite_errorcode", None) in SQLITE_DAMAGED_CODES
    )


class DamagedFile(sqlite3.DatabaseError):
    """SQLite's own integrity check found the file damaged."""
