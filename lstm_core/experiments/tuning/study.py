"""A study's storage beside the run store, its name and plan, created or continued."""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from lstm_core.config import (
    TrainConfig,
)
from lstm_core.errors import LabError
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.store_database import (
    POSTGRESQL_DRIVER,
    connect_options,
    failure_reason,
    is_schema_race,
    shown_url,
    url_password,
)
from lstm_core.experiments.tuning.space import SearchSpace

STUDY_FORMAT = 2
"""Bumped when what a study keeps in its user attributes changes (2: values on the model's
scale, no test figure in any trial, the best trial's test figure in the study's "test")."""


class StudyError(LabError):
    """A study cannot be opened or continued; the message says why and what to do."""


def study_storage_url(store: RunStore | None = None) -> str:
    """Where studies live, as a SQLAlchemy URL: studies.sqlite in a SQLite run store's folder
    (a damaged study file then leaves the runs alone), else the run store's own database."""
    store = store or RunStore()
    if store.path is None:
        return store.url
    return f"sqlite:///{store.path.resolve().parent / 'studies.sqlite'}"


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """Optuna's RDB storage at `url` (SQLite or PostgreSQL), or a StudyError sentence when it
    cannot be used. Several first runs at once may race to create its tables: tried again."""
    url = _storage_url(url)
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                url, engine_kwargs={"connect_args": connect_options(url, 30)}
            )
        except (sqlalchemy.exc.SQLAlchemyError, RuntimeError, ValueError, ImportError) as error:
            if attempt < 4 and is_schema_race(error):
                continue
            raise StudyError(
                f"The study storage {shown_url(url)} cannot be used: it is damaged, unreachable "
                f"or was written by another Optuna version ({_reason(error, url)}). Move a study "
                "file aside to start new studies; the runs its trials saved stay in the run store."
            ) from error
    raise AssertionError("unreachable")


def _storage_url(url: str) -> str:
    """`url` with PostgreSQL's driver named; other databases refused in one sentence."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as error:
        raise StudyError(
            "The study storage is not a database URL such as sqlite:///studies.sqlite or "
            f"{POSTGRESQL_DRIVER}://user@host:5432/database."
        ) from error
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername=POSTGRESQL_DRIVER).render_as_string(hide_password=False)
    if backend != "sqlite":
        raise StudyError(
            f"Studies are kept in SQLite or PostgreSQL (a URL starting with sqlite:/// or "
            f"{POSTGRESQL_DRIVER}://), not {backend}."
        )
    return url


def _reason(error: BaseException, url: str) -> str:
    """The error's first line, without the URL's password."""
    password = url_password(make_url(url))
    if isinstance(error, sqlalchemy.exc.SQLAlchemyError):
        return failure_reason(error, password)[:200]
    reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
    return reason.replace(password, "***") if password else reason


@contextlib.contextmanager
def storage_errors(storage: optuna.storages.BaseStorage) -> Iterator[None]:
    """Optuna's StorageInternalError (a read-only file, another program's `studies` table)
    becomes one StudyError sentence."""
    try:
        yield
    except (optuna.exceptions.StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as error:
        url = getattr(storage, "url", "")
        cause = error.__cause__ or error
        raise StudyError(
            f"The study storage {shown_url(url)} cannot be read or written "
            f"({_reason(cause, url) if url else type(error).__name__}); check that it is "
            "writable and holds only Optuna's studies."
        ) from error


def check_study_name(name: str) -> None:
    """A study name is one printable line (a newline could forge a line in a log)."""
    if not name.strip() or any(unicodedata.category(char).startswith("C") for char in name):
        raise StudyError(f"A study name must be one line of printable text, not {name!r}.")


def abandon_stale_trials(study: optuna.Study) -> int:
    """Trials left RUNNING by a process that died (kill -9, a lost machine) are marked failed
    with the reason, so a continued study does not show them running for ever."""
    abandoned = 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(
            trial._trial_id,
            "failure",
            "abandoned: the process running it ended before it finished",
        )
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        abandoned += 1
    return abandoned


def study_names(storage: optuna.storages.BaseStorage | str) -> list[str]:
    """Names of the studies kept in `storage` (a storage or its URL), newest first."""
    if isinstance(storage, str):
        storage = open_storage(storage)
    with storage_errors(storage):
        summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    ordered = sorted(summaries, key=lambda summary: summary.datetime_start or dt.datetime.min)
    return [summary.study_name for summary in reversed(ordered)]


def new_study_name(ticker: str, taken: Collection[str] = ()) -> str:
    """'MSFT 2026-11-30 00:41:03', with ' #2' and so on when that name is taken."""
    name = f"{ticker} {dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')}"
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        candidate = f"{name} #{number}"
    return candidate


@dataclass
class StudyPlan:
    """What a study searches and on which data; kept in the study so it can be continued."""

    base: TrainConfig
    space: SearchSpace
    seed: int
    pruning: bool = True

    def to_attrs(self, fingerprint: str) -> dict[str, Any]:
        """The study's user attributes."""
        return {
            "format": STUDY_FORMAT,
            "base": self.base.to_dict(),
            "space": self.space.to_dict(),
            "seed": self.seed,
            "pruning": self.pruning,
            "fingerprint": fingerprint,
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any], name: str) -> StudyPlan:
        """Inverse of `to_attrs`; a study from another format is refused with a sentence."""
        if attrs.get("format") != STUDY_FORMAT:
            raise StudyError(
                f"The study {name!r} was not made by this version of LSTM Stock Lab, so it "
                "cannot be continued; start a new study."
            )
        space = SearchSpace.of({key: tuple(value) for key, value in attrs["space"].items()})
        return cls(
            base=TrainConfig.from_dict(attrs["base"]),
            space=space,
            seed=int(attrs["seed"]),
            pruning=bool(attrs["pruning"]),
        )


def stored_study(name: str, storage: optuna.storages.BaseStorage | str) -> optuna.Study | None:
    """The study `name` kept in `storage` (a storage or its URL), or None when there is none."""
    check_study_name(name)
    if isinstance(storage, str):
        storage = open_storage(storage)
    with storage_errors(storage):
        if name not in {summary.study_name for summary in storage.get_all_studies()}:
            return None
        return optuna.load_study(study_name=name, storage=storage)


def create_or_load_study(
    name: str,
    storage_url: str,
    plan: StudyPlan | None,
    fingerprint: str,
    pruner: optuna.pruners.BasePruner | None = None,
) -> tuple[optuna.Study, StudyPlan]:
    """A new study with `plan`, or the existing study `name` with the plan it was started with.

    `pruner` replaces the plan's (MedianPruner, or none without pruning). Continuing needs
    the same prices it started on; the sampler's seed moves on by the number
    of trials already run, so a continued study does not repeat its first trials' settings.
    """
    check_study_name(name)
    storage = open_storage(storage_url)
    stored = stored_study(name, storage)
    if stored is not None:
        plan = StudyPlan.from_attrs(stored.user_attrs, name)
        if stored.user_attrs.get("fingerprint") != fingerprint:
            raise StudyError(
                f"The study {name!r} was started on other prices for {plan.base.ticker}; "
                "continue it on the same data, or start a new study."
            )
        done = len(stored.trials)
    elif plan is None:
        raise StudyError(f"There is no study named {name!r} to continue.")
    else:
        done = 0
    if pruner is None:
        pruner = optuna.pruners.MedianPruner() if plan.pruning else optuna.pruners.NopPruner()
    with storage_errors(storage):
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=optuna.samplers.TPESampler(seed=plan.seed + done),
            pruner=pruner,
            direction="minimize",
            load_if_exists=True,
        )
        if stored is None:
            for key, value in plan.to_attrs(fingerprint).items():
                study.set_user_attr(key, value)
        else:
            abandon_stale_trials(study)
    return study, plan
