"""Inside the LSTM: the gate equations, live on the model this session trained."""

from typing import Any

import numpy as np
import streamlit as st

from lstm_core import charts
from lstm_core.config import QUICK_DEMO
from lstm_core.execution import cluster
from pages.sections.inside_link import LINKED_DAY_KEY, chosen_run, keep_address
from pages.shared import jobs, session

session.ensure_navigation()

EXPLANATIONS = [
    (
        "Forget gate",
        r"F_t = \sigma(X_t W_{xf} + H_{t-1} W_{hf} + b_f)",
        (
            "Decides, for each memory cell, how much of yesterday's memory to keep: 1 keeps all of "
            "it, 0 wipes it. This is what lets an LSTM remember further back than a plain RNN, "
            "whose memory fades a little at every step."
        ),
    ),
    (
        "Input gate",
        r"I_t = \sigma(X_t W_{xi} + H_{t-1} W_{hi} + b_i)",
        "Decides how much of today's new information is written into memory.",
    ),
    (
        "Candidate memory",
        r"\tilde{C}_t = \tanh(X_t W_{xc} + H_{t-1} W_{hc} + b_c)",
        (
            "The new information itself: what today's price, seen in the light of what came "
            "before, suggests remembering. It can be positive or negative."
        ),
    ),
    (
        "Cell state update",
        r"C_t = F_t \odot C_{t-1} + I_t \odot \tilde{C}_t",
        (
            "The memory after today: the part of the old memory that was kept plus the part of the "
            "new information that was let in. The multiplication is unit by unit."
        ),
    ),
    (
        "Output gate and hidden state",
        r"O_t = \sigma(X_t W_{xo} + H_{t-1} W_{ho} + b_o), \quad H_t = O_t \odot \tanh(C_t)",
        (
            "Decides how much of the memory to show as the layer's output today. The hidden state "
            "goes to the next day and, on the last day, to the layers that make the prediction."
        ),
    ),
]


def explain() -> None:
    """The equations, each with a plain-language paragraph."""
    with st.expander(
        "The LSTM's equations, in plain words", expanded=session.current_result() is None
    ):
        st.write(
            "Each day of the window, an LSTM layer reads the day's input X_t and its own "
            "output from the day before, H_(t-1). Three gates, numbers between 0 and 1, decide "
            "what to forget, what to write and what to show. Sigma is the sigmoid function, which "
            "squeezes any number into 0..1."
        )
        for title, equation, text in EXPLANATIONS:
            st.markdown(f"**{title}**")
            st.latex(equation)
            st.write(text)


def offer_quick_demo() -> None:
    """With no trained model: say so, and offer to train the quick demo here."""
    st.info(
        "There is no trained model in this session yet. Train one on the Train & Predict page, "
        f"or train the quick demo here (its result takes {session.QUICK_DEMO_SECONDS}) to look "
        "inside it."
    )
    active = session.job()
    if active is not None and not active.finished:
        jobs.live_training("inside")
        return
    if st.button("Train the quick demo", type="primary", key="inside_quick_demo"):
        config = QUICK_DEMO.with_changes(ticker=session.current_ticker())
        jobs.start_job(config, session.price_data().series(config.ticker))
        st.rerun()


def simple_rnn_saliency(result: Any, window: np.ndarray) -> np.ndarray | None:
    """The saliency of a SimpleRNN of the same size trained on the same data, once trained."""
    cache = st.session_state.setdefault("simple_rnn", {})
    key = id(result)
    if key not in cache:
        return None
    from lstm_core.model.internals import input_saliency

    return input_saliency(cache[key], window)


def train_simple_rnn(result: Any) -> None:
    """Train the comparison SimpleRNN (same units, same data, same seed) in this script run.

    With a cluster it trains on a worker and comes back as a NumPy twin: no TensorFlow here.
    """
    config = result.config.with_changes(epochs=min(result.config.epochs, 5))
    if config.batch_size < 16:
        # Batch sizes this small would make a page wait minutes for a side-by-side picture.
        config = config.with_changes(batch_size=32)
    runner = jobs.training_runner()
    with st.spinner(f"Training a SimpleRNN ({config.label()})…"):
        if runner is not None:
            try:
                model = cluster.comparison_rnn(runner.client, config, result.prepared)
            except cluster.ClusterError as error:
                st.warning(f"{error} The SimpleRNN was not trained; try again.")
                return
        else:
            from lstm_core.model.internals import build_simple_rnn_model
            from lstm_core.model.training import train_model

            outcome = train_model(config, result.prepared, model_builder=build_simple_rnn_model)
            model = outcome.model
    st.session_state.setdefault("simple_rnn", {})[id(result)] = model


def show_inside(result: Any) -> None:
    """Gates, states and saliency of the trained model on one test window."""
    from lstm_core.model.internals import (
        input_saliency,
        memory_reach,
        reach_sentence,
        trace_window,
    )

    prepared = result.prepared
    config = result.config
    st.subheader(f"The model: {result.label()}")
    dates = [date.strftime("%Y-%m-%d") for date in result.test_dates]
    if st.session_state.get("inside_day") not in dates:
        if st.session_state.pop(LINKED_DAY_KEY, None) is not None:
            st.warning("This link's day is not a test day of this run; showing the middle one.")
        st.session_state["inside_day"] = dates[len(dates) // 2]
    st.session_state.pop(LINKED_DAY_KEY, None)
    chosen = st.select_slider(
        "Test day to explain",
        options=dates,
        key="inside_day",
        help="The model predicts this day's price from the lag days before it.",
    )
    keep_address(result, chosen)
    index = dates.index(chosen)
    window = prepared.x_test[index, :, 0]
    trace = trace_window(result.model, window)
    start = prepared.test_start + index
    last_price = prepared.prices[start + config.lag - 1]
    predicted = float(prepared.to_dollars(np.array([trace.prediction]), np.array([last_price]))[0])
    day_labels = [date.strftime("%Y-%m-%d") for date in prepared.dates[start : start + config.lag]]
    actual = float(result.actual[index])
    st.plotly_chart(
        charts.window_chart(
            day_labels, prepared.prices[start : start + config.lag], chosen, actual, predicted
        ),
        key="inside_window",
    )
    st.write(
        f"From these {config.lag} days the model predicts **${predicted:,.2f}** for {chosen}; "
        f"the real price was **${actual:,.2f}** and yesterday's was "
        f"${float(result.persistence[index]):,.2f}. (Computed here from the equations above in "
        f"NumPy, with the trained weights: the same number Keras gives, "
        f"${float(result.predicted[index]):,.2f}.)"
    )
    for layer_trace in trace.layers:
        st.plotly_chart(
            charts.gate_heatmaps(layer_trace, day_labels), key=f"gates_{layer_trace.name}"
        )
    st.caption(
        "Gates run from 0 (closed, dark) to 1 (open, yellow). Hover a cell for its value. "
        "Cell and hidden states are red for negative and blue for positive values, each on "
        "its own scale (see the colour bar beside it): the hidden state stays within +-1."
    )

    st.subheader("Which past days mattered")
    saliency = input_saliency(result.model, window)
    reach = memory_reach(saliency, 0.9)
    saliencies = {"LSTM": saliency}
    rnn = simple_rnn_saliency(result, window)
    if rnn is not None:
        saliencies["SimpleRNN"] = rnn
    st.plotly_chart(charts.saliency_chart(saliencies), key="saliency")
    rnn_reach = None if rnn is None else memory_reach(rnn, 0.9)
    st.write(reach_sentence(reach, config.lag, rnn_reach))
    if rnn is None and st.button(
        "Compare with a SimpleRNN of the same size",
        key="train_rnn",
        help="Trains a plain RNN on the same data (at most 5 epochs) to see how far back it looks.",
    ):
        train_simple_rnn(result)
        st.rerun()


NO_GATES = {
    "gru": (
        "The model you trained is a GRU. It has gates too, two of them (an update gate and a "
        "reset gate, with no separate cell state), but this page draws only the LSTM's three."
    ),
    "simple_rnn": (
        "The model you trained is a simple RNN. It has no gates: each day its hidden state is "
        "recomputed from the day's input and the day before's state, so there is nothing here "
        "to draw, and its memory fades faster than an LSTM's."
    ),
    "linear": (
        "The model you trained is a ridge regression. It has no gates and no memory: its "
        "prediction is one weight times each day of the window, plus a constant."
    ),
}
"""What this page says about model kinds without the LSTM's gates."""


def explain_no_gates(model: str) -> None:
    """Gates exist only in the LSTM (and the GRU); say so for the model this session holds."""
    st.info(NO_GATES[model] + " Train an LSTM on the Train & Predict page to watch its gates here.")


st.title("Inside the LSTM")
st.write(
    "An LSTM reads a window of past prices one day at a time and keeps a memory that its gates "
    "control. Here you can watch those gates work on the model you trained."
)
jobs.collect_finished_job()
explain()
current = chosen_run()
if current is None or current.model is None or current.prepared is None:
    offer_quick_demo()
elif current.config.model in NO_GATES:
    explain_no_gates(current.config.model)
elif current.config.extra_inputs:
    st.info(
        "This page draws the gates of a model that reads one price a day, and the run you "
        f"trained also sees {', '.join(current.config.extra_inputs)}. Train one with the close "
        "alone on the Train & Predict page to watch its gates here."
    )
else:
    show_inside(current)
