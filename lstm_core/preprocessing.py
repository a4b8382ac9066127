"""Windows, the time-ordered split and a scaler fitted on the training part only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.errors import DataError, NotEnoughDataError
from lstm_core.features import ChannelScaling, with_extra_channels
from lstm_core.scaling import ChangeScaler, StandardScaler


def make_windows(values: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs values[i:i+lag] and targets values[i+lag] for i = 0 .. n-lag-1.

    Returns arrays of shape (n - lag, lag) and (n - lag,).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {values.shape}")
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be a positive whole number, got {lag!r}")
    window_count = len(values) - lag
    if window_count < 1:
        raise NotEnoughDataError(
            f"There are {len(values)} prices; a lag of {lag} days needs at least {lag + 1}. "
            "Choose a smaller lag or load a longer price history."
        )
    # A strided view keeps this O(n) in memory; the copy makes the result independent.
    inputs = np.lib.stride_tricks.sliding_window_view(values[:-1], lag)[:window_count].copy()
    targets = values[lag:].copy()
    return inputs, targets


def split_count(count: int, fraction: float) -> int:
    """floor(fraction * count), robust to binary rounding: 0.7 x 90 gives 63, not 62."""
    # 0.7 * 90 is 62.99999999999999 in floating point; rounding to 9 places first removes
    # that error without moving any product that is truly below a whole number.
    return math.floor(round(fraction * count, 9))


def test_start_price(price_count: int, train_fraction: float) -> int:
    """Index of the first held-out test day among `price_count` prices, whatever the lag."""
    return split_count(price_count, train_fraction)


def minimum_prices(lag: int, train_fraction: float) -> int:
    """The fewest prices that leave at least one training and one test window."""
    length = lag + 2
    while True:
        first_test = test_start_price(length, train_fraction)
        if first_test - lag >= 1 and length - first_test >= 1:
            return length
        length += 1


@dataclass(frozen=True)
class PreparedData:
    """Everything a model needs from one price series, split by time and scaled without leakage.

    Windows, in time order: `train_count` training windows the model fits, then
    `validation_count` validation windows (the end of the training part, for tuning and early
    stopping), then the test windows. With `early_stopping`, early stopping watches only the
    first validation windows and the rest calibrate the bands (`watched_validation_count`).
    """

    prices: np.ndarray
    dates: pd.DatetimeIndex
    lag: int
    train_count: int
    scaler: StandardScaler
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    target: str = "level"
    change_scaler: ChangeScaler | None = None
    validation_count: int = 0
    x_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    early_stopping: bool = False
    inputs: tuple[str, ...] = ("close",)
    channel_scalings: tuple[ChannelScaling, ...] = ()

    @property
    def watched_count(self) -> int:
        """How many validation windows, from the first, training reports a loss on."""
        return watched_validation_count(self.validation_count, self.early_stopping)

    @property
    def calibration_start(self) -> int:
        """The first validation window that calibrates the bands: one early stopping ignored."""
        return self.watched_count if self.early_stopping else 0

    @property
    def test_start(self) -> int:
        """Index of the first test window."""
        return self.train_count + self.validation_count

    @property
    def test_count(self) -> int:
        """Number of test windows."""
        return len(self.y_test)

    @property
    def train_prices(self) -> np.ndarray:
        """The prices the training windows touch (inputs and targets), in dollars."""
        return self.prices[: self.train_count + self.lag]

    @property
    def trained_through(self) -> pd.Timestamp:
        """The date of the last training target: the model learned from no later day."""
        return self.dates[self.lag + self.train_count - 1]

    @property
    def test_dates(self) -> pd.DatetimeIndex:
        """The date of each test target."""
        return self.dates[self.lag + self.test_start :]

    @property
    def test_actual(self) -> np.ndarray:
        """Real test prices in dollars."""
        return self.prices[self.lag + self.test_start :]

    @property
    def test_last_known(self) -> np.ndarray:
        """The last price of each test window: yesterday's price for each test day."""
        return self.prices[self.lag + self.test_start - 1 : -1]

    @property
    def validation_dates(self) -> pd.DatetimeIndex:
        """The date of each validation target (empty without a validation period)."""
        start = self.lag + self.train_count
        return self.dates[start : start + self.validation_count]

    @property
    def validation_actual(self) -> np.ndarray:
        """Real validation prices in dollars."""
        start = self.lag + self.train_count
        return self.prices[start : start + self.validation_count]

    @property
    def validation_last_known(self) -> np.ndarray:
        """Yesterday's price for each validation day."""
        start = self.lag + self.train_count - 1
        return self.prices[start : start + self.validation_count]

    def encode(self, dollar_windows: np.ndarray) -> np.ndarray:
        """Dollar windows (n, lag) as the model's float32 inputs (n, lag, 1)."""
        if len(self.inputs) > 1:
            raise DataError(
                f"This run also sees {', '.join(self.inputs[1:])}, which nobody knows for the "
                "days ahead, so it cannot forecast from prices alone; look ahead with a run "
                "that sees the close only."
            )
        windows = np.asarray(dollar_windows, dtype=np.float64)
        if self.target == "change":
            encoded = self.change_scaler.encode(windows)
        else:
            encoded = self.scaler.transform(windows)
        return encoded[:, :, None].astype(np.float32)

    def to_dollars(self, scaled_predictions: np.ndarray, last_prices: np.ndarray) -> np.ndarray:
        """Model outputs back to dollar prices, given each window's last price."""
        scaled = np.asarray(scaled_predictions, dtype=np.float64).reshape(-1)
        if self.target == "change":
            return self.change_scaler.decode(scaled, last_prices)
        return self.scaler.inverse(scaled)


def prepare(
    series: pd.Series,
    lag: int,
    train_fraction: float,
    target: str = "level",
    validation_fraction: float = 0.0,
    early_stopping: bool = False,
) -> PreparedData:
    """Window the series, split the windows by time, fit every scale on the training part only.

    Split by days, not windows: for n prices the test targets are the days from index
    floor(train_fraction x n) on and the validation targets the floor(validation_fraction x n)
    days before them, whatever the lag and the validation share, so every setting of one ticker
    is scored on the same days. A window's inputs may reach back before its period; its target
    never leaves it. Scalers see only the prices the
    training windows touch, so changing any validation or test price cannot change them (the
    tutorial fitted on test data; we do not). `early_stopping`: see `watched_validation_count`.
    """
    if target not in ("level", "change"):
        raise ValueError(f"target must be 'level' or 'change', got {target!r}")
    prices = np.asarray(series.to_numpy(), dtype=np.float64)
    if not np.all(np.isfinite(prices)):
        raise NotEnoughDataError("The price series has missing values; clean the file first.")
    if target == "change" and np.any(prices <= 0):
        raise NotEnoughDataError(
            "Daily changes need positive prices, and this series has a zero or negative price; "
            "learn the price level instead or fix the file."
        )
    check_fits(
        len(prices), lag, train_fraction, batch_size=1, validation_fraction=validation_fraction
    )
    test_start = test_start_price(len(prices), train_fraction) - lag
    validation_count = validation_split_count(len(prices), validation_fraction)
    train_count = test_start - validation_count
    scaler = StandardScaler.fit(prices[: train_count + lag])
    dollar_windows, dollar_targets = make_windows(prices, lag)
    change_scaler = None
    if target == "change":
        change_scaler = ChangeScaler.fit(dollar_windows[:train_count], dollar_targets[:train_count])
        inputs = change_scaler.encode(dollar_windows)
        targets = change_scaler.encode_targets(dollar_windows, dollar_targets)
    else:
        inputs = scaler.transform(dollar_windows)
        targets = scaler.transform(dollar_targets)
    inputs = inputs[:, :, None].astype(np.float32)
    targets = targets.astype(np.float32)
    return PreparedData(
        prices=prices,
        dates=pd.DatetimeIndex(series.index),
        lag=lag,
        train_count=train_count,
        scaler=scaler,
        x_train=inputs[:train_count],
        y_train=targets[:train_count],
        x_test=inputs[test_start:],
        y_test=targets[test_start:],
        target=target,
        change_scaler=change_scaler,
        validation_count=validation_count,
        x_validation=inputs[train_count:test_start],
        y_validation=targets[train_count:test_start],
        early_stopping=early_stopping,
    )


def validation_split_count(price_count: int, validation_fraction: float) -> int:
    """How many days before the test period validate: floor(validation_fraction * prices)."""
    return split_count(price_count, validation_fraction)


def watched_validation_count(validation_count: int, early_stopping: bool) -> int:
    """How many validation windows, from the first, training reports a loss on: with early
    stopping the first half (rounded up), whose loss chooses the epoch, leaving the later half
    to calibrate the forecast's bands on days that chose nothing; without it, all of them."""
    if not early_stopping:
        return validation_count
    return validation_count - validation_count // 2


def check_fits(
    price_count: int,
    lag: int,
    train_fraction: float,
    batch_size: int,
    validation_fraction: float = 0.0,
) -> int:
    """Raise NotEnoughDataError when the settings cannot train on `price_count` prices.

    Returns the number of windows the model fits on (the training part less its validation
    period). Cheap, so a page can check before training starts.
    """
    needed = minimum_prices(lag, train_fraction)
    if price_count < needed:
        raise NotEnoughDataError(
            f"There are {price_count} prices; a lag of {lag} days with a train share of "
            f"{train_fraction:.0%} needs at least {needed}. "
            "Choose a smaller lag or load a longer price history."
        )
    validation_count = validation_split_count(price_count, validation_fraction)
    if validation_fraction > 0 and validation_count < 1:
        raise NotEnoughDataError(
            f"A validation share of {validation_fraction:.0%} of {price_count} days leaves "
            "no validation day; choose a larger validation share or load a longer history."
        )
    train_count = test_start_price(price_count, train_fraction) - lag - validation_count
    if train_count < 1:
        raise NotEnoughDataError(
            f"A validation share of {validation_fraction:.0%} leaves no training window before "
            "it; choose a smaller validation share or a larger train share."
        )
    if batch_size > train_count:
        raise NotEnoughDataError(
            f"The batch size {batch_size} is larger than the {train_count} "
            f"training windows; choose a batch size of at most {train_count}."
        )
    return train_count


def check_prices_vary(series: pd.Series) -> None:
    """DataError when every price is the same: a constant series has no changes to learn and
    no error to scale the metrics by, and saying so must not wait for TensorFlow to load."""
    values = np.asarray(series, dtype=np.float64)
    if len(values) >= 2 and np.all(values == values[0]):
        raise DataError(
            f"Every price in this series is {values[0]:,.2f}: with prices that never change "
            "there is nothing to learn and no error to compare, so choose other prices."
        )


def check_config_fits(price_count: int, config: Any) -> int:
    """`check_fits` with a TrainConfig's lag, train share, batch size and validation share."""
    return check_fits(
        price_count,
        config.lag,
        config.train_fraction,
        config.batch_size,
        validation_fraction=config.validation_fraction,
    )


def prepare_config(
    series: pd.Series, config: Any, daily: pd.DataFrame | None = None
) -> PreparedData:
    """Check that `config` can train on `series`, then `prepare` the series for it, with the
    config's extra inputs as further channels after the close (lstm_core/features.py), made
    from `daily` or else the series' own `daily_inputs`."""
    check_config_fits(len(series), config)
    check_prices_vary(series)
    prepared = prepare(
        series,
        config.lag,
        config.train_fraction,
        target=config.target,
        validation_fraction=config.validation_fraction,
        early_stopping=config.patience > 0,
    )
    daily = getattr(series, "daily_inputs", None) if daily is None else daily
    return with_extra_channels(prepared, daily, config)


def check_enough_rows(series_length: int, lag: int, train_fraction: float) -> None:
    """Raise NotEnoughDataError unless the series gives at least 1 training and 1 test window.

    With n prices the test days start at index floor(train_fraction * n); the windows whose
    targets come before that train.
    """
    if isinstance(series_length, bool) or not isinstance(series_length, int) or series_length < 0:
        raise ValueError(f"series_length must be a whole number >= 0, got {series_length!r}")
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be a whole number >= 1, got {lag!r}")
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, int | float)
        or not 0 < train_fraction < 1
    ):
        raise ValueError(
            f"train_fraction must be between 0 and 1 (exclusive), got {train_fraction!r}"
        )
    needed = minimum_prices(lag, train_fraction)
    if series_length < needed:
        raise NotEnoughDataError(
            f"The series has {series_length} prices; a lag of {lag} needs at least {needed}. "
            "Choose a smaller lag or a longer file."
        )
