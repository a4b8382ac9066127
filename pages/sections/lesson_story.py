"""The Lesson's steps 1 to 5: the prices, a window, the gates, the tutorial's two models.

Not a page: pages/lesson.py draws one step at a time (pages/sections/lesson_steps.py lists them).
Every figure in a sentence comes from the reference run beside it, so rerunning
bench/make_reference_runs.py keeps the words true.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_core import charts, data
from lstm_core.charts import lesson as lesson_charts
from lstm_core.config import TUTORIAL_MODEL_1, TUTORIAL_MODEL_2
from lstm_core.experiments.reference import GATES_RUN, ReferenceRun
from pages.sections.lesson_runs import (
    reference,
    reference_caption,
    references,
    train_live,
    training_prices,
)
from pages.shared import session

GUESS_KEY = "lesson_guess"
LAG_KEY = "lesson_lag"
LAG_KEPT_KEY = "lesson_lag_kept"
DEFAULT_LAG = TUTORIAL_MODEL_1.lag
GUESSES = (f"Batch {TUTORIAL_MODEL_1.batch_size}", f"Batch {TUTORIAL_MODEL_2.batch_size}")
"""The two answers of step 5: the tutorial's model 1 and model 2."""


def columns() -> tuple:
    return st.columns([2, 3], gap="large")


def _lesson_series() -> tuple[str, object]:
    """The ticker the lesson follows (MSFT when the data has it) and its prices."""
    prices = session.price_data()
    ticker = "MSFT" if "MSFT" in prices.tickers() else session.current_ticker()
    return ticker, prices.series(ticker)


def ratio_words(ratio: float) -> str:
    """'5.3 times' or '2% larger' or '1% smaller': the error ratio as a person says it."""
    if ratio >= 1.5:
        return f"{ratio:.1f} times as large as"
    if ratio >= 1:
        return f"{(ratio - 1) * 100:.0f}% larger than"
    return f"{(1 - ratio) * 100:.0f}% smaller than"


def no_reference(names: list[str], key: str) -> None:
    """The right column of a step whose reference run cannot be shown: train it live."""
    train_live(names, key, [])


def step_prices() -> None:
    left, right = columns()
    with left:
        frame = session.price_data().frame
        companies = frame["Ticker"].nunique()
        st.write(
            f"These are the daily prices of {companies} "
            f"{'company' if companies == 1 else 'companies'} from "
            f"{frame['Date'].min():%B %Y} to {frame['Date'].max():%B %Y}. The price is "
            "corrected for splits and dividends."
        )
        st.write(
            f"Our question: **if a network sees the last {DEFAULT_LAG} days of a company's "
            "price, can it tell us tomorrow's price?**"
        )
        st.write(
            "We will ask that question of a kind of network called an LSTM, and always compare "
            "it with the simplest possible guess: *tomorrow's price equals today's*."
        )
    with right:
        st.plotly_chart(
            charts.facet_chart(frame, data.COMPANY_NAMES, order=data.TICKERS), key="lesson_facets"
        )


def step_window() -> None:
    _, series = _lesson_series()
    left, right = columns()
    with left:
        st.write(
            "The network never sees the whole history at once. It reads a **window**: a fixed "
            "number of past days, and must guess the day right after."
        )
        st.write(
            f"The tutorial uses {DEFAULT_LAG} days. Move the slider to see a shorter or longer "
            "window. Training slides this window over the years and shows the network thousands of "
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
    left, right = columns()
    run = None
    with right:
        run = reference(GATES_RUN)
        if run is None or not run.gates:
            no_reference([GATES_RUN], "gates")
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
            f"every day. The picture shows them for {lesson_charts.SHOWN_UNITS} of the first "
            "layer's cells on a real "
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
    left, right = columns()
    with right:
        run = reference("tutorial_model_1")
        if run is None:
            no_reference(["tutorial_model_1"], "model_one")
        else:
            _tutorial_overlay(run, "lesson_model_one", {f"LSTM, {GUESSES[0].lower()}": run})
            reference_caption(run)
            train_live(["tutorial_model_1"], "model_one", [run])
    with left:
        model = TUTORIAL_MODEL_1
        st.write(
            f"Here is the tutorial's first model. It saw the first {model.train_fraction:.0%} "
            f"of the days and learned in groups of {model.batch_size} windows (batch "
            f"{model.batch_size}), going over them {model.epochs} times. Now it predicts each "
            f"day of the last {1 - model.train_fraction:.0%}, which it never saw."
        )
        if run is None:
            return
        ratio = run.comparison["rmse_ratio"]
        actual, predicted = run.test_series("actual"), run.test_series("predicted")
        above = float(np.mean(actual > run.training["highest"]))
        st.write(
            f"Its typical error is **{ratio_words(ratio)}** that of *tomorrow = today* "
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
    left, right = columns()
    guess = st.session_state.get(GUESS_KEY)
    with left:
        small, large = TUTORIAL_MODEL_2.batch_size, TUTORIAL_MODEL_1.batch_size
        st.write(
            "The tutorial then trains a second model with the same layers, but learning from "
            f"**{'one window' if small == 1 else f'{small} windows'} at a time** (batch {small}) "
            "instead "
            f"of {large}. It updates itself {large // small} times as often, and takes far "
            "longer."
        )
        st.write("**Your guess: which one predicts the test days better?**")
        first, second = st.columns(2)
        for column, answer in zip((first, second), GUESSES, strict=True):
            if column.button(answer, key=f"lesson_guess_{answer}", use_container_width=True):
                st.session_state[GUESS_KEY] = guess = answer
        if guess is None:
            st.caption("Guess first; the answer appears after. Next works without a guess.")
            return
    with right:
        runs = references(["tutorial_model_1", "tutorial_model_2"])
        if runs is None:
            no_reference(["tutorial_model_2"], "guess")
            return
        one, two = runs
        labels = [guess.lower() for guess in GUESSES]
        _tutorial_overlay(two, "lesson_guess_chart", {labels[0]: one, labels[1]: two})
        reference_caption(two)
        train_live(["tutorial_model_2"], "model_two", [two])
    with left:
        error_one, error_two = one.metrics["lstm"]["rmse"], two.metrics["lstm"]["rmse"]
        better = GUESSES[1] if error_two < error_one else GUESSES[0]
        verdict = "Right" if guess == better else "Not this time"
        st.write(
            f"{verdict}: **{better.lower()}** does better. {GUESSES[0]}'s typical error "
            f"is \\${error_one:,.2f}, {GUESSES[1].lower()}'s \\${error_two:,.2f}. "
            f"{GUESSES[1]} took {two.seconds:,.0f} s to train, {GUESSES[0].lower()} "
            f"{one.seconds:,.0f} s."
        )
