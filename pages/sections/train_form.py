"""The Train & Predict page's settings form, and starting (or reusing) the training it asks for.

Not a page: pages/train.py calls `settings_form` and `start_or_reuse`.
"""

import streamlit as st

from lstm_core.config import EXTRA_INPUTS, INPUT_SENTENCES, PRESETS, TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError
from lstm_core.execution.jobs import run_key
from lstm_core.features import check_inputs
from lstm_core.preprocessing import check_config_fits, check_prices_vary
from pages.sections.train_settings import (
    BATCH_SIZES,
    EPOCH_RANGE,
    INPUT_LABELS,
    INPUTS_KEY,
    LAG_RANGE,
    LEARNING_RATES,
    MODEL_LABELS,
    MODEL_SENTENCES,
    OWN_SETTINGS,
    PATIENCE_RANGE,
    SETTINGS_KEY,
    SHARE_RANGE,
    SHARE_STEP,
    TARGET_LABELS,
    UNIT_MAX,
    VALIDATION_RANGE,
    apply_preset,
    matching_preset,
    slow_settings_warning,
    split_sentence,
)
from pages.shared import jobs, saving, session
from pages.shared.formatting import plain


def preset_help() -> str:
    """What the presets are, and how long each took on this server when it has run here."""
    times = [
        f"{name}: {measured.removeprefix('Measured here: ')}"
        for name, preset in PRESETS.items()
        if (measured := saving.measured_help(preset))
    ]
    text = (
        "Recommended learns daily changes and tunes on a validation period. The tutorial's two "
        "models learn the price level and differ only in batch size. The quick demo is the "
        "fastest."
    )
    if times:
        text += " Measured on this server: " + " ".join(times)
    return text


def settings_form() -> TrainConfig | None:
    """Draw the form; return a config when Train was pressed and the settings are valid."""
    prices = session.price_data()
    tickers = prices.tickers()
    # The box names what the form holds, on a first visit, on a return and after an edit.
    st.session_state["preset"] = matching_preset()
    st.selectbox(
        "Start from a preset",
        [OWN_SETTINGS, *PRESETS],
        key="preset",
        on_change=apply_preset,
        help=preset_help(),
    )
    warning = slow_settings_warning(len(prices.series(session.current_ticker())))
    if warning:
        st.warning(warning)
    with st.form("train_form"):
        ticker = st.selectbox(
            "Ticker",
            tickers,
            index=tickers.index(session.current_ticker()),
            help="The company whose adjusted close the model learns to predict.",
        )
        lag = st.slider(
            "Lag (days)",
            *LAG_RANGE,
            key="form_lag",
            help="How many past days the model sees to predict the next one (the window length).",
        )
        batch_size = st.select_slider(
            "Batch size",
            BATCH_SIZES,
            key="form_batch",
            help="How many windows the model looks at before each small correction. Small batches "
            "make many corrections per epoch: slower, often more accurate.",
        )
        epochs = st.slider(
            "Epochs",
            *EPOCH_RANGE,
            key="form_epochs",
            help="How many times training goes over all data.",
        )
        target = st.radio(
            "What the model learns",
            list(TARGET_LABELS),
            format_func=TARGET_LABELS.get,
            key="form_target",
            horizontal=True,
            help="Price level: the tutorial's way, the next price on a scale fitted to the "
            "training years; a model trained so seldom predicts prices it never saw. Daily "
            "changes: each window is seen relative to its last price and the model predicts "
            "the next day's change, which it can learn the same way in any year.",
        )
        model = st.radio(
            "What the network is",
            list(MODEL_LABELS),
            format_func=MODEL_LABELS.get,
            key="form_model",
            horizontal=True,
            help="\n\n".join(MODEL_SENTENCES.values()),
        )
        extra_inputs = st.multiselect(
            "What the network sees besides the close",
            list(EXTRA_INPUTS),
            key=INPUTS_KEY,
            format_func=INPUT_LABELS.get,
            placeholder="The close alone",
            help="\n\n".join(INPUT_SENTENCES.values()),
        )
        with st.expander("Advanced"):
            first_units = st.number_input(
                "Units in LSTM layer 1",
                1,
                UNIT_MAX,
                key="form_units1",
                help="The size of the first layer's memory. The tutorial uses 128.",
            )
            second_units = st.number_input(
                "Units in LSTM layer 2 (0 = only one layer)",
                0,
                UNIT_MAX,
                key="form_units2",
                help="The second, stacked layer. The tutorial uses 64.",
            )
            dense_units = st.number_input(
                "Units in the dense layer (0 = none)",
                0,
                UNIT_MAX,
                key="form_dense",
                help="A plain layer between the LSTM and the output. The tutorial uses 25.",
            )
            learning_rate = st.select_slider(
                "Learning rate",
                LEARNING_RATES,
                key="form_lr",
                help="How big each correction is. Too big jumps around; too small learns slowly.",
            )
            train_fraction = st.slider(
                "Train share",
                *SHARE_RANGE,
                step=SHARE_STEP,
                key="form_share",
                help="The first part of the history trains the model; the rest tests it, unseen.",
            )
            validation_fraction = st.slider(
                "Validation share",
                *VALIDATION_RANGE,
                step=SHARE_STEP,
                key="form_validation",
                help="The end of the training part kept aside to tune on: the model does not "
                "learn from it, and you can compare settings there without touching the test "
                "period. 0 = no validation period.",
            )
            patience = st.number_input(
                "Early stopping patience (epochs, 0 = off)",
                *PATIENCE_RANGE,
                key="form_patience",
                help="Stop when the validation loss has not improved for this many epochs, and "
                "keep the weights of the best epoch. Needs a validation share above 0.",
            )
            seed = st.number_input(
                "Seed",
                0,
                2**31 - 1,
                step=1,
                key="form_seed",
                help="Fixes the random start, so the same settings give the same result.",
            )
        st.caption(split_sentence(prices.series(session.current_ticker())))
        submitted = st.form_submit_button("Train", type="primary")
    if not submitted:
        return None
    units = (int(first_units), int(second_units)) if second_units else (int(first_units),)
    try:
        config = TrainConfig(
            ticker=ticker,
            lag=int(lag),
            batch_size=int(batch_size),
            epochs=int(epochs),
            units=units,
            dense_units=int(dense_units),
            learning_rate=float(learning_rate),
            train_fraction=round(float(train_fraction), 4),
            seed=int(seed),
            target=str(target),
            validation_fraction=round(float(validation_fraction), 4),
            patience=int(patience),
            model=str(model),
            inputs=("close", *extra_inputs),
        )
        check_config_fits(len(prices.series(ticker)), config)
        check_prices_vary(prices.series(ticker))
        check_inputs(prices.series(ticker), config)
    except (ValueError, LabError) as error:
        st.error(f"These settings cannot be trained: {plain(error)}")
        return None
    st.session_state[session.TICKER_KEY] = config.ticker
    st.session_state[SETTINGS_KEY] = config
    return config


def start_or_reuse(config: TrainConfig) -> None:
    """Reuse an identical earlier run at once, else start training in the background."""
    series = session.price_data().series(config.ticker)
    key = run_key(config, series_fingerprint(series))
    st.query_params.from_dict(config.to_query())
    if key in session.results():
        st.session_state[session.CURRENT_KEY] = key
        st.info("Same settings, seed and data as an earlier run: showing that result at once.")
        return
    from pages.sections.train_link import saved_result

    saved, problem = saved_result(config)
    if problem:
        st.warning(problem)
    if saved is not None:
        st.session_state[session.CURRENT_KEY] = key
        st.info(
            "Same settings, seed and data as a saved run: showing that result at once "
            "(press Train again beside it to train once more)."
        )
        return
    active = session.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    jobs.start_job(config, series)
