"""The NumPy LSTM agrees with Keras, by hand and by finite differences; saliency and reach."""

from __future__ import annotations

import math
import re
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from lstm_core.config import TrainConfig
from lstm_core.model.internals import (
    LayerTrace,
    build_simple_rnn_model,
    input_saliency,
    lstm_layer_forward,
    memory_reach,
    trace_window,
)
from lstm_core.model.network import build_model

PRICES_CSV = Path(__file__).resolve().parents[1] / "data" / "prices_2015-04-01_2021-03-31.csv"
LAG = 12
TOLERANCE = 1e-5
TINY = TrainConfig(lag=LAG, units=(8, 4), dense_units=4, batch_size=32, epochs=1, seed=3)


def synthetic_windows(count: int, lag: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine, scaled near N(0, 1), with the next value as target."""
    generator = np.random.default_rng(seed)
    days = np.arange(count + lag)
    series = np.sin(days / 9) + 0.1 * generator.normal(size=days.size)
    windows = np.stack([series[start : start + lag] for start in range(count)])
    targets = series[lag : lag + count]
    return windows[..., np.newaxis].astype(np.float32), targets.astype(np.float32)


def msft_window(lag: int) -> np.ndarray:
    """The last `lag` MSFT Adj Close prices of the training part, z-scored on that part."""
    frame = pd.read_csv(PRICES_CSV)
    prices = frame.loc[frame["Ticker"] == "MSFT", "Adj Close"].to_numpy(dtype=np.float64)
    train = prices[: int(len(prices) * 0.8)]
    scaled = (train - train.mean()) / train.std()
    return scaled[-lag:]


@pytest.fixture(scope="module")
def untrained_model() -> keras.Model:
    keras.utils.set_random_seed(TINY.seed)
    return build_model(TINY)


@pytest.fixture(scope="module")
def trained_model() -> keras.Model:
    keras.utils.set_random_seed(TINY.seed)
    model = build_model(TINY)
    windows, targets = synthetic_windows(320, LAG, seed=11)
    model.fit(windows, targets, batch_size=32, epochs=1, verbose=0, shuffle=False)
    return model


@pytest.fixture(scope="module")
def test_windows() -> list[np.ndarray]:
    generator = np.random.default_rng(5)
    random_windows = [generator.normal(size=LAG) for _ in range(3)]
    return [*random_windows, msft_window(LAG)]


def keras_outputs(model: keras.Model, window: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keras' lstm_1 full sequence, lstm_2 last hidden state and prediction for one window."""
    probe = keras.Model(
        model.input,
        [model.get_layer("lstm_1").output, model.get_layer("lstm_2").output, model.output],
    )
    batch = window.reshape(1, -1, 1).astype(np.float32)
    return tuple(np.asarray(value, dtype=np.float64)[0] for value in probe(batch, training=False))


@pytest.mark.parametrize("model_name", ["untrained_model", "trained_model"])
def test_numpy_forward_matches_keras(
    model_name: str, test_windows: list[np.ndarray], request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(model_name)
    for window in test_windows:
        first_sequence, second_last, prediction = keras_outputs(model, window)
        trace = trace_window(model, window)
        assert [layer.name for layer in trace.layers] == ["lstm_1", "lstm_2"]
        assert trace.layers[0].hidden.shape == (LAG, 8)
        assert trace.layers[1].hidden.shape == (LAG, 4)
        np.testing.assert_allclose(trace.layers[0].hidden, first_sequence, rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(trace.layers[1].hidden[-1], second_last, rtol=0, atol=TOLERANCE)
        assert trace.prediction == pytest.approx(float(prediction[0]), abs=TOLERANCE)
        # A (lag, 1) window is the same window.
        assert trace_window(model, window[:, np.newaxis]).prediction == trace.prediction


def test_training_moved_the_weights(
    untrained_model: keras.Model, trained_model: keras.Model
) -> None:
    # Otherwise the "after training" comparison would only re-test initial weights.
    before = untrained_model.get_layer("lstm_1").get_weights()[1]
    after = trained_model.get_layer("lstm_1").get_weights()[1]
    assert np.max(np.abs(before - after)) > 1e-3


def test_gates_are_in_range_and_states_follow_the_equations(
    trained_model: keras.Model, test_windows: list[np.ndarray]
) -> None:
    for layer in trace_window(trained_model, test_windows[-1]).layers:
        for gate in (layer.forget, layer.input_gate, layer.output_gate):
            assert np.all((gate > 0) & (gate < 1))
        assert np.all(np.abs(layer.candidate) <= 1)
        previous_cell = np.vstack([np.zeros((1, layer.cell.shape[1])), layer.cell[:-1]])
        np.testing.assert_allclose(
            layer.cell, layer.forget * previous_cell + layer.input_gate * layer.candidate
        )
        np.testing.assert_allclose(layer.hidden, layer.output_gate * np.tanh(layer.cell))


def test_hard_sigmoid_relu_dense_and_no_bias_match_keras() -> None:
    keras.utils.set_random_seed(4)
    inputs = keras.Input(shape=(10, 1), name="window")
    hidden = keras.layers.LSTM(
        6, recurrent_activation="hard_sigmoid", return_sequences=True, name="lstm_1"
    )(inputs)
    hidden = keras.layers.LSTM(3, use_bias=False, name="lstm_2")(hidden)
    hidden = keras.layers.Dense(4, activation="relu", name="dense")(hidden)
    hidden = keras.layers.Dense(4, activation="tanh", name="dense_2")(hidden)
    outputs = keras.layers.Dense(1, name="output")(hidden)
    model = keras.Model(inputs, outputs)
    # Larger weights push pre-activations past +-3 so both flat parts of hard_sigmoid are used.
    model.get_layer("lstm_1").set_weights(
        [3 * weight for weight in model.get_layer("lstm_1").get_weights()]
    )
    window = np.random.default_rng(2).normal(scale=2.0, size=10)
    expected = float(np.asarray(model(window.reshape(1, 10, 1).astype(np.float32)))[0, 0])
    trace = trace_window(model, window)
    assert trace.prediction == pytest.approx(expected, abs=TOLERANCE)
    gates = trace.layers[0].forget
    assert np.any(gates == 0.0) or np.any(gates == 1.0)


def test_lstm_layer_forward_by_hand() -> None:
    # One unit, one input feature: gate order i, f, c, o as Keras stores them.
    w_i, w_f, w_c, w_o = 0.5, -0.3, 0.8, 0.2
    u_i, u_f, u_c, u_o = 0.1, 0.4, -0.6, 0.7
    b_i, b_f, b_c, b_o = 0.0, 1.0, -0.1, 0.2
    kernel = np.array([[w_i, w_f, w_c, w_o]])
    recurrent_kernel = np.array([[u_i, u_f, u_c, u_o]])
    bias = np.array([b_i, b_f, b_c, b_o])
    inputs = np.array([[1.5], [-0.5]])

    def sigma(value: float) -> float:
        return 1 / (1 + math.exp(-value))

    h, c = 0.0, 0.0
    expected: dict[str, list[float]] = {key: [] for key in ("f", "i", "c~", "o", "c", "h")}
    for x in (1.5, -0.5):
        f = sigma(x * w_f + h * u_f + b_f)
        i = sigma(x * w_i + h * u_i + b_i)
        c_tilde = math.tanh(x * w_c + h * u_c + b_c)
        c = f * c + i * c_tilde
        o = sigma(x * w_o + h * u_o + b_o)
        h = o * math.tanh(c)
        for key, value in zip(
            ("f", "i", "c~", "o", "c", "h"), (f, i, c_tilde, o, c, h), strict=True
        ):
            expected[key].append(value)

    trace = lstm_layer_forward(inputs, kernel, recurrent_kernel, bias, name="hand")
    assert isinstance(trace, LayerTrace)
    assert trace.name == "hand"
    for key, actual in (
        ("f", trace.forget),
        ("i", trace.input_gate),
        ("c~", trace.candidate),
        ("o", trace.output_gate),
        ("c", trace.cell),
        ("h", trace.hidden),
    ):
        assert actual.shape == (2, 1)
        np.testing.assert_allclose(actual[:, 0], expected[key], rtol=1e-12, err_msg=key)
    # Written out for step 1 (h0 = c0 = 0): c1 = sigma(0.75) * tanh(1.1), h1 = sigma(0.5) tanh(c1).
    c_1 = sigma(0.75) * math.tanh(1.1)
    assert trace.cell[0, 0] == pytest.approx(c_1, rel=1e-12)
    assert trace.hidden[0, 0] == pytest.approx(sigma(0.5) * math.tanh(c_1), rel=1e-12)


def test_lstm_layer_forward_hard_sigmoid_by_hand() -> None:
    kernel = np.array([[6.0, 0.6, 1.0, -30.0]])
    trace = lstm_layer_forward(
        np.array([[1.0]]),
        kernel,
        np.zeros((1, 4)),
        np.zeros(4),
        recurrent_activation="hard_sigmoid",
    )
    # x / 6 + 0.5, clipped to [0, 1]: 1.5 -> 1, 0.6 -> 0.6, -4.5 -> 0.
    assert trace.input_gate[0, 0] == 1.0
    assert trace.forget[0, 0] == pytest.approx(0.6)
    assert trace.output_gate[0, 0] == 0.0
    assert trace.cell[0, 0] == pytest.approx(math.tanh(1.0))
    assert trace.hidden[0, 0] == 0.0


def test_input_saliency_matches_finite_differences(trained_model: keras.Model) -> None:
    window = msft_window(LAG)
    saliency = input_saliency(trained_model, window)
    assert saliency.shape == (LAG,)
    assert saliency.dtype == np.float64
    epsilon = 1e-3
    numeric = np.empty(LAG)
    for day in range(LAG):
        up, down = window.copy(), window.copy()
        up[day] += epsilon
        down[day] -= epsilon
        numeric[day] = (
            trace_window(trained_model, up).prediction
            - trace_window(trained_model, down).prediction
        ) / (2 * epsilon)
    scale = np.max(np.abs(numeric))
    assert scale > 0
    np.testing.assert_allclose(saliency, numeric, rtol=1e-3, atol=1e-3 * scale)


def test_simple_rnn_model_and_its_saliency() -> None:
    keras.utils.set_random_seed(1)
    config = TrainConfig(lag=15, units=(16, 8), dense_units=4, learning_rate=0.01)
    model = build_simple_rnn_model(config)
    assert [layer.name for layer in model.layers] == [
        "window",
        "rnn_1",
        "rnn_2",
        "dense",
        "output",
    ]
    assert all(type(model.get_layer(name)) is keras.layers.SimpleRNN for name in ("rnn_1", "rnn_2"))
    assert model.get_layer("rnn_1").return_sequences
    assert not model.get_layer("rnn_2").return_sequences
    assert model.output_shape == (None, 1)
    assert model.loss == "mse"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    no_dense = build_simple_rnn_model(config.with_changes(units=(4,), dense_units=0))
    assert [layer.name for layer in no_dense.layers] == ["window", "rnn_1", "output"]

    window = np.random.default_rng(9).normal(size=15)
    saliency = input_saliency(model, window)
    epsilon = 1e-2
    for day in (0, 7, 14):
        up, down = window.copy(), window.copy()
        up[day] += epsilon
        down[day] -= epsilon
        batch = np.stack([up, down])[..., np.newaxis].astype(np.float32)
        high, low = np.asarray(model(batch), dtype=np.float64)[:, 0]
        assert saliency[day] == pytest.approx((high - low) / (2 * epsilon), rel=2e-2, abs=1e-4)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "trace_window cannot follow layer 'rnn_1' of type SimpleRNN: only LSTM and Dense "
            "layers are supported"
        ),
    ):
        trace_window(model, window)


def test_memory_reach_by_hand() -> None:
    # Oldest day first; from the most recent back: 5, 3, 1, 1, 0 of a total of 10.
    saliency = np.array([0.0, 1.0, -1.0, 3.0, -5.0])
    assert memory_reach(saliency, 0.5) == 1
    assert memory_reach(saliency, 0.51) == 2
    assert memory_reach(saliency, 0.8) == 2
    assert memory_reach(saliency, 0.9) == 3
    assert memory_reach(saliency) == 3
    assert memory_reach(saliency, 1.0) == 4
    assert memory_reach(saliency, 0.01) == 1
    assert memory_reach(np.full(10, 0.1), 0.9) == 9
    assert memory_reach(np.zeros(4), 0.9) == 0


@pytest.mark.parametrize("share", [0, -0.1, 1.01, float("nan"), True])
def test_memory_reach_rejects_bad_share(share: float) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"share must be above 0 and at most 1, got {share!r}")
    ):
        memory_reach(np.ones(3), share)


def test_memory_reach_rejects_bad_saliency() -> None:
    with pytest.raises(
        ValueError, match=re.escape("saliency must be a non-empty 1-D array, got shape (0,)")
    ):
        memory_reach(np.array([]))
    with pytest.raises(ValueError, match=re.escape("saliency must be finite numbers")):
        memory_reach(np.array([1.0, np.nan]))


@pytest.mark.parametrize("function", [trace_window, input_saliency])
def test_window_of_wrong_length_is_rejected(function: object, untrained_model: keras.Model) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"window must hold {LAG} values (the model's lag), got 11")
    ):
        function(untrained_model, np.zeros(LAG - 1))  # type: ignore[operator]
    with pytest.raises(
        ValueError, match=re.escape(f"window must hold {LAG} values (the model's lag), got 13")
    ):
        function(untrained_model, np.zeros((LAG + 1, 1)))  # type: ignore[operator]
    with pytest.raises(
        ValueError,
        match=re.escape(f"window must have shape ({LAG},) or ({LAG}, 1), got shape ({LAG}, 2)"),
    ):
        function(untrained_model, np.zeros((LAG, 2)))  # type: ignore[operator]
    window = np.zeros(LAG)
    window[3] = np.nan
    with pytest.raises(
        ValueError, match=re.escape("window must be finite numbers (no NaN or infinity)")
    ):
        function(untrained_model, window)  # type: ignore[operator]


def test_lstm_layer_forward_rejects_bad_shapes_and_activation() -> None:
    kernel, recurrent, bias = np.zeros((1, 8)), np.zeros((2, 8)), np.zeros(8)
    inputs = np.zeros((5, 1))
    with pytest.raises(
        ValueError,
        match=re.escape("inputs must have shape (timesteps, input_dim), got shape (5,)"),
    ):
        lstm_layer_forward(np.zeros(5), kernel, recurrent, bias)
    with pytest.raises(ValueError, match=re.escape("inputs must hold at least one timestep")):
        lstm_layer_forward(np.zeros((0, 1)), kernel, recurrent, bias)
    with pytest.raises(
        ValueError,
        match=re.escape("recurrent_kernel must have shape (units, 4 * units), got shape (2, 6)"),
    ):
        lstm_layer_forward(inputs, kernel, np.zeros((2, 6)), bias)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "kernel must have shape (1, 8) to match the inputs and recurrent_kernel, "
            "got shape (2, 8)"
        ),
    ):
        lstm_layer_forward(inputs, np.zeros((2, 8)), recurrent, bias)
    with pytest.raises(ValueError, match=re.escape("bias must have shape (8,), got shape (4,)")):
        lstm_layer_forward(inputs, kernel, recurrent, np.zeros(4))
    with pytest.raises(
        ValueError,
        match=re.escape("recurrent_activation must be 'sigmoid' or 'hard_sigmoid', got 'relu'"),
    ):
        lstm_layer_forward(inputs, kernel, recurrent, bias, recurrent_activation="relu")


def test_trace_window_rejects_unsupported_layers() -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(10, 1), name="window")
    hidden = keras.layers.LSTM(3, recurrent_activation="relu", name="lstm_1")(inputs)
    outputs = keras.layers.Dense(1, name="output")(hidden)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "layer 'lstm_1' uses recurrent_activation 'relu'; trace_window supports 'sigmoid' "
            "and 'hard_sigmoid'"
        ),
    ):
        trace_window(keras.Model(inputs, outputs), np.zeros(10))

    outputs = keras.layers.Dense(1, name="output_0")(keras.layers.Dense(2, name="dense_0")(inputs))
    with pytest.raises(ValueError, match=re.escape("the model has no LSTM layer to trace")):
        trace_window(keras.Model(inputs, outputs), np.zeros(10))

    hidden = keras.layers.LSTM(3, name="lstm_2")(inputs)
    hidden = keras.layers.Dense(2, activation="elu", name="dense")(hidden)
    outputs = keras.layers.Dense(1, name="output_2")(hidden)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "layer 'dense' uses activation 'elu'; trace_window supports 'linear', 'relu' and 'tanh'"
        ),
    ):
        trace_window(keras.Model(inputs, outputs), np.zeros(10))

    hidden = keras.layers.LSTM(3, name="lstm_3")(inputs)
    hidden = keras.layers.Dropout(0.2, name="drop")(hidden)
    outputs = keras.layers.Dense(1, name="output_3")(hidden)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "trace_window cannot follow layer 'drop' of type Dropout: only LSTM and Dense "
            "layers are supported"
        ),
    ):
        trace_window(keras.Model(inputs, outputs), np.zeros(10))
