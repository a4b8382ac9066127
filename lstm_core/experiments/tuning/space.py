"""What a study searches: the settings it may vary, their ranges, and one trial's config."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lstm_core.config import (
    BATCH_SIZE_CHOICES,
    LEARNING_RATE_CHOICES,
    MAX_EPOCHS,
    MAX_LAG,
    MAX_UNITS,
    MODELS,
    RECOMMENDED,
    TARGETS,
    TrainConfig,
)

if TYPE_CHECKING:
    import optuna

MIN_TIMEOUT_SECONDS = 10.0
"""No trial takes less: building and tracing a model alone takes a few seconds on these CPUs."""


DEFAULT_BASE = RECOMMENDED.with_changes(patience=0)
"""Settings a study does not search: the Recommended preset (daily changes, validation 10%)."""


@dataclass(frozen=True)
class Setting:
    """One setting a study can search: its kind, hard limits and default range."""

    name: str
    label: str
    kind: str
    """"int", "log_int" (sampled on a log scale), "ladder" (listed values, a range of them) or
    "choice" (named values, any of them)."""
    limits: tuple[Any, ...]
    default: tuple[Any, ...]
    ladder: tuple[Any, ...] = ()


SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting("model", "model kind", "choice", MODELS, MODELS, ladder=MODELS),
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

CHOICE_SEPARATOR = "/"
"""Between the values of a choice setting on the command line: model=lstm/linear."""


@dataclass(frozen=True)
class SearchSpace:
    """Which settings a study searches and over which range, validated when made.

    Each of `ranges` is a setting's name and its range: (low, high) for a number, the values
    to try (one or more, in the setting's order) for a choice such as the model kind.
    """

    ranges: tuple[tuple[str, tuple[Any, ...]], ...]

    def __post_init__(self) -> None:
        if not self.ranges:
            names = ", ".join(SETTINGS)
            raise ValueError(f"Choose at least one setting to search (from {names}).")
        for name, bounds in self.ranges:
            _check_range(name, bounds)

    @classmethod
    def of(cls, ranges: Mapping[str, tuple[Any, ...] | None]) -> SearchSpace:
        """A space from {name: (low, high) or a choice's values}; None takes the setting's
        default range (every value of a choice)."""
        unknown = sorted(set(ranges) - set(SETTINGS))
        if unknown:
            raise ValueError(_not_searchable(", ".join(unknown)))
        rows = []
        for name, setting in SETTINGS.items():
            if name in ranges:
                bounds = tuple(ranges[name] or setting.default)
                if setting.kind == "choice":
                    bounds = _in_setting_order(setting, bounds)
                rows.append((name, bounds))
        return cls(tuple(rows))

    @classmethod
    def parse(cls, text: str) -> SearchSpace:
        """From the CLI's "lag,batch_size=32:256,model=lstm/linear" (default ranges where none)."""
        ranges: dict[str, tuple[Any, ...] | None] = {}
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            name, _, bounds = part.partition("=")
            name = name.strip()
            if not bounds:
                ranges[name] = None
                continue
            setting = SETTINGS.get(name)
            if setting is not None and setting.kind == "choice":
                ranges[name] = tuple(value.strip() for value in bounds.split(CHOICE_SEPARATOR))
                continue
            low_text, separator, high_text = bounds.partition(":")
            if not separator:
                raise ValueError(f"Write a range as {name}=LOW:HIGH, such as lag=10:120.")
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
        return [name for name, _ in self.ranges]

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-ready: {name: [low, high]}, or {name: [values]} for a choice."""
        return {name: list(bounds) for name, bounds in self.ranges}

    def choices(self, name: str) -> tuple[Any, ...]:
        """The values a ladder or choice setting samples from."""
        for each, bounds in self.ranges:
            if each == name:
                return _ladder_between(SETTINGS[name], bounds)
        raise KeyError(name)


def _in_setting_order(setting: Setting, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A choice's values once each, in the setting's order (unknown ones last, for the check):
    "linear/lstm" and "lstm/linear/lstm" are the same search, and so the same study."""
    ranks = {value: index for index, value in enumerate(setting.ladder)}
    return tuple(sorted(dict.fromkeys(values), key=lambda value: ranks.get(value, len(ranks))))


def _not_searchable(name: str) -> str:
    return f"{name} is not a setting a study can search; choose from {', '.join(SETTINGS)}."


def _ladder_between(setting: Setting, bounds: tuple[Any, ...]) -> tuple[Any, ...]:
    if setting.kind == "choice":
        return bounds
    low, high = bounds
    return tuple(value for value in setting.ladder if low <= value <= high)


def _check_choices(setting: Setting, values: tuple[Any, ...]) -> None:
    listed = ", ".join(setting.ladder)
    if not values:
        raise ValueError(f"Choose at least one {setting.label} to try, from {listed}.")
    unknown = [value for value in values if value not in setting.ladder]
    if unknown:
        raise ValueError(
            f"{', '.join(map(str, unknown))} is not a {setting.label} a study can try; "
            f"choose from {listed} (several separated by {CHOICE_SEPARATOR}, such as "
            f"{setting.name}={CHOICE_SEPARATOR.join(setting.ladder[:2])})."
        )


def _check_range(name: str, bounds: tuple[Any, ...]) -> None:
    setting = SETTINGS.get(name)
    if setting is None:
        raise ValueError(_not_searchable(name))
    if setting.kind == "choice":
        _check_choices(setting, bounds)
        return
    if len(bounds) != 2:
        raise ValueError(f"The range of {setting.label} must be two numbers, got {bounds!r}.")
    low, high = bounds
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
    if setting.kind == "ladder" and not _ladder_between(setting, bounds):
        listed = ", ".join(str(value) for value in setting.ladder)
        raise ValueError(
            f"No {setting.label} the Train page offers ({listed}) lies between {low} and {high}."
        )


def check_study_request(trials: int, timeout: float | None) -> None:
    """Refuse zero trials or a time budget too short for one trial, with a sentence."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"A study needs at least 1 trial, got {trials!r}.")
    if timeout is not None and not math.isfinite(timeout):
        # NaN compares false with everything, so it would pass as no budget at all.
        raise ValueError(
            f"A time budget must be a number of seconds (or none at all), got {timeout!r}."
        )
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
    for name, bounds in space.ranges:
        setting = SETTINGS[name]
        if setting.kind in ("ladder", "choice"):
            values[name] = trial.suggest_categorical(name, space.choices(name))
        else:
            low, high = bounds
            values[name] = trial.suggest_int(name, low, high, log=setting.kind == "log_int")
    first = values.pop("units_1", base.units[0])
    units: tuple[int, ...] = (first,)
    if "units_2" in values or len(base.units) > 1:
        units = (first, values.pop("units_2", base.units[1] if len(base.units) > 1 else first))
    return base.with_changes(units=units, **values)
