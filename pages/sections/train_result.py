"""The Train & Predict page's result: overlay, verdicts, metrics, loss, the model, downloads.

Not a page: pages/train.py calls `show_result`.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.config import MODEL_NAMES
from lstm_core.evaluation.metrics import METRIC_LABELS, METRIC_NAMES, range_note
from lstm_core.evaluation.significance import (
    SIGNIFICANCE_LEVEL,
    format_pvalue,
    luck_answer,
    ratio_verdict,
)
from pages.sections import train_moves
from pages.shared import formatting


def metrics_table(result: Any) -> pd.DataFrame:
    """The LSTM's and the baseline's metrics side by side, with the result cards' decimals."""
    model_name = MODEL_NAMES[result.config.model]
    rows = []
    for name in METRIC_NAMES:
        rows.append(
            {
                "metric": METRIC_LABELS[name],
                model_name: formatting.format_metric(name, result.metrics["lstm"][name]),
                "Tomorrow = today": formatting.format_metric(
                    name, result.metrics["persistence"][name]
                ),
            }
        )
    return pd.DataFrame(rows)


def validation_table(validation: dict[str, Any], model_name: str = "LSTM") -> pd.DataFrame:
    """The validation period's RMSE, MAE and ratio for the LSTM and the baseline."""
    metrics = validation["metrics"]
    rows = [
        {
            "metric": METRIC_LABELS[name],
            model_name: metrics["lstm"][name],
            "Tomorrow = today": metrics["persistence"][name],
        }
        for name in ("rmse", "mae")
    ]
    rows.append(
        {
            "metric": f"{model_name} error / baseline error",
            model_name: validation["comparison"]["rmse_ratio"],
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
            ratio_verdict(
                result.validation["comparison"],
                period="validation",
                model_name=MODEL_NAMES[result.config.model],
                chose_epoch=result.config.patience > 0,
            )
            + " Tune your settings on this figure."
        )
    st.info(ratio_verdict(figures, model_name=MODEL_NAMES[result.config.model]))
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
            {f"{MODEL_NAMES[config.model]} prediction": result.predicted},
            result.persistence,
            validation=pd.Series(prepared.validation_actual, index=prepared.validation_dates)
            if prepared.validation_count
            else None,
        ),
        key="overlay",
    )
    train_moves.show_moves(result)
    st.markdown("**Held-out test period**" + (f" ({result.n_test} days)"))
    difference = lstm["rmse"] - baseline["rmse"]
    columns = st.columns(4)
    model_name = MODEL_NAMES[config.model]
    columns[0].metric(
        f"{model_name} error / baseline error",
        f"{figures['rmse_ratio']:.2f}x",
        help=f"The {model_name}'s RMSE divided by the RMSE of repeating yesterday's price. Below 1 "
        "beats the baseline; 1.00 is a tie.",
    )
    columns[1].metric(
        f"{model_name} typical error (RMSE)",
        formatting.format_metric("rmse", lstm["rmse"]),
        delta=f"{'+' if difference >= 0 else '-'}${abs(difference):,.2f} vs baseline",
        delta_color="inverse",
        help=f"The baseline's typical error is ${baseline['rmse']:,.2f}.",
    )
    pvalue = figures.get("dm_pvalue")
    columns[2].metric(
        "More than luck?",
        luck_answer(figures["rmse_ratio"], pvalue),
        delta=format_pvalue(pvalue),
        delta_color="off",
        delta_arrow="off",
        help="The Diebold-Mariano test (with Harvey's small-sample correction) asks whether the "
        "two forecasts' squared errors differ by more than chance day-to-day variation would "
        f"give. 'Yes' when p is below {SIGNIFICANCE_LEVEL}, with the side the gap favours: "
        "'yes, better' beats repeating yesterday's price, 'yes, worse' loses to it.",
    )
    up_share = figures.get("up_share")
    direction_help = f"How often the {model_name}'s predicted move had the real move's sign."
    if up_share is not None:
        direction_help += (
            f" The price rose on {up_share:.1%} of these days, so 'always up' would score "
            f"{up_share:.1%}; the Pesaran-Timmermann test gives "
            f"{format_pvalue(figures.get('direction_pvalue'))} that the {model_name}'s signs "
            "track the real ones."
        )
    columns[3].metric(
        f"{model_name} direction right",
        formatting.format_metric("direction_accuracy", lstm["direction_accuracy"]),
        delta=None if up_share is None else f"up days: {up_share:.1%}",
        delta_color="off",
        delta_arrow="off",
        help=direction_help,
    )
    st.dataframe(
        metrics_table(result),
        hide_index=True,
        column_config={
            "Tomorrow = today": st.column_config.TextColumn(help=formatting.NO_DIRECTION_HELP),
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
            validation_table(validation, MODEL_NAMES[config.model]),
            hide_index=True,
            column_config={
                MODEL_NAMES[config.model]: st.column_config.NumberColumn(format="%.2f"),
                "Tomorrow = today": st.column_config.NumberColumn(format="%.2f"),
            },
        )
    left, right = st.columns(2)
    with left:
        train_moves.show_loss(result)
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
            from lstm_core.model.twin import model_bytes

            result.model_bytes = model_bytes(result.model)
        # A ridge is a NumPy archive (coefficients, intercept, alpha), not a Keras file.
        is_ridge = config.model == "linear"
        download_right.download_button(
            "Download the model (.npz)" if is_ridge else "Download the model (.keras)",
            result.model_bytes,
            file_name=f"{config.ticker}_ridge.npz"
            if is_ridge
            else f"{config.ticker}_{config.model}.keras",
            on_click="ignore",
        )
