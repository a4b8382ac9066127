"""Windows, the time-ordered split and a scaler fitted on the training part only."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_core.errors import NotEnoughDataError


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


def split_count(window_count: int, train_fraction: float) -> int:
    """How many of the first windows train: floor(train_fraction * window_count)."""
    return math.floor(train_fraction * window_count)


def minimum_prices(lag: int, train_fraction: float) -> int:
    """The fewest prices that leave at least one training and one test window."""
    length = lag + 2
    while True:
        windows = length - lag
        train = split_count(windows, train_fraction)
        if train >= 1 and windows - train >= 1:
            return length
        length += 1


@dataclass(frozen=True)
class StandardScaler:
    """z = (price - mean) / std, with mean and std fitted on training prices only."""

    mean: float
    std: float

    @classmethod
    def fit(cls, prices: np.ndarray) -> StandardScaler:
        """Fit on the given (training) prices; a flat series gets std 1 so nothing divides by 0."""
        prices = np.asarray(prices, dtype=np.float64)
        std = float(prices.std())
        return cls(mean=float(prices.mean()), std=std if std > 0 else 1.0)

    def transform(self, prices: np.ndarray) -> np.ndarray:
        """Dollars to standardized units."""
        return (np.asarray(prices, dtype=np.float64) - self.mean) / self.std

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Standardized units back to dollars."""
        return np.asarray(scaled, dtype=np.float64) * self.std + self.mean


@dataclass(frozen=True)
class PreparedData:
    """Everything a model needs from one price series, split by time and scaled without leakage."""

    prices: np.ndarray
    dates: pd.DatetimeIndex
    lag: int
    train_count: int
    scaler: StandardScaler
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def test_count(self) -> int:
        """Number of test windows."""
        return len(self.y_test)

    @property
    def train_prices(self) -> np.ndarray:
        """The prices the training windows touch (inputs and targets), in dollars."""
        return self.prices[: self.train_count + self.lag]

    @property
    def test_dates(self) -> pd.DatetimeIndex:
        """The date of each test target."""
        start = self.lag + self.train_count
        return self.dates[start:]

    @property
    def test_actual(self) -> np.ndarray:
        """Real test prices in dollars."""
        return self.prices[self.lag + self.train_count :]

    @property
    def test_last_known(self) -> np.ndarray:
        """The last price of each test window: yesterday's price for each test day."""
        return self.prices[self.lag + self.train_count - 1 : -1]


def prepare(series: pd.Series, lag: int, train_fraction: float) -> PreparedData:
    """Window the series, split the windows by time, fit the scaler on the training prices.

    The scaler sees only prices[: train_count + lag], the prices the training windows touch,
    so changing any later price cannot change it (the tutorial fitted on test data; we do not).
    """
    prices = np.asarray(series.to_numpy(), dtype=np.float64)
    if not np.all(np.isfinite(prices)):
        raise NotEnoughDataError("The price series has missing values; clean the file first.")
    train_count = check_fits(len(prices), lag, train_fraction, batch_size=1)
    scaler = StandardScaler.fit(prices[: train_count + lag])
    scaled_inputs, scaled_targets = make_windows(scaler.transform(prices), lag)
    return PreparedData(
        prices=prices,
        dates=pd.DatetimeIndex(series.index),
        lag=lag,
        train_count=train_count,
        scaler=scaler,
        x_train=scaled_inputs[:train_count, :, None].astype(np.float32),
        y_train=scaled_targets[:train_count].astype(np.float32),
        x_test=scaled_inputs[train_count:, :, None].astype(np.float32),
        y_test=scaled_targets[train_count:].astype(np.float32),
    )


def check_fits(price_count: int, lag: int, train_fraction: float, batch_size: int) -> int:
    """Raise NotEnoughDataError when the settings cannot train on `price_count` prices.

    Returns the number of training windows. Cheap, so a page can check before training starts.
    """
    needed = minimum_prices(lag, train_fraction)
    if price_count < needed:
        raise NotEnoughDataError(
            f"There are {price_count} prices; a lag of {lag} days with a train share of "
            f"{train_fraction:.0%} needs at least {needed}. "
            "Choose a smaller lag or load a longer price history."
        )
    train_count = split_count(price_count - lag, train_fraction)
    if batch_size > train_count:
        raise NotEnoughDataError(
            f"The batch size {batch_size} is larger than the {train_count} "
            f"training windows; choose a batch size of at most {train_count}."
        )
    return train_count
