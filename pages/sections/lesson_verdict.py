"""The Lesson's steps 6 to 10: both lose, daily changes, seeds, the bands, the professionals.

Not a page: pages/lesson.py draws one step at a time (pages/sections/lesson_steps.py lists them).
Every figure in a sentence comes from the reference run beside it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_core.charts import lesson as lesson_charts
from lstm_core.charts.forecast import fan_chart
from lstm_core.config import RECOMMENDED, TUTORIAL_MODEL_1
from lstm_core.evaluation.significance import SIGNIFICANCE_LEVEL, ratio_verdict
from lstm_core.experiments.reference import SEED_RUNS
from lstm_core.forecasting.forecast import DEFAULT_HORIZON, LEVELS
from pages.sections.lesson_runs import (
    reference,
    reference_caption,
    references,
    train_live,
    training_prices,
)
from pages.sections.lesson_story import (
    GUESSES,
    TRAINING_DAYS_SHOWN,
    columns,
    no_reference,
    ratio_words,
)
from pages.sections.look_ahead import coverage_sentence
from pages.shared import session


def step_both_lose() -> None:
    left, right = columns()
    with right:
        runs = references(["tutorial_model_1", "tutorial_model_2"])
        if runs is None:
            no_reference(["tutorial_model_1", "tutorial_model_2"], "both")
            return
        one, two = runs
        st.plotly_chart(
            lesson_charts.error_bars_chart(
                {
                    label.lower(): run.metrics["lstm"]["rmse"]
                    for label, run in zip(GUESSES, (one, two), strict=True)
                },
                one.metrics["persistence"]["rmse"],
            ),
            key="lesson_errors",
        )
        st.caption("Trained in advance with exactly the tutorial's settings; test period.")
    with left:
        ratios = [one.comparison["rmse_ratio"], two.comparison["rmse_ratio"]]
        losing = sum(ratio > 1 for ratio in ratios)
        lead = {2: "Both models lose", 1: "One of the two models loses", 0: "Neither model loses"}
        st.write(f"{lead[losing]} to *tomorrow = today*, the guess that needs no network at all.")
        for label, run in zip(GUESSES, (one, two), strict=True):
            st.write(f"{label}: {ratio_verdict(run.comparison)}")
        st.write(
            "The **Diebold-Mariano test** asks whether a gap between two forecasts' errors is "
            f"larger than luck would make it: a p-value below {SIGNIFICANCE_LEVEL} says it is."
        )


def step_changes() -> None:
    left, right = columns()
    with right:
        run = reference("recommended")
        if run is None:
            no_reference(["recommended"], "changes")
        else:
            train_dates, train_values = training_prices(run)
            st.plotly_chart(
                lesson_charts.overlay_chart(
                    train_dates[-TRAINING_DAYS_SHOWN:], train_values[-TRAINING_DAYS_SHOWN:],
                    run.test_dates,
                    run.test_series("actual"),
                    {"LSTM, daily changes": run.test_series("predicted")},
                    run.test_series("persistence"),
                ),
                key="lesson_changes",
            )  # fmt: skip
            reference_caption(run)
            train_live(["recommended"], "changes", [run])
    with left:
        st.write(
            "What if the network learns **how much the price changes from one day to the next**, "
            "instead of the price itself? A change of 1% looks the same in any year, so the "
            "test year's high prices no longer surprise it."
        )
        st.write(
            "This is the lab's Recommended setting: the tutorial's layers, learning daily "
            "changes, with a slice of the training days kept aside to decide when to stop."
        )
        if run is None:
            return
        ratio = run.comparison["rmse_ratio"]
        pvalue = run.comparison["dm_pvalue"]
        st.write(
            f"Its error is {ratio_words(ratio)} the baseline's (ratio {ratio:.3f}). "
            + ratio_verdict(run.comparison)
        )
        if pvalue is not None and pvalue >= SIGNIFICANCE_LEVEL:
            st.write(
                "In plain words: a **tie**. The network learned to say roughly *tomorrow = today*."
            )


def step_seeds() -> None:
    left, right = columns()
    with right:
        runs = references(list(SEED_RUNS))
        if runs is None:
            no_reference(list(SEED_RUNS), "seeds")
            return
        ratios = {f"seed {run.config.seed}": run.comparison["rmse_ratio"] for run in runs}
        st.plotly_chart(lesson_charts.seeds_chart(ratios), key="lesson_seeds")
        st.caption(
            "Each trained in advance with exactly the Recommended settings and the seed shown."
        )
        train_live(list(SEED_RUNS), "seeds", runs)
    with left:
        values = np.array(list(ratios.values()))
        spread = float(values.max() - values.min())
        gap = float(abs(values.mean() - 1))
        st.write(
            "A network starts from random numbers, set by a **seed**. Same settings, another "
            f"seed: another model. Here are {len(SEED_RUNS)}."
        )
        st.write(
            f"Their error ratios run from {values.min():.3f} to {values.max():.3f}: a spread of "
            f"{spread:.3f}. Their average lies {gap:.3f} from the baseline's 1.0."
        )
        st.write(
            "The seed alone moves the result more than the gap to the baseline: one run "
            "cannot tell whether the network beats it."
            if spread >= gap
            else "The gap to the baseline is larger than what the seed alone moves."
        )


def step_ahead() -> None:
    left, right = columns()
    with right:
        run = reference("recommended")
        if run is None:
            no_reference(["recommended"], "ahead")
        else:
            ahead = run.look_ahead()
            series = session.price_data().series(run.config.ticker)
            st.plotly_chart(fan_chart(series.index, series.to_numpy(), ahead), key="lesson_fan")
            reference_caption(run)
    with left:
        st.write(
            f"Finally, the network looks past the last day of data, {DEFAULT_HORIZON} trading "
            "days ahead, each day's guess feeding the next."
        )
        level = min(LEVELS)
        st.write(
            "The shaded **bands** say how wrong such forecasts were on days kept aside: the "
            f"{level:.0%} band was wide enough to hold the real price on {level:.0%} of them."
        )
        if run is None:
            return
        ahead = run.look_ahead()
        if ahead.coverage is None:
            st.write(ahead.bands_note or "This run has no bands.")
            return
        st.write("Then we checked them on the test days, which they never saw:")
        for level in LEVELS:
            st.write(coverage_sentence(ahead, level))
        st.write(
            "Look how wide they are after two weeks: that width is the honest answer to "
            "*where will the price be?*"
        )


SOURCES = (
    (
        "[Makridakis, Spiliotis & Assimakopoulos (2018), *Statistical and Machine Learning "
        "forecasting methods: Concerns and ways forward*, PLOS ONE]"
        "(https://doi.org/10.1371/journal.pone.0194889) compared machine-learning methods, an "
        "LSTM-style network among them, with simple statistical ones on over a thousand time "
        "series: the simple methods were more accurate, at a fraction of the computing cost."
    ),
    (
        "[Fischer & Krauss (2018), *Deep learning with long short-term memory networks for "
        "financial market predictions*, European Journal of Operational Research]"
        "(https://doi.org/10.1016/j.ejor.2017.11.054) found that LSTMs picking which S&P 500 "
        "stocks would beat the others earned returns before trading costs in the 1990s and 2000s, "
        "an edge that had largely disappeared after 2010."
    ),
    (
        "[The M6 financial forecasting competition (Makridakis et al., 2024, International "
        "Journal of Forecasting)](https://arxiv.org/abs/2310.13357) had teams forecast 100 "
        "stocks and funds live for a year: they found it hard to forecast how the assets would "
        "rank and very hard to beat the market consistently, and their investments were only "
        "loosely tied to their own forecasts."
    ),
)
"""Step 10's three findings, each with its source (our text, so Markdown links are safe)."""


def step_professionals() -> None:
    left, right = columns()
    with left:
        st.write("What the professionals found:")
        for finding in SOURCES:
            st.markdown(f"- {finding}")
        st.write(
            "Our little lab found the same: on its own, a price history says very little about "
            "tomorrow's price, and an honest comparison with *tomorrow = today* shows it."
        )
    with right:
        st.write("**Explore on your own.** The two Train links fill in the lesson's settings:")
        st.page_link(
            "pages/train.py",
            label="Train the Recommended model yourself",
            icon=":material/model_training:",
            query_params=RECOMMENDED.to_query(),
        )
        st.page_link(
            "pages/train.py",
            label="Train the tutorial's first model",
            icon=":material/model_training:",
            query_params=TUTORIAL_MODEL_1.to_query(),
        )
        st.page_link(
            "pages/compare.py", label="Compare runs and seeds", icon=":material/compare_arrows:"
        )
        st.page_link(
            "pages/backtest.py", label="Backtest over many years", icon=":material/timeline:"
        )
        st.page_link("pages/inside.py", label="Look inside the LSTM", icon=":material/biotech:")
        st.page_link("pages/market.py", label="The market data", icon=":material/show_chart:")
