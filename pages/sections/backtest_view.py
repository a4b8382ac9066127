"""The Backtest page's result: fold ratios, error by days ahead, stitched forecasts, a table.

Not a page: pages/backtest.py calls `show_backtest`.
"""

import pandas as pd
import streamlit as st

from lstm_core import json_text
from lstm_core.charts.forecast import fold_ratio_chart, horizon_error_chart, stitched_chart
from lstm_core.evaluation.significance import VERDICTS, format_pvalue, luck_verdict
from lstm_core.forecasting.backtest_results import BacktestResult


def fold_verdicts(result: BacktestResult) -> list[str]:
    """Each finished fold's Diebold-Mariano verdict against persistence (see luck_verdict)."""
    return [luck_verdict(fold.ratio, fold.comparison.get("dm_pvalue")) for fold in result.folds]


def verdict_counts(verdicts: list[str]) -> str:
    """'1 better, more than luck; 3 within luck; 1 worse, more than luck' (zeros left out)."""
    parts = [f"{verdicts.count(name)} {name}" for name in VERDICTS if verdicts.count(name)]
    return "; ".join(parts)


def fold_table(result: BacktestResult) -> pd.DataFrame:
    """One row per finished fold: when, how much history, and both one-day errors."""
    return pd.DataFrame(
        [
            {
                "fold": fold.number,
                "trained up to": fold.origin_date.strftime("%Y-%m-%d"),
                "tested": f"{fold.test_dates[0]:%Y-%m-%d} to {fold.test_dates[-1]:%Y-%m-%d}",
                "training windows": fold.n_train,
                "LSTM RMSE ($)": fold.metrics["lstm"]["rmse"],
                "baseline RMSE ($)": fold.metrics["persistence"]["rmse"],
                "ratio": fold.ratio,
                "more than luck?": format_pvalue(fold.comparison["dm_pvalue"]),
            }
            for fold in result.folds
        ]
    )


def summary_sentence(result: BacktestResult) -> str:
    """The folds' ratios in plain words: mean, range, and how many blocks the Diebold-Mariano
    test calls better or worse than persistence by more than luck, and how many within luck."""
    summary = result.ratio_summary()
    count = len(result.folds)
    text = (
        f"Over {count} test blocks the LSTM's one-day error was on average "
        f"{summary['mean']:.3f}x that of repeating yesterday's price"
    )
    if count > 1:
        text += (
            f" (from {summary['min']:.3f}x to {summary['max']:.3f}x; standard deviation "
            f"{summary['sd']:.3f})"
        )
    return text + f". Of the {count} blocks: {verdict_counts(fold_verdicts(result))}."


def show_backtest(result: BacktestResult) -> None:
    """The finished folds: their ratios, error by days ahead, and the stitched forecasts."""
    config = result.config
    st.subheader(f"Backtest: {config.label()}")
    if result.stopped:
        st.warning(
            f"Stopped: {len(result.folds)} of {result.folds_planned} folds had finished; "
            "those are shown."
        )
    if not result.folds:
        st.info("No fold finished before the stop, so there is nothing to show.")
        return
    st.info(summary_sentence(result))
    labels = [f"{fold.number}: from {fold.test_dates[0]:%Y-%m}" for fold in result.folds]
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            fold_ratio_chart(labels, result.ratios(), fold_verdicts(result)),
            key="backtest_ratio_chart",
        )
        st.caption(
            "Each bar is one block of days, forecast one day ahead by a model trained only on "
            "the days before it. Below the dashed line at 1 the LSTM's error was smaller than "
            "repeating yesterday's price. Green: better by more than luck; red: worse by more "
            "than luck; grey: within luck (Diebold-Mariano, p below 0.05 counts). The grey band "
            "is the mean plus or minus one standard deviation."
        )
    with right:
        st.plotly_chart(horizon_error_chart(result.by_horizon), key="backtest_horizon_chart")
        st.caption(
            "Typical error in dollars when forecasting 1, 2, … days ahead from each day of "
            "every block (each forecast day feeds the next), against keeping today's price."
        )
    stitched = result.one_day()
    st.plotly_chart(
        stitched_chart(
            stitched["dates"],
            stitched["actual"],
            stitched["lstm"],
            stitched["persistence"],
            [fold.test_dates[0] for fold in result.folds],
        ),
        key="backtest_stitched_chart",
    )
    st.dataframe(
        fold_table(result),
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("LSTM RMSE ($)", "baseline RMSE ($)", "ratio")
        },
    )
    st.caption(
        f"{result.seconds:,.0f} s in all, {result.fit_seconds:,.0f} s of it training. "
        "'More than luck?' is the Diebold-Mariano test of each block's one-day errors."
    )
    st.download_button(
        "Download the backtest (JSON)",
        json_text.dumps(result.to_json(), indent=2),
        file_name=f"{config.ticker}_backtest.json",
        mime="application/json",
        on_click="ignore",
    )
