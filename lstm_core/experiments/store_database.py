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


SQLITE_DAMAGED_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
"""SQLite errors that mean the file is not a usable database (not a database, or corrupt). A
locked, read-only or unopenable file, or someone else's database, is never set aside."""


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


OPEN_TRAININGS = Table(
    "open_trainings",
    METADATA,
    Column("seat", Text, primary_key=True),
    Column("what", Text, nullable=False),
    Column("server", Text, nullable=False),
    Column("started_at", Double, nullable=False),
    Column("beat_at", Double, nullable=False),
)
"""A browser's training that has not ended yet, and which page server runs it (see
lstm_core.experiments.open_trainings): what lets another server say it was interrupted."""


TABLE_COLUMNS = [
    "id", "when", "ticker", "lag", "batch", "epochs", "units", "learning rate", "train share",
    "seed", "target", "validation share", "validation ratio", "LSTM RMSE ($)",
    "baseline RMSE ($)", "LSTM / baseline", "DM p (test)", "MSE (standardized)",
    "direction right (%)", "seconds", "stopped", "epochs done", "group", "model", "inputs",
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


def shown_url(url: URL | str) -> str:
    """A database URL for people: user, host and database kept, the password and any
    `password=` query parameter masked (render_as_string hides only the former)."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "(a database URL that cannot be read)"
    query = {
        key: ("***" if key.lower() in SECRET_QUERY_KEYS else value)
        for key, value in url.query.items()
    }
    # The query's *** is percent-encoded when rendered; shown as typed, like the password's.
    return url.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


SECRET_QUERY_KEYS = {"password", "passwd", "pwd", "sslpassword"}


def url_password(url: URL) -> str | None:
    """The URL's password, also one given as a `password=` query parameter."""
    if url.password:
        return str(url.password)
    for key, value in url.query.items():
        if key.lower() in SECRET_QUERY_KEYS:
            return value if isinstance(value, str) else ",".join(value)
    return None


def connect_options(url: URL | str, wait_seconds: float) -> dict[str, object]:
    """How long a connection may wait, in the dialect's own words: SQLite's lock `timeout`,
    libpq's `connect_timeout` (PostgreSQL refuses the other's option)."""
    backend = make_url(url).get_backend_name() if isinstance(url, str) else url.get_backend_name()
    if backend == "sqlite":
        return {"timeout": wait_seconds}
    if backend == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return {}


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


SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    """The file is empty or starts with SQLite's header: it is (or will be) a database, so it
    is never set aside for a schema error, only for SQLite's own finding of damage."""
    try:
        with path.open("rb") as file:
            start = file.read(len(SQLITE_HEADER))
    except OSError:
        return True
    return start == b"" or start == SQLITE_HEADER


def is_schema_race(error: Exception) -> bool:
    """Another process created the same table or column (or stamped Optuna's schema version)
    first: harmless, try again. PostgreSQL says so through its catalogue's unique indexes
    (two page servers of a room saving their first runs at once hit it)."""
    message = str(getattr(error, "orig", error)).lower()
    return any(
        words in message
        for words in (
            "already exists",
            "duplicate column",
            "unique constraint failed",
            "pg_type_typname_nsp_index",
            "pg_class_relname_nsp_index",
        )
    )


class DamagedFile(sqlite3.DatabaseError):
    """SQLite's own integrity check found the file damaged."""
