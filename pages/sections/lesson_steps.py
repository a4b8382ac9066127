"""The Lesson page's ten steps: text on the left, one chart or control on the right.

Not a page: pages/lesson.py draws one step at a time. Every figure in a sentence comes from the
reference run beside it, so rerunning bench/make_reference_runs.py keeps the words true.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from lstm_core import charts, data
from lstm_core.charts import lesson as lesson_charts
from lstm_core.charts.forecast import fan_chart
from lstm_core.config import RECOMMENDED, TUTORIAL_MODEL_1
from lstm_core.evaluation.significance import SIGNIFICANCE_LEVEL, ratio_verdict
from lstm_core.forecasting.forecast import LEVELS
from lstm_core.reference import GATES_RUN, SEED_RUNS, ReferenceRun
from pages.sections.lesson_runs import reference, reference_caption, train_live, training_prices
from pages.sections.look_ahead import coverage_sentence
from pages.shared import session

GUESS_KEY = "lesson_guess"
LAG_KEY = "lesson_lag"
LAG_KEPT_KEY = "lesson_lag_kept"
DEFAULT_LAG = 60
GUESSES = ("Batch 200", "Batch 1")
"""The two answers of step 5: the tutorial's model 1 and model 2."""


def _columns() -> tuple:
    return st.columns([2, 3], gap="large")


def _lesson_series() -> tuple[str, object]:
    """The ticker the lesson follows (MSFT when the data has it) and its prices."""
    prices = session.price_data()
    ticker = "MSFT" if "MSFT" in prices.tickers() else session.current_ticker()
    return ticker, prices.series(ticker)


def _ratio_words(ratio: float) -> str:
    """'5.3 times' or '2% larger' or '1% smaller': the error ratio as a person says it."""
    if ratio >= 1.5:
        return f"{ratio:.1f} times as large as"
    if ratio >= 1:
        return f"{(ratio - 1) * 100:.0f}% larger than"
    return f"{(1 - ratio) * 100:.0f}% smaller than"


def _no_reference(names: list[str], key: str) -> None:
    """The right column of a step whose reference run cannot be shown: train it live."""
    train_live(names, key, [])


def step_prices() -> None:
    left, right = _columns()
    with left:
        st.write(
            "These are the daily prices of four large companies over six years. Each line is "
            "one company; the price is corrected for splits and dividends."
        )
        st.write(
            "Our question: **if a network sees the last 60 days of a company's price, can it "
            "tell us tomorrow's price?**"
        )
        st.write(
            "We will ask that question of a kind of network called an LSTM, and always compare "
            "it with the simplest possible guess: *tomorrow's price equals today's*."
        )
    with right:
        frame = session.price_data().frame
        st.plotly_chart(
            charts.facet_chart(frame, data.COMPANY_NAMES, order=data.TICKERS), key="lesson_facets"
        )


def step_window() -> None:
    _, series = _lesson_series()
    left, right = _columns()
    with left:
        st.write(
            "The network never sees the whole history at once. It reads a **window**: a fixed "
            "number of past days, and must guess the day right after."
        )
        st.write(
            "The tutorial uses 60 days. Move the slider to see a shorter or longer window. "
            "Training slides this window over the years and shows the network thousands of "
            "such examples, each with the real answer."
        )
        # A widget's value is forgotten on runs that do not draw it: keep it under a key of
        # its own, so Back to this step finds the window as the teacher left it.
        st.session_state[LAG_KEY] = st.session_state.get(LAG_KEPT_KEY, DEFAULT_LAG)
        lag = st.slider(
            "Days in the window",
            5,
            250,
            step=5,
            key=LAG_KEY,
            on_change=lambda: st.session_state.update({LAG_KEPT_KEY: st.session_state[LAG_KEY]}),
        )
    with right:
        st.plotly_chart(lesson_charts.window_chart(series, lag), key="lesson_window")


def step_gates() -> None:
    left, right = _columns()
    run = None
    with right:
        run = reference(GATES_RUN)
        if run is None or not run.gates:
            _no_reference([GATES_RUN], "gates")
        else:
            gates = run.record["gates"]
            first = run.gates[0]
            st.plotly_chart(
                lesson_charts.gates_chart(
                    gates["window_dates"],
                    gates["window_prices"],
                    {"forget": first.forget, "input_gate": first.input_gate,
                     "output_gate": first.output_gate},
                ),
                key="lesson_gates",
            )  # fmt: skip
            reference_caption(run)
    with left:
        st.write(
            "An LSTM reads the window one day at a time and keeps a **memory**. Three valves, "
            "called gates, decide what happens to it each day:"
        )
        st.markdown(
            "- **forget**: how much of yesterday's memory to keep,\n"
            "- **write**: how much of today's price to store,\n"
            "- **say**: how much of the memory to pass on to what comes next."
        )
        st.write(
            "Each gate is a number between 0 (closed) and 1 (open), for every memory cell and "
            "every day. The picture shows them for 16 of the first layer's cells on a real "
            "window, in the tutorial's trained model."
        )
        if run is not None and run.gates:
            forget = float(np.mean(run.gates[0].forget))
            st.write(
                f"On this window the forget gates average {forget:.2f}: "
                + (
                    "the memory mostly carries over from day to day."
                    if forget >= 0.5
                    else "the memory is mostly renewed from day to day."
                )
            )


TRAINING_DAYS_SHOWN = 250
"""Training days drawn before the test period: enough to see the climb, the test year legible."""


def _tutorial_overlay(run: ReferenceRun, key: str, others: dict[str, ReferenceRun]) -> None:
    train_dates, train_values = training_prices(run)
    train_dates, train_values = (
        train_dates[-TRAINING_DAYS_SHOWN:],
        train_values[-TRAINING_DAYS_SHOWN:],
    )
    predictions = {label: other.test_series("predicted") for label, other in others.items()}
    st.plotly_chart(
        lesson_charts.overlay_chart(
            train_dates,
            train_values,
            run.test_dates,
            run.test_series("actual"),
            predictions,
            run.test_series("persistence"),
            (run.training["lowest"], run.training["highest"]),
        ),
        key=key,
    )


def step_model_one() -> None:
    left, right = _columns()
    with right:
        run = reference("tutorial_model_1")
        if run is None:
            _no_reference(["tutorial_model_1"], "model_one")
        else:
            _tutorial_overlay(run, "lesson_model_one", {"LSTM, batch 200": run})
            reference_caption(run)
            train_live(["tutorial_model_1"], "model_one", [run])
    with left:
        st.write(
            "Here is the tutorial's first model. It saw the first 80% of the days and learned "
            "in groups of 200 windows (batch 200), going over them 10 times. Now it predicts "
            "each day of the last 20%, which it never saw."
        )
        if run is None:
            return
        ratio = run.comparison["rmse_ratio"]
        actual, predicted = run.test_series("actual"), run.test_series("predicted")
        above = float(np.mean(actual > run.training["highest"]))
        st.write(
            f"Its typical error is **{_ratio_words(ratio)}** that of *tomorrow = today* "
            f"(error ratio {ratio:.2f})."
        )
        st.write(
            f"Why so flat? It learned prices between \\${run.training['lowest']:,.0f} and "
            f"\\${run.training['highest']:,.0f} (the grey band). On {above:.0%} of the test days "
            f"the real price was above every training price, yet the model's guesses stay "
            f"between \\${predicted.min():,.0f} and \\${predicted.max():,.0f}: it rarely says "
            "a price it has never seen."
        )


def step_guess() -> None:
    left, right = _columns()
    guess = st.session_state.get(GUESS_KEY)
    with left:
        st.write(
            "The tutorial then trains a second model with the same layers, but learning from "
            "**one window at a time** (batch 1) instead of 200. It updates itself 200 times "
            "as often, and takes far longer."
        )
        st.write("**Your guess: which one predicts the test days better?**")
        first, second = st.columns(2)
        for column, answer in zip((first, second), GUESSES, strict=True):
            if column.button(answer, key=f"lesson_guess_{answer}", use_container_width=True):
                st.session_state[GUESS_KEY] = guess = answer
        if guess is None:
            st.caption("Guess first; the answer appears after. Next works without a guess.")
            return
    one, two = reference("tutorial_model_1"), reference("tutorial_model_2")
    with left:
        if one is not None and two is not None:
            error_one, error_two = one.metrics["lstm"]["rmse"], two.metrics["lstm"]["rmse"]
            better = GUESSES[1] if error_two < error_one else GUESSES[0]
            verdict = "Right" if guess == better else "Not this time"
            st.write(
                f"{verdict}: **{better.lower()}** does better. Batch 200's typical error is "
                f"\\${error_one:,.2f}, batch 1's \\${error_two:,.2f}. Batch 1 took "
                f"{two.seconds:,.0f} s to train, batch 200 {one.seconds:,.0f} s."
            )
    with right:
        if one is None or two is None:
            _no_reference(["tutorial_model_2"], "guess")
            return
        _tutorial_overlay(two, "lesson_guess_chart", {"batch 200": one, "batch 1": two})
        reference_caption(two)
        train_live(["tutorial_model_2"], "model_two", [two])


def step_both_lose() -> None:
    left, right = _columns()
    one, two = reference("tutorial_model_1"), reference("tutorial_model_2")
    with right:
        if one is None or two is None:
            _no_reference(["tutorial_model_1", "tutorial_model_2"], "both")
            return
        st.plotly_chart(
            lesson_charts.error_bars_chart(
                {"batch 200": one.metrics["lstm"]["rmse"], "batch 1": two.metrics["lstm"]["rmse"]},
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
        for label, run in (("Batch 200", one), ("Batch 1", two)):
            st.write(f"{label}: {ratio_verdict(run.comparison)}")
        st.write(
            "The **Diebold-Mariano test** asks whether a gap between two forecasts' errors is "
            f"larger than luck would make it: a p-value below {SIGNIFICANCE_LEVEL} says it is."
        )


def step_changes() -> None:
    left, right = _columns()
    with right:
        run = reference("recommended")
        if run is None:
            _no_reference(["recommended"], "changes")
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
            f"Its error is {_ratio_words(ratio)} the baseline's (ratio {ratio:.3f}). "
            + ratio_verdict(run.comparison)
        )
        if pvalue is not None and pvalue >= SIGNIFICANCE_LEVEL:
            st.write(
                "In plain words: a **tie**. The network learned to say roughly *tomorrow = today*."
            )


def step_seeds() -> None:
    left, right = _columns()
    runs = [reference(name) for name in SEED_RUNS]
    with right:
        if any(run is None for run in runs):
            _no_reference(list(SEED_RUNS), "seeds")
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
            "seed: another model. Here are three."
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
    left, right = _columns()
    with right:
        run = reference("recommended")
        if run is None:
            _no_reference(["recommended"], "ahead")
        else:
            ahead = run.look_ahead()
            series = session.price_data().series(run.config.ticker)
            st.plotly_chart(fan_chart(series.index, series.to_numpy(), ahead), key="lesson_fan")
            reference_caption(run)
    with left:
        st.write(
            "Finally, the network looks past the last day of data, ten trading days ahead, each "
            "day's guess feeding the next."
        )
        st.write(
            "The shaded **bands** say how wrong such forecasts were on days kept aside: the 80% "
            "band was wide enough to hold the real price on 80% of them."
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
        "stocks would beat the others earned returns in the 1990s and 2000s, an edge that had "
        "largely disappeared after 2010."
    ),
    (
        "[The M6 financial forecasting competition (Makridakis et al., 2022-2023)]"
        "(https://m6competition.com/) asked teams to forecast a year of returns of 100 stocks "
        "and funds: few forecast better than a simple benchmark, and good forecasts did not "
        "reliably make good investments."
    ),
)
"""Step 10's three findings, each with its source (our text, so Markdown links are safe)."""


def step_professionals() -> None:
    left, right = _columns()
    with left:
        st.write("What the professionals found:")
        for finding in SOURCES:
            st.markdown(f"- {finding}")
        st.write(
            "Our little lab found the same: on its own, a price history says very little about "
            "tomorrow's price, and an honest comparison with *tomorrow = today* shows it."
        )
    with right:
        st.write("**Explore on your own**, with the lesson's settings filled in:")
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


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("What we try to predict", step_prices),
    ("A window of past days", step_window),
    ("What an LSTM is", step_gates),
    ("The tutorial's first model", step_model_one),
    ("Guess first: batch 200 or batch 1?", step_guess),
    ("Both lose to tomorrow = today", step_both_lose),
    ("Learning daily changes instead", step_changes),
    ("Seeds: luck in the starting point", step_seeds),
    ("Looking ahead, with honest bands", step_ahead),
    ("What the professionals found", step_professionals),
)
"""Each step's title and the function that draws it, in the lesson's order."""
