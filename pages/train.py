"""Train & Predict: choose settings, watch the LSTM learn, compare it with the baseline."""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.config import (
    BATCH_SIZE_CHOICES,
    LEARNING_RATE_CHOICES,
    PRESETS,
    QUICK_DEMO,
    TrainConfig,
)
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError
from lstm_core.evaluation.metrics import METRIC_LABELS, METRIC_NAMES, range_note
from lstm_core.evaluation.significance import SIGNIFICANCE_LEVEL, format_pvalue, ratio_verdict
from lstm_core.execution.jobs import run_key
from lstm_core.preprocessing import check_fits, split_count
from pages import common, forecast_view

common.ensure_navigation()

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
}
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
            values["units"] = tuple(
                whole_number("units", part) for part in params["units"].split("-") if part
            )
        if "ticker" in params:
            values["ticker"] = params["ticker"]
        if "target" in params:
            values["target"] = params["target"]
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
        if same and units == preset_units:
            return name
    return OWN_SETTINGS


def slow_settings_warning(price_count: int) -> str | None:
    """A sentence when the form's batch size makes training take minutes, else None."""
    batch_size = st.session_state.get("form_batch", 32)
    lag, share = st.session_state.get("form_lag", 60), st.session_state.get("form_share", 0.8)
    epochs = st.session_state.get("form_epochs", 10)
    if price_count <= lag:
        return None
    steps = -(-split_count(price_count - lag, share) // batch_size)
    seconds = steps * epochs * SECONDS_PER_SMALL_STEP
    if batch_size > 2 or seconds < SLOW_WARNING_SECONDS:
        return None
    return (
        f"Batch size {batch_size} makes {steps:,} small corrections per epoch: expect about "
        f"{seconds / 60:.0f} minutes for {epochs} epochs on a 2-core machine (the tutorial's "
        "model takes about 11 s an epoch at batch 1 here). Stop keeps what was trained so far."
    )


def split_sentence(prices: pd.Series) -> str:
    """How many days train and how many test, for the form's lag and train share."""
    lag, share = int(st.session_state["form_lag"]), float(st.session_state["form_share"])
    windows = len(prices) - lag
    if windows < 2:
        return f"A lag of {lag} days leaves no days to train and test on."
    train = split_count(windows, share)
    test = windows - train
    dates = prices.index
    if train < 1 or test < 1:
        return f"A lag of {lag} days with a train share of {share:.0%} leaves no days to test on."
    return (
        f"With a lag of {lag} days and a train share of {share:.0%}: the model learns to predict "
        f"{train:,} days ({dates[lag]:%Y-%m-%d} to {dates[lag + train - 1]:%Y-%m-%d}, each from "
        f"the {lag} days before it) and is tested on the {test:,} days after "
        f"({dates[lag + train]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}), which it never sees in "
        "training."
    )


def apply_preset() -> None:
    """Fill the form from the chosen preset, keeping the chosen ticker."""
    name = st.session_state.get("preset")
    if name in PRESETS:
        load_settings_into_form(PRESETS[name].with_changes(ticker=common.current_ticker()))


def init_form() -> None:
    """Give the form its values: from the link, else the last settings, else the quick demo."""
    if SETTINGS_KEY not in st.session_state:
        values, problem = settings_from_query()
        if problem:
            st.warning(problem)
        if "ticker" in values and values["ticker"].upper() in common.price_data().tickers():
            st.session_state[common.TICKER_KEY] = values["ticker"].upper()
        values["ticker"] = common.current_ticker()
        load_settings_into_form(QUICK_DEMO.with_changes(**values))
    elif "form_lag" not in st.session_state:
        # Streamlit forgets a page's widget values when another page is shown.
        load_settings_into_form(st.session_state[SETTINGS_KEY])


def settings_form() -> TrainConfig | None:
    """Draw the form; return a config when Train was pressed and the settings are valid."""
    prices = common.price_data()
    tickers = prices.tickers()
    # The box names what the form holds, on a first visit, on a return and after an edit.
    st.session_state["preset"] = matching_preset()
    st.selectbox(
        "Start from a preset",
        [OWN_SETTINGS, *PRESETS],
        key="preset",
        on_change=apply_preset,
        help="Recommended learns daily changes and tunes on a validation period. The "
        "tutorial's two models learn the price level and differ only in batch size. The quick "
        f"demo's result shows {common.QUICK_DEMO_SECONDS} after clicking Train "
        "(bench/bench_app.py).",
    )
    warning = slow_settings_warning(len(prices.series(common.current_ticker())))
    if warning:
        st.warning(warning)
    with st.form("train_form"):
        ticker = st.selectbox(
            "Ticker",
            tickers,
            index=tickers.index(common.current_ticker()),
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
        st.caption(split_sentence(prices.series(common.current_ticker())))
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
        )
        check_fits(
            len(prices.series(ticker)),
            config.lag,
            config.train_fraction,
            config.batch_size,
            validation_fraction=config.validation_fraction,
        )
    except (ValueError, LabError) as error:
        st.error(f"These settings cannot be trained: {error}")
        return None
    st.session_state[common.TICKER_KEY] = config.ticker
    st.session_state[SETTINGS_KEY] = config
    return config


def start_or_reuse(config: TrainConfig) -> None:
    """Reuse an identical earlier run at once, else start training in the background."""
    series = common.price_data().series(config.ticker)
    key = run_key(config, series_fingerprint(series))
    st.query_params.from_dict(config.to_query())
    if key in common.results():
        st.session_state[common.CURRENT_KEY] = key
        st.info("Same settings, seed and data as an earlier run: showing that result at once.")
        return
    active = common.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    common.start_job(config, series)


def metrics_table(result: Any) -> pd.DataFrame:
    """The LSTM's and the baseline's metrics side by side, with the result cards' decimals."""
    rows = []
    for name in METRIC_NAMES:
        rows.append(
            {
                "metric": METRIC_LABELS[name],
                "LSTM": common.format_metric(name, result.metrics["lstm"][name]),
                "Tomorrow = today": common.format_metric(name, result.metrics["persistence"][name]),
            }
        )
    return pd.DataFrame(rows)


def validation_table(validation: dict[str, Any]) -> pd.DataFrame:
    """The validation period's RMSE, MAE and ratio for the LSTM and the baseline."""
    metrics = validation["metrics"]
    rows = [
        {
            "metric": METRIC_LABELS[name],
            "LSTM": metrics["lstm"][name],
            "Tomorrow = today": metrics["persistence"][name],
        }
        for name in ("rmse", "mae")
    ]
    rows.append(
        {
            "metric": "LSTM error / baseline error",
            "LSTM": validation["comparison"]["rmse_ratio"],
            "Tomorrow = today": 1.0,
        }
    )
    return pd.DataFrame(rows)


def predictions_csv(result: Any) -> bytes:
    """The test predictions as CSV bytes."""
    frame = pd.DataFrame(
        {
            "date": result.test_dates.strftime("%Y-%m-%d"),
            "actual": result.actual,
            "lstm": result.predicted,
            "tomorrow_equals_today": result.persistence,
        }
    )
    return frame.to_csv(index=False).encode()


def show_result(result: Any, previous: bool = False) -> None:
    """Everything about a finished run: overlay, verdict, metrics, loss, model, downloads.

    `previous` marks the result of the last run while a new training is under way above it.
    """
    config = result.config
    if previous:
        st.subheader(f"Previous run (a new training is under way above): {result.label()}")
    else:
        st.subheader(f"Result: {result.label()}")
    if result.stopped:
        st.warning(
            f"Training was stopped after {result.epochs_completed} full epoch(s) of "
            f"{config.epochs}; the results below are for the model as trained so far."
        )
    lstm, baseline = result.metrics["lstm"], result.metrics["persistence"]
    figures = result.comparison or {
        "rmse_ratio": lstm["rmse"] / baseline["rmse"],
        "dm_pvalue": None,
    }
    if result.validation is not None:
        st.info(
            ratio_verdict(result.validation["comparison"], period="validation")
            + " Tune your settings on this figure."
        )
    st.info(ratio_verdict(figures))
    note = result.kept_weights_note()
    if note:
        st.caption(note)
    prepared = result.prepared
    note = range_note(prepared.train_prices, result.actual)
    if note and config.target == "level":
        st.caption(note)
    train_end = prepared.train_count + prepared.lag
    st.plotly_chart(
        charts.prediction_chart(
            prepared.dates[:train_end],
            prepared.prices[:train_end],
            result.test_dates,
            result.actual,
            {"LSTM prediction": result.predicted},
            result.persistence,
        ),
        key="overlay",
    )
    st.markdown("**Held-out test period**" + (f" ({result.n_test} days)"))
    difference = lstm["rmse"] - baseline["rmse"]
    columns = st.columns(4)
    columns[0].metric(
        "LSTM error / baseline error",
        f"{figures['rmse_ratio']:.2f}x",
        help="The LSTM's RMSE divided by the RMSE of repeating yesterday's price. Below 1 "
        "beats the baseline; 1.00 is a tie.",
    )
    columns[1].metric(
        "LSTM typical error (RMSE)",
        common.format_metric("rmse", lstm["rmse"]),
        delta=f"{'+' if difference >= 0 else '-'}${abs(difference):,.2f} vs baseline",
        delta_color="inverse",
        help=f"The baseline's typical error is ${baseline['rmse']:,.2f}.",
    )
    pvalue = figures.get("dm_pvalue")
    columns[2].metric(
        "More than luck?",
        "yes" if pvalue is not None and pvalue < SIGNIFICANCE_LEVEL else "no",
        delta=format_pvalue(pvalue),
        delta_color="off",
        help="The Diebold-Mariano test (with Harvey's small-sample correction) asks whether the "
        "two forecasts' squared errors differ by more than chance day-to-day variation would "
        f"give. 'Yes' when p is below {SIGNIFICANCE_LEVEL}.",
    )
    up_share = figures.get("up_share")
    direction_help = "How often the LSTM's predicted move had the real move's sign."
    if up_share is not None:
        direction_help += (
            f" The price rose on {up_share:.1%} of these days, so 'always up' would score "
            f"{up_share:.1%}; the Pesaran-Timmermann test gives "
            f"{format_pvalue(figures.get('direction_pvalue'))} that the LSTM's signs track the "
            "real ones."
        )
    columns[3].metric(
        "LSTM direction right",
        common.format_metric("direction_accuracy", lstm["direction_accuracy"]),
        delta=None if up_share is None else f"up days: {up_share:.1%}",
        delta_color="off",
        help=direction_help,
    )
    st.dataframe(
        metrics_table(result),
        hide_index=True,
        column_config={
            "Tomorrow = today": st.column_config.TextColumn(help=common.NO_DIRECTION_HELP),
        },
    )
    up_days = "" if up_share is None else f"; the price rose on {up_share:.1%} of them"
    st.caption(
        "Held-out test period. RMSE and MAE are typical errors in dollars; MAPE in percent of "
        "the price. MASE divides the error by the average day-to-day change of the training "
        "period, so on a test year more volatile than training even repeating yesterday's "
        f"price scores well above 1 (here {baseline['mase']:.2f}). Direction right: the share "
        f"of test days whose move up or down the model got right{up_days}. 'Tomorrow = today' "
        "never predicts a move, so it has no direction score (a dash)."
    )
    if result.validation is not None:
        validation = result.validation
        st.markdown(
            f"**Validation period** ({validation['n']} days, {validation['dates'][0]} to "
            f"{validation['dates'][1]}): the figures to tune on"
        )
        st.dataframe(
            validation_table(validation),
            hide_index=True,
            column_config={
                "LSTM": st.column_config.NumberColumn(format="%.2f"),
                "Tomorrow = today": st.column_config.NumberColumn(format="%.2f"),
            },
        )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            charts.loss_chart(
                result.loss_history,
                config.epochs,
                validation_losses=result.validation_loss_history,
                best_epoch=result.best_epoch,
            ),
            key="final_loss",
        )
    with right:
        st.markdown("**The model**")
        layers = pd.DataFrame(result.layers, columns=["layer", "type", "parameters"])
        st.dataframe(layers, hide_index=True)
        st.caption(
            f"{int(layers['parameters'].sum()):,} parameters in all; trained in "
            f"{result.seconds:.1f} s."
        )
    download_left, download_right = st.columns(2)
    download_left.download_button(
        "Download predictions (CSV)",
        predictions_csv(result),
        file_name=f"{config.ticker}_predictions.csv",
        mime="text/csv",
        on_click="ignore",
    )
    if result.model is not None:
        if getattr(result, "model_bytes", None) is None:
            from lstm_core.model.network import model_to_bytes

            result.model_bytes = model_to_bytes(result.model)
        download_right.download_button(
            "Download the model (.keras)",
            result.model_bytes,
            file_name=f"{config.ticker}_lstm.keras",
            on_click="ignore",
        )


st.title("Train & Predict")
st.write(
    "Pick settings, press **Train**, and watch the model learn. It is then tested on the last "
    "part of the history it never saw, against the simplest possible forecast: tomorrow's price "
    "equals today's."
)
common.collect_finished_job()
init_form()
chosen = settings_form()
if chosen is not None:
    start_or_reuse(chosen)

active_job = common.job()
if active_job is not None and active_job.state == "failed":
    st.error(f"The last training could not finish: {active_job.error}")
if active_job is not None and not active_job.finished:
    common.live_training("train")

current = common.current_result()
if current is not None:
    training = active_job is not None and not active_job.finished
    show_result(current, previous=training)
    if not training:
        forecast_view.show_look_ahead(current)
elif active_job is None or active_job.finished:
    st.caption("No model trained yet in this session: choose settings above and press Train.")
