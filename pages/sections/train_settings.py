"""The Train & Predict page's settings: the form's limits, a shared link's values, presets.

Not a page: pages/train.py draws the form (pages/sections/train_form.py) with these.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core.config import (
    BATCH_SIZE_CHOICES,
    LEARNING_RATE_CHOICES,
    PRESETS,
    QUICK_DEMO,
    TrainConfig,
    parse_inputs,
)
from lstm_core.errors import LabError
from lstm_core.preprocessing import prepare, split_count
from pages.shared import session
from pages.shared.formatting import plain

BATCH_SIZES = list(BATCH_SIZE_CHOICES)
LEARNING_RATES = list(LEARNING_RATE_CHOICES)
SETTINGS_KEY = "train_settings"
FORM_FIELDS = {
    "form_lag": "lag",
    "form_batch": "batch_size",
    "form_epochs": "epochs",
    "form_dense": "dense_units",
    "form_lr": "learning_rate",
    "form_share": "train_fraction",
    "form_seed": "seed",
    "form_target": "target",
    "form_validation": "validation_fraction",
    "form_patience": "patience",
    "form_model": "model",
}
MODEL_LABELS = {
    "lstm": "LSTM (the tutorial's)",
    "gru": "GRU",
    "simple_rnn": "Simple RNN",
    "linear": "Linear (ridge)",
}
MODEL_SENTENCES = {
    "lstm": "LSTM: the tutorial's network, whose gates decide what to keep and forget.",
    "gru": "GRU: the same stack with a lighter gated layer (two gates instead of three).",
    "simple_rnn": "Simple RNN: the same stack with plain recurrent layers and no gates.",
    "linear": "Linear: one weight per day of the window plus a constant (ridge regression), "
    "fitted in a moment; batch, epochs and layer sizes do not apply.",
}
"""One plain sentence per model kind, for the form's help."""
INPUTS_KEY = "form_inputs"
"""The form's extra inputs (the close is always seen), a list of names."""
INPUT_LABELS = {"volume": "Volume", "range": "Daily range", "market": "Market"}
TARGET_LABELS = {
    "change": "Daily changes (recommended)",
    "level": "Price level (the tutorial's way)",
}
LAG_RANGE = (2, 250)
EPOCH_RANGE = (1, 100)
UNIT_MAX = 512
SHARE_RANGE = (0.5, 0.95)
SHARE_STEP = 0.05
VALIDATION_RANGE = (0.0, 0.3)
PATIENCE_RANGE = (0, 20)


def whole_number(name: str, text: str) -> int:
    """A link's value as an int, or a ValueError a person can read."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None


def decimal_number(name: str, text: str) -> float:
    """A link's value as a float, or a ValueError a person can read."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def check_form_can_show(config: TrainConfig) -> None:
    """Refuse a config the form's widgets cannot show, rather than change it silently."""
    if not LAG_RANGE[0] <= config.lag <= LAG_RANGE[1]:
        raise ValueError(f"the form's lag goes from {LAG_RANGE[0]} to {LAG_RANGE[1]} days")
    if config.batch_size not in BATCH_SIZES:
        sizes = ", ".join(str(size) for size in BATCH_SIZES)
        raise ValueError(f"the form's batch sizes are {sizes}")
    if not EPOCH_RANGE[0] <= config.epochs <= EPOCH_RANGE[1]:
        raise ValueError(f"the form's epochs go from {EPOCH_RANGE[0]} to {EPOCH_RANGE[1]}")
    if len(config.units) > 2:
        raise ValueError("the form has at most 2 LSTM layers")
    if max(config.units) > UNIT_MAX or config.dense_units > UNIT_MAX:
        raise ValueError(f"the form's layers have at most {UNIT_MAX} units")
    if config.learning_rate not in LEARNING_RATES:
        rates = ", ".join(str(rate) for rate in LEARNING_RATES)
        raise ValueError(f"the form's learning rates are {rates}")
    steps = config.train_fraction / SHARE_STEP
    if (
        not SHARE_RANGE[0] <= config.train_fraction <= SHARE_RANGE[1]
        or abs(steps - round(steps)) > 1e-9
    ):
        raise ValueError(
            f"the form's train share goes from {SHARE_RANGE[0]} to {SHARE_RANGE[1]} "
            f"in steps of {SHARE_STEP}"
        )
    steps = config.validation_fraction / SHARE_STEP
    if (
        not VALIDATION_RANGE[0] <= config.validation_fraction <= VALIDATION_RANGE[1]
        or abs(steps - round(steps)) > 1e-9
    ):
        raise ValueError(
            f"the form's validation share goes from {VALIDATION_RANGE[0]} to "
            f"{VALIDATION_RANGE[1]} in steps of {SHARE_STEP}"
        )
    if not PATIENCE_RANGE[0] <= config.patience <= PATIENCE_RANGE[1]:
        raise ValueError(
            f"the form's patience goes from {PATIENCE_RANGE[0]} to {PATIENCE_RANGE[1]} epochs"
        )
    if config.shuffled:
        raise ValueError("the form trains no shuffled control (the Compare page's lineup does)")


def settings_from_query() -> tuple[dict[str, Any], str | None]:
    """Settings from a shared link (?lag=60&batch_size=200...), and a sentence if they are bad."""
    params = st.query_params.to_dict()
    if not params:
        return {}, None
    try:
        values: dict[str, Any] = {}
        for name in ("lag", "batch_size", "epochs", "dense_units", "seed", "patience"):
            if name in params:
                values[name] = whole_number(name, params[name])
        for name in ("learning_rate", "train_fraction", "validation_fraction"):
            if name in params:
                values[name] = decimal_number(name, params[name])
        if "units" in params:
            parts = params["units"].split("-")
            # "-8" must not read as one layer of 8: every part is a layer size.
            if any(not part.strip() for part in parts):
                raise ValueError(
                    f"units must be layer sizes joined by '-', such as 64-32, got "
                    f"{params['units']!r}"
                )
            values["units"] = tuple(whole_number("units", part) for part in parts)
        if "ticker" in params:
            values["ticker"] = params["ticker"]
        if "target" in params:
            values["target"] = params["target"]
        if "model" in params:
            values["model"] = params["model"]
        for name in ("inputs", "shuffled"):
            if name in params:
                values[name] = parse_inputs(params[name])
        check_form_can_show(QUICK_DEMO.with_changes(**values))
    except (ValueError, TypeError) as error:
        return {}, f"The settings in this link could not be used ({error}); showing the defaults."
    return values, None


def load_settings_into_form(config: TrainConfig) -> None:
    """Put a config's values into the form's widgets (before they are drawn)."""
    st.session_state[SETTINGS_KEY] = config
    for key, name in FORM_FIELDS.items():
        st.session_state[key] = getattr(config, name)
    st.session_state["form_units1"] = config.units[0]
    st.session_state["form_units2"] = config.units[1] if len(config.units) > 1 else 0
    st.session_state[INPUTS_KEY] = list(config.extra_inputs)
    if config.batch_size not in BATCH_SIZES:
        st.session_state["form_batch"] = min(
            BATCH_SIZES, key=lambda size: abs(size - config.batch_size)
        )


OWN_SETTINGS = "(your own settings)"

# Seconds per training step of the tutorial model at batch 1 or 2 (bench/bench_training.py:
# about 11 s an epoch of 1,160 steps on this project's 2-core machines).
SECONDS_PER_SMALL_STEP = 0.0095
SLOW_WARNING_SECONDS = 60


def matching_preset() -> str:
    """The preset whose values the form holds now, or OWN_SETTINGS once any value differs."""
    units = (st.session_state.get("form_units1"), st.session_state.get("form_units2"))
    for name, preset in PRESETS.items():
        preset_units = (preset.units[0], preset.units[1] if len(preset.units) > 1 else 0)
        same = all(
            st.session_state.get(key) == getattr(preset, field)
            for key, field in FORM_FIELDS.items()
        )
        # Every preset sees the close alone.
        if same and units == preset_units and not st.session_state.get(INPUTS_KEY):
            return name
    return OWN_SETTINGS


def slow_settings_warning(price_count: int) -> str | None:
    """A sentence when the form's batch size makes training take minutes, else None."""
    batch_size = st.session_state.get("form_batch", 32)
    lag, share = st.session_state.get("form_lag", 60), st.session_state.get("form_share", 0.8)
    epochs = st.session_state.get("form_epochs", 10)
    if price_count <= lag:
        return None
    steps = -(-(split_count(price_count, share) - lag) // batch_size)
    seconds = steps * epochs * SECONDS_PER_SMALL_STEP
    if batch_size > 2 or seconds < SLOW_WARNING_SECONDS:
        return None
    return (
        f"Batch size {batch_size} makes {steps:,} small corrections per epoch: expect about "
        f"{seconds / 60:.0f} minutes for {epochs} epochs on a 2-core machine (the tutorial's "
        "model takes about 11 s an epoch at batch 1 here). Stop keeps what was trained so far."
    )


def split_sentence(prices: pd.Series) -> str:
    """Which days train, validate and test for the form's lag, train and validation shares.

    The days come from `prepare`, the very split training uses, so the sentence cannot drift
    from the result's periods.
    """
    lag, share = int(st.session_state["form_lag"]), float(st.session_state["form_share"])
    validation_share = float(st.session_state.get("form_validation", 0.0) or 0.0)
    try:
        prepared = prepare(prices, lag, share, validation_fraction=validation_share)
    except LabError as error:
        return f"These shares cannot be split: {error}"
    dates = prepared.dates
    train_first, train_last = dates[lag], dates[lag + prepared.train_count - 1]
    test_dates = prepared.test_dates
    if len(test_dates) == 0:
        return f"A lag of {lag} days with a train share of {share:.0%} leaves no days to test on."
    text = (
        f"With a lag of {lag} days and a train share of {share:.0%}: the model learns to predict "
        f"{prepared.train_count:,} days ({train_first:%Y-%m-%d} to {train_last:%Y-%m-%d}, each "
        f"from the {lag} days before it)"
    )
    validation_dates = prepared.validation_dates
    if len(validation_dates):
        text += (
            f", is checked on the {len(validation_dates):,} validation days after them "
            f"({validation_dates[0]:%Y-%m-%d} to {validation_dates[-1]:%Y-%m-%d}; "
            f"validation share {validation_share:.0%}), which it does not learn from,"
        )
    return text + (
        f" and is tested on the {len(test_dates):,} days after "
        f"({test_dates[0]:%Y-%m-%d} to {test_dates[-1]:%Y-%m-%d}), which it never sees in "
        "training."
    )


def apply_preset() -> None:
    """Fill the form from the chosen preset, keeping the chosen ticker."""
    name = st.session_state.get("preset")
    if name in PRESETS:
        load_settings_into_form(PRESETS[name].with_changes(ticker=session.current_ticker()))


def init_form() -> None:
    """Give the form its values: from the link, else the last settings, else the quick demo."""
    if SETTINGS_KEY not in st.session_state:
        values, problem = settings_from_query()
        if problem:
            st.warning(plain(problem))
        if "ticker" in values and values["ticker"].upper() in session.price_data().tickers():
            st.session_state[session.TICKER_KEY] = values["ticker"].upper()
        values["ticker"] = session.current_ticker()
        load_settings_into_form(QUICK_DEMO.with_changes(**values))
    elif "form_lag" not in st.session_state:
        # Streamlit forgets a page's widget values when another page is shown.
        load_settings_into_form(st.session_state[SETTINGS_KEY])
