"""The extra inputs (volume, range, market) as channels beside the close, without leakage.

Each extra input is a figure per day (lstm_core/data/daily_inputs.py carries the raw ones);
a window ending on day t holds that figure for its own days, t included, and never a later
day's. Each channel is then standardized with the mean and spread of the training windows'
values only, so no validation or test day moves a statistic. The shuffled control permutes an
input's days within the days the training windows see (seeded), leaving everything else as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import INPUTS
from lstm_core.errors import MissingInputError


@dataclass(frozen=True)
class ChannelScaling:
    """z = (value - mean) / std for one extra input, fitted on the training windows only."""

    name: str
    mean: float
    std: float

    @classmethod
    def fit(cls, name: str, training_windows: np.ndarray) -> ChannelScaling:
        """Fit on the training windows' values; a constant channel gets std 1."""
        values = np.asarray(training_windows, dtype=np.float64)
        std = float(values.std())
        return cls(name=name, mean=float(values.mean()), std=std if std > 0 else 1.0)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Raw channel values to standardized ones."""
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std


def _count_text(count: int, total: int, ticker: str) -> str:
    return f"{count:,} of {ticker}'s {total:,} days"


def _volume(daily: pd.DataFrame, ticker: str) -> np.ndarray:
    volume = daily["volume"].to_numpy(dtype=np.float64)
    missing = int(np.isnan(volume).sum())
    if missing == len(volume):
        raise MissingInputError(
            f"The volume input needs a Volume column, and these prices have no Volume for "
            f"{ticker}; choose other inputs or load a file with a Volume column."
        )
    if missing:
        raise MissingInputError(
            f"The volume input needs a Volume on every day, and "
            f"{_count_text(missing, len(volume), ticker)} have none; choose other inputs."
        )
    if np.any(volume <= 0):
        raise MissingInputError(
            f"The volume input needs volumes above 0, and "
            f"{_count_text(int((volume <= 0).sum()), len(volume), ticker)} have 0 or less; "
            "choose other inputs."
        )
    return volume


def _range(daily: pd.DataFrame, prices: np.ndarray, ticker: str) -> np.ndarray:
    high = daily["high"].to_numpy(dtype=np.float64)
    low = daily["low"].to_numpy(dtype=np.float64)
    absent = [name for name, values in (("High", high), ("Low", low)) if np.isnan(values).all()]
    if absent:
        raise MissingInputError(
            f"The range input needs High and Low columns, and these prices have no "
            f"{' or '.join(absent)} for {ticker}; choose other inputs or load a file with them."
        )
    missing = int((np.isnan(high) | np.isnan(low)).sum())
    if missing:
        raise MissingInputError(
            f"The range input needs a High and a Low on every day, and "
            f"{_count_text(missing, len(high), ticker)} lack one; choose other inputs."
        )
    close = daily["close"].to_numpy(dtype=np.float64)
    # The day's own close; where a file has none, the price the model learns.
    close = np.where(np.isnan(close) | (close <= 0), prices, close)
    return (high - low) / close


def _market(daily: pd.DataFrame, ticker: str) -> np.ndarray:
    market = daily["market"].to_numpy(dtype=np.float64)
    if int(daily["companies"].max()) == 0:
        raise MissingInputError(
            f"The market input needs the prices of other companies, and these prices have "
            f"only {ticker}; choose other inputs or load a file with several tickers."
        )
    missing = int(np.isnan(market).sum())
    if missing:
        raise MissingInputError(
            f"The market input needs another company's price on every day of {ticker}'s, and "
            f"{_count_text(missing, len(market), ticker)} have none; choose other inputs."
        )
    return market


def daily_values(
    daily: pd.DataFrame | None, prices: np.ndarray, inputs: Sequence[str], ticker: str
) -> dict[str, np.ndarray]:
    """Each extra input's raw figure per day: volume in shares, range (high - low) / close,
    market the other companies' mean log change. MissingInputError when the data lack one."""
    extras = [name for name in inputs if name != "close"]
    for name in extras:
        if name not in INPUTS:
            raise ValueError(f"unknown input {name!r}: choose from {', '.join(INPUTS)}")
    if extras and daily is None:
        raise MissingInputError(
            f"The {extras[0]} input needs the day's other figures (volume, high, low, other "
            f"companies), and these {ticker} prices carry none; choose the close alone."
        )
    builders = {
        "volume": lambda: _volume(daily, ticker),
        "range": lambda: _range(daily, prices, ticker),
        "market": lambda: _market(daily, ticker),
    }
    return {name: builders[name]() for name in extras}


def shuffle_days(
    values: dict[str, np.ndarray], names: Sequence[str], day_count: int, seed: int
) -> dict[str, np.ndarray]:
    """A copy with each named input's first `day_count` days permuted (seeded, one permutation
    per input); every other input, and every later day, unchanged."""
    shuffled = dict(values)
    for name in names:
        generator = np.random.default_rng([seed, INPUTS.index(name)])
        column = np.array(values[name], dtype=np.float64)
        column[:day_count] = column[:day_count][generator.permutation(day_count)]
        shuffled[name] = column
    return shuffled


def windowed(name: str, values: np.ndarray, lag: int) -> np.ndarray:
    """The input's values for windows of `lag` days ending on days lag-1 .. n-2: (n - lag, lag).

    Window i holds days i .. i+lag-1, like the price windows; volume is the log of each day's
    volume over the window's mean volume, the others are the day's figure as it is.
    """
    values = np.asarray(values, dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(values[:-1], lag)[: len(values) - lag]
    if name == "volume":
        return np.log(windows / windows.mean(axis=1, keepdims=True))
    return windows.copy()


def extra_channels(
    daily: pd.DataFrame | None,
    prices: np.ndarray,
    config: object,
    train_count: int,
) -> tuple[np.ndarray, tuple[ChannelScaling, ...]]:
    """The config's extra inputs as standardized channels (n - lag, lag, k), and their scalings.

    `config` gives inputs, shuffled, seed, lag and ticker. Scalings are fitted on the first
    `train_count` windows; a shuffled input is permuted over the days those windows see.
    """
    lag = config.lag
    values = daily_values(daily, prices, config.inputs, config.ticker)
    values = shuffle_days(values, config.shuffled, train_count + lag - 1, config.seed)
    channels, scalings = [], []
    for name in config.extra_inputs:
        windows = windowed(name, values[name], lag)
        scaling = ChannelScaling.fit(name, windows[:train_count])
        channels.append(scaling.transform(windows))
        scalings.append(scaling)
    if not channels:
        return np.empty((len(prices) - lag, lag, 0)), ()
    return np.stack(channels, axis=-1), tuple(scalings)


def with_extra_channels(prepared: Any, daily: pd.DataFrame | None, config: Any) -> Any:
    """`prepared` (a PreparedData of the close alone) with the config's extra inputs as further
    channels after the close: inputs (n, lag, 1 + k) split exactly as before."""
    if not config.extra_inputs:
        return prepared
    channels, scalings = extra_channels(daily, prepared.prices, config, prepared.train_count)
    closes = np.concatenate([prepared.x_train, prepared.x_validation, prepared.x_test])
    inputs = np.concatenate([closes, channels.astype(np.float32)], axis=-1)
    train, test = prepared.train_count, prepared.test_start
    return replace(
        prepared,
        x_train=inputs[:train],
        x_validation=inputs[train:test],
        x_test=inputs[test:],
        inputs=config.inputs,
        channel_scalings=scalings,
    )


def check_inputs(series: pd.Series, config: Any) -> None:
    """MissingInputError, cheaply and before any training, when `series` (with its
    `daily_inputs`) cannot supply one of the config's extra inputs."""
    if config.extra_inputs:
        prices = np.asarray(series, dtype=np.float64)
        daily_values(getattr(series, "daily_inputs", None), prices, config.inputs, config.ticker)
