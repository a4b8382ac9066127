"""Optuna studies over the training settings: tuned on the validation period, judged once on test.

A study samples settings with TPE (`TPESampler(seed)`), trains each trial through
`run_training`, and scores it by the validation period's RMSE ratio to persistence; no test
figure enters the objective. After every epoch the trial reports its validation figure and a
pruner (`MedianPruner` by default) may end a hopeless trial. That check runs in our progress
hook and stop request, a few lines of our own: optuna-integration's KerasPruningCallback raises
inside `model.fit`, which our `train_model` interface (a progress hook and a stop request, no
extra callbacks) does not take, and which would lose the trained epochs' figures.

Studies live in Optuna's RDB storage next to the run store, so a study survives a restart and
can be continued (its trial numbers go on). Every complete trial is also saved as a run in the
run store (group "tune"), so the Compare page can overlay them. The best trial's held-out test
figures, which its run already holds, are reported once at the end as the study's only test
figure.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
import sqlalchemy.exc

from lstm_core.config import (
    BATCH_SIZE_CHOICES,
    LEARNING_RATE_CHOICES,
    MAX_EPOCHS,
    MAX_LAG,
    MAX_UNITS,
    RECOMMENDED,
    TARGETS,
    TrainConfig,
)
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError
from lstm_core.experiments.store import RunStore
from lstm_core.preprocessing import prepare_config

STUDY_FORMAT = 1
"""Bumped when what a study keeps in its user attributes changes."""

TUNE_GROUP = "tune"
"""The run store's group name of a study's trials."""

MIN_TIMEOUT_SECONDS = 10.0
"""No trial takes less: building and tracing a model alone takes a few seconds on these CPUs."""

DEFAULT_BASE = RECOMMENDED.with_changes(patience=0)
"""Settings a study does not search: the Recommended preset (daily changes, validation 10%)."""


class StudyError(LabError):
    """A study cannot be opened or continued; the message says why and what to do."""


class StudyInterrupted(Exception):
    """Raised inside a trial when the person stopped the study; the trial is marked failed."""


@dataclass(frozen=True)
class Setting:
    """One setting a study can search: its kind, hard limits and default range."""

    name: str
    label: str
    kind: str
    """"int", "log_int" (sampled on a log scale), "ladder" (listed values) or "choice"."""
    limits: tuple[Any, Any]
    default: tuple[Any, Any]
    ladder: tuple[Any, ...] = ()


SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting("lag", "lag (days)", "int", (2, MAX_LAG), (10, 120)),
        Setting(
            "batch_size", "batch size", "ladder", (1, 512), (16, 256), ladder=BATCH_SIZE_CHOICES
        ),
        Setting("epochs", "epochs", "int", (1, MAX_EPOCHS), (2, 20)),
        Setting("units_1", "units in LSTM layer 1", "log_int", (1, MAX_UNITS), (8, 256)),
        Setting("units_2", "units in LSTM layer 2", "log_int", (1, MAX_UNITS), (4, 128)),
        Setting(
            "learning_rate",
            "learning rate",
            "ladder",
            (min(LEARNING_RATE_CHOICES), max(LEARNING_RATE_CHOICES)),
            (0.0003, 0.01),
            ladder=LEARNING_RATE_CHOICES,
        ),
        Setting("target", "what the model learns", "choice", TARGETS, TARGETS, ladder=TARGETS),
    )
}
"""Every searchable setting, in the order pages and the CLI list them."""


@dataclass(frozen=True)
class SearchSpace:
    """Which settings a study searches and over which range, validated when made."""

    ranges: tuple[tuple[str, Any, Any], ...]

    def __post_init__(self) -> None:
        if not self.ranges:
            names = ", ".join(SETTINGS)
            raise ValueError(f"Choose at least one setting to search (from {names}).")
        for name, low, high in self.ranges:
            _check_range(name, low, high)

    @classmethod
    def of(cls, ranges: Mapping[str, tuple[Any, Any] | None]) -> SearchSpace:
        """A space from {name: (low, high)}; None takes the setting's default range."""
        unknown = sorted(set(ranges) - set(SETTINGS))
        if unknown:
            raise ValueError(_not_searchable(", ".join(unknown)))
        rows = []
        for name in SETTINGS:
            if name in ranges:
                low, high = ranges[name] or SETTINGS[name].default
                rows.append((name, low, high))
        return cls(tuple(rows))

    @classmethod
    def parse(cls, text: str) -> SearchSpace:
        """From the CLI's "lag,batch_size=32:256,learning_rate" (default ranges where none)."""
        ranges: dict[str, tuple[Any, Any] | None] = {}
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            name, _, bounds = part.partition("=")
            name = name.strip()
            if not bounds:
                ranges[name] = None
                continue
            low_text, separator, high_text = bounds.partition(":")
            if not separator:
                raise ValueError(f"Write a range as {name}=LOW:HIGH, such as lag=10:120.")
            setting = SETTINGS.get(name)
            convert = float if setting is not None and setting.name == "learning_rate" else int
            try:
                ranges[name] = (convert(low_text), convert(high_text))
            except ValueError:
                raise ValueError(
                    f"The range of {name} must be two numbers, got {bounds!r}."
                ) from None
        return cls.of(ranges)

    def names(self) -> list[str]:
        """The searched settings' names."""
        return [name for name, _, _ in self.ranges]

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-ready: {name: [low, high]}."""
        return {name: [low, high] for name, low, high in self.ranges}

    def choices(self, name: str) -> tuple[Any, ...]:
        """The values a ladder or choice setting samples from."""
        for each, low, high in self.ranges:
            if each == name:
                return _ladder_between(SETTINGS[name], low, high)
        raise KeyError(name)


def _not_searchable(name: str) -> str:
    return f"{name} is not a setting a study can search; choose from {', '.join(SETTINGS)}."


def _ladder_between(setting: Setting, low: Any, high: Any) -> tuple[Any, ...]:
    if setting.kind == "choice":
        return setting.ladder
    return tuple(value for value in setting.ladder if low <= value <= high)


def _check_range(name: str, low: Any, high: Any) -> None:
    setting = SETTINGS.get(name)
    if setting is None:
        raise ValueError(_not_searchable(name))
    if setting.kind == "choice":
        return
    kinds = int | float if setting.name == "learning_rate" else int
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(
                f"The range of {setting.label} must be "
                f"{'numbers' if kinds is not int else 'whole numbers'}, got {value!r}."
            )
    if low > high:
        raise ValueError(
            f"The {setting.label} range runs from {low} down to {high}: its low end must not "
            "be above its high end."
        )
    lowest, highest = setting.limits
    if low < lowest or high > highest:
        raise ValueError(
            f"The {setting.label} range must lie between {lowest} and {highest}, "
            f"got {low} to {high}."
        )
    if setting.kind == "ladder" and not _ladder_between(setting, low, high):
        listed = ", ".join(str(value) for value in setting.ladder)
        raise ValueError(
            f"No {setting.label} the Train page offers ({listed}) lies between {low} and {high}."
        )


def check_study_request(trials: int, timeout: float | None) -> None:
    """Refuse zero trials or a time budget too short for one trial, with a sentence."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"A study needs at least 1 trial, got {trials!r}.")
    if timeout is not None and timeout < MIN_TIMEOUT_SECONDS:
        raise ValueError(
            f"A time budget of {timeout:g} s is shorter than one trial can take (at least "
            f"{MIN_TIMEOUT_SECONDS:g} s: building and tracing a model alone takes a few seconds); "
            "give more time or no budget."
        )


def check_base(base: TrainConfig) -> None:
    """A study scores trials on the validation period, so the base needs one."""
    if base.validation_fraction <= 0:
        raise ValueError(
            "A study needs a validation period to score its trials on (the test period stays "
            "unseen until the end): set the validation fraction above 0, such as 0.1."
        )


def suggest_config(trial: optuna.Trial, base: TrainConfig, space: SearchSpace) -> TrainConfig:
    """The trial's settings: sampled where searched, the base's elsewhere."""
    values: dict[str, Any] = {}
    for name, low, high in space.ranges:
        setting = SETTINGS[name]
        if setting.kind in ("ladder", "choice"):
            values[name] = trial.suggest_categorical(name, space.choices(name))
        else:
            values[name] = trial.suggest_int(name, low, high, log=setting.kind == "log_int")
    first = values.pop("units_1", base.units[0])
    units: tuple[int, ...] = (first,)
    if "units_2" in values or len(base.units) > 1:
        units = (first, values.pop("units_2", base.units[1] if len(base.units) > 1 else first))
    return base.with_changes(units=units, **values)


def validation_baseline_mse(base_prepared: Any) -> float:
    """Persistence's mean squared error on the validation windows, on the model's scale.

    A window's last input is "today" on the model's scale for both targets (0 for changes), so
    sqrt(val_loss / this) is the epoch's validation RMSE ratio to persistence: comparable
    between trials that learn levels and changes, and for levels exactly the dollar ratio.
    """
    today = base_prepared.x_validation[:, -1, 0].astype(np.float64)
    errors = base_prepared.y_validation.astype(np.float64) - today
    return float(np.mean(errors**2))


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


TrialProgress = Callable[[int, Any], None]
"""Told the trial's number and training's Progress after each batch group and epoch."""


def run_trial(
    trial: optuna.Trial,
    plan: StudyPlan,
    series: pd.Series,
    store: RunStore,
    owner: str = "local",
    progress: TrialProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Train one trial; its value is the validation RMSE ratio to persistence.

    After each epoch the validation figure is reported to the trial; when the pruner says so,
    training stops there and optuna.TrialPruned is raised. A complete trial is saved as a run.
    """
    # Imported here so that planning a study (and the page that does it) stays light.
    from lstm_core.model.pipeline import run_training

    config = suggest_config(trial, plan.base, plan.space)
    trial.set_user_attr("config", config.to_dict())
    prepared = prepare_config(series, config)
    baseline_mse = validation_baseline_mse(prepared)
    pruned = False
    reported = 0

    def on_progress(state: Any) -> None:
        nonlocal pruned, reported
        if progress is not None:
            progress(trial.number, state)
        losses = state.epoch_validation_losses
        if state.epoch_finished and len(losses) > reported:
            reported = len(losses)
            trial.report(math.sqrt(losses[-1] / baseline_mse), step=reported)
            pruned = pruned or trial.should_prune()

    def stop_training() -> bool:
        return pruned or (should_stop is not None and should_stop())

    result = run_training(config, series, progress=on_progress, should_stop=stop_training)
    trial.set_user_attr("epochs_run", result.epochs_completed)
    trial.set_user_attr("seconds", result.seconds)
    if pruned:
        raise optuna.TrialPruned(f"pruned after epoch {result.epochs_completed}")
    if result.stopped:
        raise StudyInterrupted("stopped by you")
    result.data_fingerprint = series_fingerprint(series)
    trial.set_user_attr("run_id", store.save(result, owner=owner, group=TUNE_GROUP))
    return float(result.validation["comparison"]["rmse_ratio"])


def optimize(
    study: optuna.Study,
    plan: StudyPlan,
    series: pd.Series,
    trials: int,
    timeout: float | None = None,
    store: RunStore | None = None,
    owner: str = "local",
    progress: TrialProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_trial_start: Callable[[int], None] | None = None,
    on_trial_end: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run up to `trials` more trials (ask and tell), ending early on a stop or the time budget.

    No trial starts after `timeout` seconds; the running one finishes. A stop ends the running
    trial at once and marks it failed ("stopped"); the finished trials stay in the study.
    """
    check_study_request(trials, timeout)
    store = store or RunStore()
    started = time.monotonic()
    for index in range(trials):
        if should_stop is not None and should_stop():
            break
        if timeout is not None and time.monotonic() - started >= timeout:
            break
        if on_trial_start is not None:
            on_trial_start(index)
        trial = study.ask()
        interrupted = False
        try:
            value = run_trial(trial, plan, series, store, owner, progress, should_stop)
        except optuna.TrialPruned:
            finished = study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except StudyInterrupted:
            trial.set_user_attr("failure", "stopped by you")
            finished = study.tell(trial, state=optuna.trial.TrialState.FAIL)
            interrupted = True
        except LabError as error:
            # Settings that cannot train on these prices (a batch larger than the training
            # windows): the trial fails with the reason and the study goes on.
            trial.set_user_attr("failure", str(error))
            finished = study.tell(trial, state=optuna.trial.TrialState.FAIL)
        except BaseException:
            trial.set_user_attr("failure", "an unexpected error")
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        else:
            finished = study.tell(trial, value)
        if on_trial_end is not None:
            on_trial_end(trial_row(finished))
        if interrupted:
            break


def trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A finished trial as the CLI's JSON lists it: number, params, value, state, epochs run."""
    return {
        "number": trial.number,
        "params": dict(trial.params),
        "value": trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None,
        "state": trial.state.name,
        "epochs_run": trial.user_attrs.get("epochs_run"),
    }


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Every finished trial of the study, as `trial_row` gives it."""
    return [trial_row(trial) for trial in study.trials if trial.state.is_finished()]


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The complete trial with the lowest validation ratio, or None when none completed."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return min(complete, key=lambda trial: trial.value) if complete else None


def best_summary(study: optuna.Study, store: RunStore) -> dict[str, Any] | None:
    """The best trial with its held-out test figures, the study's only test figure.

    The trial's run already holds them (scored once, when it trained); they are read here and
    nowhere else in a study.
    """
    best = best_trial(study)
    if best is None:
        return None
    summary: dict[str, Any] = {
        "number": best.number,
        "params": dict(best.params),
        "value": best.value,
        "config": best.user_attrs.get("config"),
        "run_id": best.user_attrs.get("run_id"),
        "test": None,
    }
    run_id = best.user_attrs.get("run_id")
    if run_id is not None:
        run = store.load(run_id)
        summary["test"] = {
            "metrics": run.metrics,
            "comparison": run.comparison,
            "dates": [
                run.test_dates[0].strftime("%Y-%m-%d"),
                run.test_dates[-1].strftime("%Y-%m-%d"),
            ],
            "n": len(run.test_dates),
        }
    return summary


def study_report(study: optuna.Study, store: RunStore, seconds: float) -> dict[str, Any]:
    """The CLI's JSON: trials, best (with its held-out test figures) and seconds."""
    return {
        "study": study.study_name,
        "trials": trial_rows(study),
        "best": best_summary(study, store),
        "seconds": seconds,
    }


def complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's complete trials (those with a validation ratio)."""
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def history_figure(study: optuna.Study) -> Any:
    """Optuna's optimization history, with persistence's level (ratio 1) drawn in."""
    from optuna.visualization import plot_optimization_history

    figure = plot_optimization_history(study, target_name="validation RMSE ratio")
    figure.add_hline(
        y=1.0,
        line_dash="dot",
        line_color="gray",
        annotation_text="tomorrow = today (baseline)",
        annotation_position="bottom right",
    )
    figure.update_layout(
        title="Each trial's error on the validation period, relative to the baseline's"
    )
    return figure


def intermediate_figure(study: optuna.Study) -> Any:
    """Every trial's per-epoch validation ratio: pruned trials' lines end early."""
    from optuna.visualization import plot_intermediate_values

    figure = plot_intermediate_values(study)
    figure.update_layout(
        title="Validation error after each epoch, relative to the baseline's",
        xaxis_title="epoch",
        yaxis_title="validation RMSE ratio",
    )
    return figure


def important_settings(study: optuna.Study) -> list[str]:
    """The searched settings, most important first (fANOVA); empty below 2 complete trials."""
    if len(complete_trials(study)) < 2:
        return []
    try:
        importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError):
        # Every complete trial drew the same value of every setting: nothing to rank.
        return []
    return list(importances)


def analysis_figures(study: optuna.Study) -> dict[str, Any]:
    """The finished study's figures: importances, parallel coordinates, contour of the top two.

    A figure that needs more trials or settings than the study has is left out.
    """
    from optuna.visualization import plot_contour, plot_parallel_coordinate, plot_param_importances

    figures: dict[str, Any] = {}
    ranked = important_settings(study)
    if not ranked:
        return figures
    figures["importances"] = plot_param_importances(study, target_name="validation RMSE ratio")
    figures["importances"].update_layout(title="Which settings mattered for the validation error")
    figures["parallel"] = plot_parallel_coordinate(study, target_name="validation RMSE ratio")
    figures["parallel"].update_layout(title="Every complete trial's settings and its error")
    if len(ranked) >= 2:
        figures["contour"] = plot_contour(
            study, params=ranked[:2], target_name="validation RMSE ratio"
        )
        figures["contour"].update_layout(
            title=f"Validation error over the two most important settings: "
            f"{ranked[0]} and {ranked[1]}"
        )
    return figures


def best_config(summary: dict[str, Any]) -> TrainConfig | None:
    """The best trial's full settings as a TrainConfig."""
    config = summary.get("config")
    return None if config is None else TrainConfig.from_dict(config)
