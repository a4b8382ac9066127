"""Honest metrics for a forecast, computed the same way for the LSTM and for the baseline."""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("mse_scaled", "rmse", "mae", "mape", "mase", "direction_accuracy")


METRIC_LABELS = {
    "mse_scaled": "MSE (standardized, tutorial's figure)",
    "rmse": "RMSE ($)",
    "mae": "MAE ($)",
    "mape": "MAPE (%)",
    "mase": "MASE",
    "direction_accuracy": "Direction right (%)",
}


def in_sample_naive_mae(train_prices: np.ndarray) -> float:
    """Mean absolute day-to-day change over the training prices: MASE's denominator."""
    train_prices = np.asarray(train_prices, dtype=np.float64)
    if len(train_prices) < 2:
        raise ValueError("train_prices must hold at least 2 prices")
    return float(np.mean(np.abs(np.diff(train_prices))))


def forecast_metrics(
    actual: np.ndarray,
    predicted: np.ndarray,
    last_known: np.ndarray,
    scale_std: float,
    naive_mae: float,
) -> dict[str, float | None]:
    """Metrics of one forecast in dollars, plus the MSE on the standardized scale.

    `last_known` is the price the day before each target; a predicted move counts as right
    when its sign matches the real move's sign (a forecast of no change is never right
    unless the price really stayed put). A forecast that never predicts a move (persistence)
    has no direction score: its direction_accuracy is None, not a misleading 0.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    last_known = np.asarray(last_known, dtype=np.float64)
    if not actual.shape == predicted.shape == last_known.shape or actual.ndim != 1:
        raise ValueError("actual, predicted and last_known must be 1-D arrays of the same length")
    if len(actual) == 0:
        raise ValueError("there must be at least one test value")
    if scale_std <= 0 or naive_mae <= 0:
        raise ValueError("scale_std and naive_mae must be positive")
    errors = predicted - actual
    values = {
        "mse_scaled": float(np.mean((errors / scale_std) ** 2)),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae": float(np.mean(np.abs(errors))),
        # A percentage of a zero price is not defined: None, shown as "not defined", not inf.
        "mape": float(100 * np.mean(np.abs(errors / actual))) if np.all(actual != 0) else None,
        "mase": float(np.mean(np.abs(errors)) / naive_mae),
        "direction_accuracy": direction_accuracy(actual, predicted, last_known),
    }
    # Whatever cannot be computed as a finite number is None, never NaN or inf.
    return {
        name: value if value is None or np.isfinite(value) else None
        for name, value in values.items()
    }


def direction_accuracy(
    actual: np.ndarray, predicted: np.ndarray, last_known: np.ndarray
) -> float | None:
    """Percent of days whose predicted move has the real move's sign; None if it never moves."""
    last_known = np.asarray(last_known, dtype=np.float64)
    predicted_moves = np.sign(np.asarray(predicted, dtype=np.float64) - last_known)
    if not np.any(predicted_moves):
        return None
    real_moves = np.sign(np.asarray(actual, dtype=np.float64) - last_known)
    return float(100 * np.mean(predicted_moves == real_moves))


OUT_OF_RANGE_NOTE_SHARE = 0.25
"""From this share of test days outside the training prices on, the page explains it."""


def range_note(train_prices: np.ndarray, test_prices: np.ndarray) -> str | None:
    """A sentence when many test prices lie outside every price the model trained on.

    A model trained on scaled prices rarely predicts beyond the range it saw, so its line
    flattens there; a person reading the chart should know why. None when few do.
    """
    if len(train_prices) == 0 or len(test_prices) == 0:
        raise ValueError("range_note needs training and test prices")
    low, high = float(np.min(train_prices)), float(np.max(train_prices))
    above = float(np.mean(test_prices > high))
    below = float(np.mean(test_prices < low))
    if max(above, below) < OUT_OF_RANGE_NOTE_SHARE:
        return None
    if above >= below:
        where = f"{above:.0%} of the test days closed above ${high:,.2f}, the highest"
    else:
        where = f"{below:.0%} of the test days closed below ${low:,.2f}, the lowest"
    return (
        f"Why the LSTM's line may flatten: {where} price in the training period. A model trained "
        "on past prices seldom predicts beyond what it has seen; repeating yesterday's price "
        "has no such limit."
    )


def move_figures(
    actual: np.ndarray, predicted: np.ndarray, last_known: np.ndarray
) -> dict[str, float | None]:
    """How large the predicted next-day moves are beside the real ones, and whether they agree.

    `move_scale` is the standard deviation of the predicted moves (prediction - yesterday's
    price) over that of the real moves: 1 dares moves as large as the market's, near 0 says
    "no change". `move_correlation` is the correlation of the two moves (None when either is
    constant). A model can tie persistence by daring nothing; these two figures show it.
    """
    last_known = np.asarray(last_known, dtype=np.float64)
    real = np.asarray(actual, dtype=np.float64) - last_known
    dared = np.asarray(predicted, dtype=np.float64) - last_known
    if not real.shape == dared.shape or real.ndim != 1:
        raise ValueError("actual, predicted and last_known must be 1-D arrays of the same length")
    if len(real) < 2:
        return {"move_scale": None, "move_correlation": None}
    real_spread, dared_spread = float(real.std()), float(dared.std())
    scale = dared_spread / real_spread if real_spread > 0 else None
    correlation = None
    if real_spread > 0 and dared_spread > 0:
        correlation = float(np.corrcoef(real, dared)[0, 1])
    return {"move_scale": scale, "move_correlation": correlation}


def move_sentence(figures: dict[str, float | None], period: str = "held-out test") -> str | None:
    """The move figures in plain words, or None when they could not be computed."""
    scale, correlation = figures.get("move_scale"), figures.get("move_correlation")
    if scale is None:
        return None
    sentence = (
        f"On the {period} period its predicted daily moves are {scale:.2f}x the size of the "
        "real ones"
    )
    if scale < 0.25:
        sentence += ' (it mostly says "about no change")'
    elif scale > 1:
        sentence += " (it dares larger moves than the market made)"
    if correlation is not None:
        sentence += f", and they correlate {correlation:+.2f} with the real moves"
    return sentence + "."
