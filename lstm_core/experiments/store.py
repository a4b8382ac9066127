"""Every finished or stopped run kept in a database, so runs survive a restart.

RunStore saves, lists, loads and deletes runs and backtests; store_database.py says where the
database is and what its tables hold.
"""

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
import sqlalchemy
from sqlalchemy import (
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from lstm_core import json_text
from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.experiments import store_database
from lstm_core.experiments.store_database import (
    BACKTESTS,
    METADATA,
    RUNS,
    STORE_VARIABLE,
    TABLE_COLUMNS,
    DamagedFile,
    connect_options,
    failure_reason,
    is_damaged_sqlite,
    is_schema_race,
    is_sqlite_file,
    parsed_store_url,
    shared_engine,
    shown_url,
    store_url,
    url_password,
)
from lstm_core.experiments.store_rows import table_record
from lstm_core.model.results import RunResult


class RunStore:
    """Saved runs in SQLite or PostgreSQL. A damaged SQLite file is set aside and a new store
    is made; `notice` says so. Any failure to reach or use the database is a StoreError."""

    def __init__(self, location: str | os.PathLike[str] | None = None) -> None:
        self._url = parsed_store_url(location)
        self.url = self._url.render_as_string(hide_password=False)
        """The SQLAlchemy URL (password included): Optuna's study storage can share it."""
        self.shown_url = shown_url(self._url)
        """The URL with any password hidden (also one given as ?password=), for messages."""
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
                self._url, poolclass=NullPool, connect_args=connect_options(self._url, 10)
            )
        else:
            self.engine = shared_engine(self._url)
        try:
            self._prepare_racing()
        except (SQLAlchemyError, sqlite3.DatabaseError) as error:
            # Only a file that is provably not a sound database is set aside: a locked,
            # unreadable or healthy one (someone else's, a race) is never renamed.
            if (
                self.path is None
                or not self.path.is_file()
                or (is_sqlite_file(self.path) and not is_damaged_sqlite(error))
            ):
                raise StoreError(self._sentence(error, "could not be opened")) from error
            self._set_aside(self.path)

    def _prepare_racing(self) -> None:
        """`_prepare`, again when another process created the same table or column first
        (two servers or commands opening a new or older store at the same moment)."""
        for attempt in range(5):
            try:
                self._prepare()
                return
            except (SQLAlchemyError, sqlite3.DatabaseError) as error:
                if attempt == 4 or not is_schema_race(error):
                    raise

    def _sentence(self, error: SQLAlchemyError | sqlite3.DatabaseError, what: str) -> str:
        reason = failure_reason(error, url_password(self._url))
        return f"The run store at {self.shown_url} {what} ({reason}); check {STORE_VARIABLE}."

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A connection in a transaction that commits on success; errors become StoreError."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(self._sentence(error, "could not be read or written")) from error

    def begin(self) -> contextlib.AbstractContextManager[Connection]:
        """A transaction on the store's database for its smaller tables (open trainings)."""
        return self._begin()

    def _prepare(self) -> None:
        """Check a SQLite file, create the table if needed, and add columns newer than it."""
        with self.engine.begin() as connection:
            if self.path is not None:
                result = connection.execute(text("PRAGMA quick_check")).scalar()
                if result != "ok":
                    raise DamagedFile(result)
            self._refuse_foreign_runs(connection)
            METADATA.create_all(connection, checkfirst=True)
            self._add_extras_column(connection)
            connection.execute(select(*RUNS.columns).limit(1)).fetchall()

    def _refuse_foreign_runs(self, connection: Connection) -> None:
        """A `runs` table without our columns is another program's: refused before anything
        is created or added, so their database is left exactly as it was."""
        inspector = sqlalchemy.inspect(connection)
        if not inspector.has_table("runs"):
            return
        present = {column["name"] for column in inspector.get_columns("runs")}
        missing = {column.name for column in RUNS.columns} - present - {"extras"}
        if missing:
            raise StoreError(
                f"The database at {self.shown_url} has a runs table that is not LSTM Stock Lab's "
                f"(it lacks {', '.join(sorted(missing))}); it was left untouched: point "
                f"{STORE_VARIABLE} at another database or file."
            )

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
            f"The saved runs could not be read ({path.name} was damaged or not a database), so a "
            f"new, empty store was started. The old file was kept as {damaged.name}."
        )
        try:
            self._prepare_racing()
        except (SQLAlchemyError, sqlite3.DatabaseError) as error:
            raise StoreError(self._sentence(error, "could not be opened")) from error

    def save(self, result: Any, owner: str = "local", group: str | None = None) -> int:
        """Store a RunResult (with its model when it has one); return the new run's id."""
        model_bytes = getattr(result, "model_bytes", None)
        if model_bytes is None and getattr(result, "model", None) is not None:
            from lstm_core.model.twin import model_bytes as bytes_of

            model_bytes = bytes_of(result.model)
            result.model_bytes = model_bytes
        payload = result.to_json()
        extras_json = getattr(result, "extras_json", None)
        extras = extras_json() if callable(extras_json) else None
        values = {
            "owner": owner,
            "created_at": payload["finished_at"],
            "ticker": result.config.ticker,
            "data_fingerprint": getattr(result, "data_fingerprint", "") or "",
            "config": json_text.dumps(payload["config"]),
            "metrics": json_text.dumps(payload["metrics"]),
            "history": json_text.dumps(payload["history"]),
            "test": json_text.dumps(payload["test"]),
            "seconds": float(payload["seconds"]),
            "stopped": int(payload["stopped"]),
            "epochs_completed": int(payload["epochs_completed"]),
            "group_name": group,
            "model": model_bytes,
            "extras": None if extras is None else json_text.dumps(extras),
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
        records = [table_record(row) for row in rows]
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
        result.data_fingerprint = row["data_fingerprint"]
        apply_extras = getattr(result, "apply_extras", None)
        if row["extras"] and callable(apply_extras):
            apply_extras(json.loads(row["extras"]))
        return result

    def load_model(self, run_id: int) -> Any:
        """The stored model: a Keras model loaded with safe_mode so no stored code can run, or,
        with a cluster configured, its NumPy twin (lstm_core.model.twin.load_model_bytes)."""
        with self._begin() as connection:
            model = connection.execute(
                select(RUNS.c.model).where(RUNS.c.id == int(run_id))
            ).scalar()
        if model is None:
            raise StoreError(f"Run {run_id} has no saved model.")
        from lstm_core.model.twin import load_model_bytes

        return load_model_bytes(bytes(model))

    def save_backtest(self, result: Any, owner: str = "local") -> int:
        """Store a BacktestResult as its JSON; return the new backtest's id."""
        values = {
            "owner": owner,
            "created_at": result.finished_at,
            "ticker": result.config.ticker,
            "content": json_text.dumps(result.to_json()),
        }
        with self._begin() as connection:
            inserted = connection.execute(insert(BACKTESTS).values(**values))
            return int(inserted.inserted_primary_key[0])

    def latest_backtest(self, owner: str | None = None) -> Any | None:
        """The newest stored backtest (only `owner`'s, when given), or None."""
        from lstm_core.forecasting.backtest_results import BacktestResult

        query = select(BACKTESTS.c.content).order_by(BACKTESTS.c.id.desc()).limit(1)
        if owner is not None:
            query = query.where(BACKTESTS.c.owner == owner)
        with self._begin() as connection:
            content = connection.execute(query).scalar()
        return None if content is None else BacktestResult.from_json(json.loads(content))

    def complete_runs(self, fingerprint: str, owner: str | None = None) -> list[dict[str, Any]]:
        """Runs trained to the end on data with `fingerprint`, newest first: each run's id,
        stored config (JSON text, not yet validated), finish time, seconds and whether it has a
        model. Stopped runs are left out: they are not what their config asks for."""
        query = select(
            RUNS.c.id,
            RUNS.c.config,
            RUNS.c.created_at,
            RUNS.c.seconds,
            RUNS.c.model.is_not(None).label("has_model"),
        ).where(RUNS.c.data_fingerprint == fingerprint, RUNS.c.stopped == 0)
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(RUNS.c.id.desc())).mappings().all()
        return [dict(row) | {"has_model": bool(row["has_model"])} for row in rows]

    def existing_ids(self, run_ids: Iterable[int], owner: str | None = None) -> set[int]:
        """Which of `run_ids` are still in the store (another tab may have deleted some)."""
        ids = [int(run_id) for run_id in run_ids]
        if not ids:
            return set()
        query = select(RUNS.c.id).where(RUNS.c.id.in_(ids))
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self._begin() as connection:
            return {int(run_id) for run_id in connection.execute(query).scalars()}

    def runs_with_model(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Every run that kept its model, newest first: id, finish time and config JSON."""
        query = select(RUNS.c.id, RUNS.c.created_at, RUNS.c.config, RUNS.c.stopped).where(
            RUNS.c.model.is_not(None)
        )
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(RUNS.c.id.desc())).mappings().all()
        return [dict(row) for row in rows]

    def backtests(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Every stored backtest, newest first: id, finish time and ticker (no content)."""
        query = select(BACKTESTS.c.id, BACKTESTS.c.created_at, BACKTESTS.c.ticker)
        if owner is not None:
            query = query.where(BACKTESTS.c.owner == owner)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(BACKTESTS.c.id.desc())).mappings().all()
        return [dict(row) for row in rows]

    def load_backtest(self, backtest_id: int, owner: str | None = None) -> Any:
        """One stored backtest as a BacktestResult; StoreError when it is gone or unreadable."""
        from lstm_core.forecasting.backtest_results import BacktestResult

        query = select(BACKTESTS.c.content).where(BACKTESTS.c.id == int(backtest_id))
        if owner is not None:
            query = query.where(BACKTESTS.c.owner == owner)
        with self._begin() as connection:
            content = connection.execute(query).scalar()
        if content is None:
            raise StoreError(
                f"There is no saved backtest number {backtest_id}; it may have been deleted."
            )
        try:
            return BacktestResult.from_json(json.loads(content))
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"Saved backtest {backtest_id} was made by an older version and cannot be read "
                f"now ({error})."
            ) from error

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
        if configured == store_url(store_database.DEFAULT_STORE_URL):
            raise
        fallback = RunStore(store_database.DEFAULT_STORE_URL)
        instead = (
            f"Until that is fixed, runs are saved in this machine's own store "
            f"({store_database.DEFAULT_STORE_URL}), which only this app server sees."
        )
        fallback.notice = " ".join([str(error), instead, fallback.notice or ""]).strip()
        return fallback
