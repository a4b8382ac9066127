"""Forecasts that need no training, kept beside the model so every result is compared to them."""

from __future__ import annotations

import numpy as np


def persistence_forecast(windows: np.ndarray) -> np.ndarray:
    """Tomorrow = today: the last value of each window.

    `windows` has shape (n, lag) or (n, lag, 1); the result has shape (n,).
    """
    windows = np.asarray(windows)
    if windows.ndim == 3:
        windows = windows[:, :, 0]
    if windows.ndim != 2 or windows.shape[1] < 1:
        raise ValueError(f"windows must have shape (n, lag) or (n, lag, 1), got {windows.shape}")
    return windows[:, -1].copy()
