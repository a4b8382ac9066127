"""The Train & Predict page's "Look ahead" section: a forecast past the data, with measured bands.

Not a page of its own (app.py lists the pages): pages/train.py calls `show_look_ahead`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from lstm_core.charts.forecast import HISTORY_DAYS, fan_chart
from lstm_core.forecasting.forecast import (
    DEFAULT_HORIZON,
    LEVELS,
    MAX_HORIZON,
    MIN_HORIZON,
    LookAhead,
    look_ahead,
    origin_forecasts,
)

SHORTFALL = 0.05
"""A band that held the real price this much less often than its name says gets a note."""


def _paths(result: Any, horizon: int) -> np.ndarray:
    """The result's forecasts from every origin, computed once for the longest horizon asked."""
    paths = getattr(result, "ahead_paths", None)
    if paths is None or paths.shape[1] < horizon:
        with st.spinner("Forecasting from every validation and test day…"):
            paths = origin_forecasts(result.model, result.prepared, horizon)
        result.ahead_paths = paths
    return paths


def _days(step: int) -> str:
    return "1 day" if step == 1 else f"{step} days"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def coverage_sentence(ahead: LookAhead, level: float) -> str:
    """'On the held-out test period (301 starting days) the 80% band held the real price 77% of
    the time at 1 day, 75% at 5 days and 70% at 10 days (the random walk's band: ...).'"""
    parts = [
        f"{_percent(share)}{' of the time' if index == 0 else ''} at {_days(step)}"
        for index, (step, share) in enumerate(ahead.coverage[level].items())
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    walk = ", ".join(_percent(share) for share in ahead.persistence_coverage[level].values())
    return (
        f"On the held-out test period ({ahead.test_origins} starting days) the {level:.0%} band "
        f"held the real price {listed} (the random walk's {level:.0%} band: {walk})."
    )


def calibration_days(ahead: LookAhead) -> str:
    """'the 75 validation days from 2020-03-17 to 2020-06-30, which early stopping did not
    watch (it chose the epoch on the days before)', or the whole validation period's days."""
    first, last = ahead.calibration_dates
    days = f"{ahead.calibration_counts[0]} validation days from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if ahead.calibration_after_watched:
        return (
            f"the last {days}, which early stopping did not watch (it chose the epoch to keep "
            "on the validation days before them)"
        )
    return f"the {days}"


def show_look_ahead(result: Any) -> None:
    """The section: horizon slider, fan chart, what a band means, and the bands' coverage."""
    st.subheader("Look ahead")
    if result.model is None or result.prepared is None:
        st.info(
            "This run was loaded without its trained model, so it cannot look ahead. "
            "Train it again (same settings give the same model) to see its forecast."
        )
        return
    horizon = st.slider(
        "Days ahead",
        MIN_HORIZON,
        MAX_HORIZON,
        DEFAULT_HORIZON,
        key="ahead_horizon",
        help="How many trading days past the last price to forecast. Each forecast day becomes "
        "the input for the next, so errors add up the further out it goes.",
    )
    ahead = look_ahead(result.model, result.prepared, horizon, forecasts=_paths(result, horizon))
    prepared = result.prepared
    st.plotly_chart(fan_chart(prepared.dates, prepared.prices, ahead), key="fan_chart")
    st.caption(
        f"This model was trained on days up to {ahead.trained_through:%Y-%m-%d}; it has "
        "not learned from the days after that, which it only reads as inputs."
    )
    if ahead.bands is None:
        st.info(f"The line comes without bands. {ahead.bands_note}")
    else:
        st.caption(
            f"A band shows how far off this model's forecasts were on {calibration_days(ahead)}: "
            "the 80% band is wide enough to have held the real price on 80% of them, at each "
            "number of days ahead. It is measured relative to how much the price had moved in "
            "the month before each forecast (a length chosen without looking at the test "
            "period), so it widens when the market is restless. The dotted lines are a random "
            "walk's bands around today's price, as wide as the training days' moves. Dates are "
            "business days after the last price: holidays are not known."
        )
        for level in LEVELS:
            st.markdown(coverage_sentence(ahead, level))
        short = [
            level
            for level in LEVELS
            if any(
                share is not None and share < level - SHORTFALL
                for share in ahead.coverage[level].values()
            )
        ]
        if short:
            st.caption(
                f"The {' and '.join(f'{level:.0%}' for level in short)} band held the real price "
                "less often than its name says: the test period moved more than the validation "
                "period did, and a band only knows the errors it was measured on."
            )
    st.caption(
        f"The chart shows the last {HISTORY_DAYS} real days. No one knows tomorrow's price; "
        "the forecast is the model's best guess, and the bands say how wrong such guesses were."
    )
