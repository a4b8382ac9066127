"""The two scalers of a price series, fitted on its training part only: z-scores of price
levels, and log changes from each window's last price."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
class ChangeScaler:
    """Log changes relative to a window's last price, divided by one fitted scale.

    Inputs are log(p[j] / p[last]) for each day j of a window, the target is
    log(p[next] / p[last]); both are divided by `scale`, the standard deviation of the training
    windows' targets (fitted on those only).
    """

    scale: float

    @classmethod
    def fit(cls, dollar_windows: np.ndarray, dollar_targets: np.ndarray) -> ChangeScaler:
        """Fit on the training windows' targets; a flat series gets scale 1."""
        changes = np.log(np.asarray(dollar_targets) / np.asarray(dollar_windows)[:, -1])
        scale = float(changes.std())
        return cls(scale=scale if scale > 0 else 1.0)

    def encode(self, dollar_windows: np.ndarray) -> np.ndarray:
        """Dollar windows (n, lag) to model inputs: scaled log prices relative to the last."""
        windows = np.asarray(dollar_windows, dtype=np.float64)
        return np.log(windows / windows[:, -1:]) / self.scale

    def encode_targets(self, dollar_windows: np.ndarray, dollar_targets: np.ndarray) -> np.ndarray:
        """Next prices to scaled log changes from each window's last price."""
        last = np.asarray(dollar_windows, dtype=np.float64)[:, -1]
        return np.log(np.asarray(dollar_targets, dtype=np.float64) / last) / self.scale

    def decode(self, scaled: np.ndarray, last_prices: np.ndarray) -> np.ndarray:
        """Scaled log changes back to dollars: last price x exp(change)."""
        return np.asarray(last_prices, dtype=np.float64) * np.exp(
            np.asarray(scaled, dtype=np.float64) * self.scale
        )
