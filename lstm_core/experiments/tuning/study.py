"""A study's storage beside the run store, its name and plan, created or continued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import optuna
import sqlalchemy.exc

from lstm_core.config import (
    TrainConfig,
)
from lstm_core.errors import LabError
from lstm_core.experiments.store import RunStore
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
    """Optuna's RDB storage at `url`, or a StudyError sentence when the file cannot be used."""
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 30}})
    except (sqlalchemy.exc.SQLAlchemyError, RuntimeError, ValueError) as error:
        reason = str(error).splitlines()[0][:200]
        raise StudyError(
            f"The study file {url.removeprefix('sqlite:///')} cannot be used: it is damaged or "
            f"was written by another Optuna version ({reason}). Move it aside to start new "
            "studies; the runs its trials saved stay in the run store."
        ) from error


def study_names(storage: optuna.storages.BaseStorage | str) -> list[str]:
    """Names of the studies kept in `storage` (a storage or its URL), newest first."""
    if isinstance(storage, str):
        storage = open_storage(storage)
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
    if isinstance(storage, str):
        storage = open_storage(storage)
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
    return study, plan
