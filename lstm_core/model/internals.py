"""The LSTM opened up: the tutorial's gate equations in NumPy, saliency and a SimpleRNN twin.

The tutorial writes one LSTM step with row vectors:

    F_t  = sigma(X_t W_xf + H_{t-1} W_hf + b_f)
    I_t  = sigma(X_t W_xi + H_{t-1} W_hi + b_i)
    C~_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)
    C_t  = F_t * C_{t-1} + I_t * C~_t
    O_t  = sigma(X_t W_xo + H_{t-1} W_ho + b_o)
    H_t  = O_t * tanh(C_t)

Keras stores the four W_x* side by side in one `kernel` (input_dim, 4 * units), the four W_h*
in one `recurrent_kernel` (units, 4 * units) and the biases in one `bias` (4 * units,), in the
gate order i, f, c, o. `trace_window` re-runs a trained model with these equations so a page
can show every gate, and the numbers agree with Keras' own to float32 round-off.

The model may be a Keras model or its NumPy twin (lstm_core.model.twin, read from the `.keras`
file): a page server with a cluster shows the gates and the saliency without TensorFlow.
Importing this module imports no TensorFlow; only `input_saliency` on a Keras model and
`build_simple_rnn_model` do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_core.config import TrainConfig

# One table of activations for both NumPy forward passes (the twin's and the trace's).
from lstm_core.model.twin import (
    DENSE_ACTIVATIONS,
    RECURRENT_ACTIVATIONS,
    LayerWeights,
    NetworkTwin,
)

__all__ = [
    "LayerTrace",
    "WindowTrace",
    "build_simple_rnn_model",
    "input_saliency",
    "lstm_layer_forward",
    "memory_reach",
    "reach_sentence",
    "trace_window",
]


@dataclass(frozen=True)
class LayerTrace:
    """Everything one LSTM layer computed over a window; each array is (timesteps, units)."""

    name: str
    forget: np.ndarray
    input_gate: np.ndarray
    candidate: np.ndarray
    output_gate: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray


@dataclass(frozen=True)
class WindowTrace:
    """The gates of every LSTM layer on one window, and the model's output for it."""

    layers: tuple[LayerTrace, ...]
    prediction: float
    """The model output on the scaled scale (invert the scaler to get a price)."""


def lstm_layer_forward(
    inputs: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    recurrent_activation: str = "sigmoid",
    name: str = "lstm",
) -> LayerTrace:
    """Run one LSTM layer over `inputs` (timesteps, input_dim) from zero states, in float64.

    The weights use Keras' layout (gate order i, f, c, o). Returns every gate and state at
    every timestep.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    recurrent_kernel = np.asarray(recurrent_kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    if inputs.ndim != 2:
        raise ValueError(f"inputs must have shape (timesteps, input_dim), got shape {inputs.shape}")
    if inputs.shape[0] == 0:
        raise ValueError("inputs must hold at least one timestep")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs must be finite numbers (no NaN or infinity)")
    if (
        recurrent_kernel.ndim != 2
        or recurrent_kernel.shape[0] == 0
        or recurrent_kernel.shape[1] != 4 * recurrent_kernel.shape[0]
    ):
        raise ValueError(
            f"recurrent_kernel must have shape (units, 4 * units), got shape "
            f"{recurrent_kernel.shape}"
        )
    units = recurrent_kernel.shape[0]
    input_dim = inputs.shape[1]
    if kernel.shape != (input_dim, 4 * units):
        raise ValueError(
            f"kernel must have shape ({input_dim}, {4 * units}) to match the inputs and "
            f"recurrent_kernel, got shape {kernel.shape}"
        )
    if bias.shape != (4 * units,):
        raise ValueError(f"bias must have shape ({4 * units},), got shape {bias.shape}")
    if recurrent_activation not in RECURRENT_ACTIVATIONS:
        raise ValueError(
            f"recurrent_activation must be 'sigmoid' or 'hard_sigmoid', "
            f"got {recurrent_activation!r}"
        )
    gate_activation = RECURRENT_ACTIVATIONS[recurrent_activation]

    # Keras packs the gates side by side as i, f, c, o; split once so the loop reads like the
    # tutorial's equations.
    w_xi, w_xf, w_xc, w_xo = np.split(kernel, 4, axis=1)
    w_hi, w_hf, w_hc, w_ho = np.split(recurrent_kernel, 4, axis=1)
    b_i, b_f, b_c, b_o = np.split(bias, 4)

    timesteps = inputs.shape[0]
    forget = np.empty((timesteps, units))
    input_gate = np.empty((timesteps, units))
    candidate = np.empty((timesteps, units))
    output_gate = np.empty((timesteps, units))
    cell = np.empty((timesteps, units))
    hidden = np.empty((timesteps, units))
    h_previous = np.zeros(units)
    c_previous = np.zeros(units)
    for step in range(timesteps):
        x_t = inputs[step]
        f_t = gate_activation(x_t @ w_xf + h_previous @ w_hf + b_f)
        i_t = gate_activation(x_t @ w_xi + h_previous @ w_hi + b_i)
        c_tilde = np.tanh(x_t @ w_xc + h_previous @ w_hc + b_c)
        c_t = f_t * c_previous + i_t * c_tilde
        o_t = gate_activation(x_t @ w_xo + h_previous @ w_ho + b_o)
        h_t = o_t * np.tanh(c_t)
        forget[step], input_gate[step], candidate[step] = f_t, i_t, c_tilde
        output_gate[step], cell[step], hidden[step] = o_t, c_t, h_t
        h_previous, c_previous = h_t, c_t
    return LayerTrace(
        name=name,
        forget=forget,
        input_gate=input_gate,
        candidate=candidate,
        output_gate=output_gate,
        cell=cell,
        hidden=hidden,
    )


def _model_lag(model: Any) -> int:
    """The window length the model reads, from its (None, lag, 1) input."""
    shape = model.input_shape if isinstance(model, NetworkTwin) else tuple(model.inputs[0].shape)
    if len(shape) != 3 or shape[1] is None or shape[2] != 1:
        raise ValueError(f"the model must take windows of shape (lag, 1), got input shape {shape}")
    return int(shape[1])


def _check_window(model: Any, window: np.ndarray) -> np.ndarray:
    """`window` as a float64 (lag,) array, or ValueError if it does not fit the model."""
    lag = _model_lag(model)
    values = np.asarray(window, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"window must have shape ({lag},) or ({lag}, 1), got shape {values.shape}")
    if values.shape[0] != lag:
        raise ValueError(f"window must hold {lag} values (the model's lag), got {values.shape[0]}")
    if not np.all(np.isfinite(values)):
        raise ValueError("window must be finite numbers (no NaN or infinity)")
    return values


def _activation_name(layer: LayerWeights, key: str) -> Any:
    """The activation stored under `key` in the layer's config: a name for built-in ones."""
    return layer.config.get(key)


def _layers(model: Any) -> list[LayerWeights]:
    """The model's layers after its input, as class name, name, config and weights."""
    if isinstance(model, NetworkTwin):
        return list(model.layers)
    return [
        LayerWeights(
            type(layer).__name__, layer.name, layer.get_config(), tuple(layer.get_weights())
        )
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]


def _lstm_weights(layer: LayerWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kernel, recurrent_kernel and bias of an LSTM layer; a zero bias if it has none."""
    kernel, recurrent_kernel = layer.weights[0], layer.weights[1]
    bias = layer.weights[2] if layer.config.get("use_bias", True) else np.zeros(kernel.shape[1])
    return kernel, recurrent_kernel, bias


def trace_window(model: Any, window: np.ndarray) -> WindowTrace:
    """Re-run `model` on one scaled window in NumPy, keeping every LSTM gate and state.

    `window` is (lag,) or (lag, 1). The model must be a chain of LSTM layers then Dense
    layers, as `lstm_core.model.network.build_model` makes it (a Keras model or its twin).
    """
    values = _check_window(model, window)
    current: np.ndarray = values[:, np.newaxis]
    traces: list[LayerTrace] = []
    for layer in _layers(model):
        if layer.kind == "LSTM":
            if layer.config.get("go_backwards"):
                raise ValueError(
                    f"layer {layer.name!r} reads its window backwards, which trace_window "
                    "does not support"
                )
            activation = _activation_name(layer, "activation")
            if activation != "tanh":
                raise ValueError(
                    f"layer {layer.name!r} uses activation {activation!r}; the LSTM equations "
                    "here need 'tanh'"
                )
            recurrent_activation = _activation_name(layer, "recurrent_activation")
            if recurrent_activation not in RECURRENT_ACTIVATIONS:
                raise ValueError(
                    f"layer {layer.name!r} uses recurrent_activation {recurrent_activation!r}; "
                    "trace_window supports 'sigmoid' and 'hard_sigmoid'"
                )
            if current.ndim != 2:
                raise ValueError(
                    f"layer {layer.name!r} needs a sequence, but the layer before it returns "
                    "only its last state"
                )
            kernel, recurrent_kernel, bias = _lstm_weights(layer)
            trace = lstm_layer_forward(
                current, kernel, recurrent_kernel, bias, recurrent_activation, name=layer.name
            )
            traces.append(trace)
            current = trace.hidden if layer.config.get("return_sequences") else trace.hidden[-1]
        elif layer.kind == "Dense":
            activation = _activation_name(layer, "activation")
            if activation not in DENSE_ACTIVATIONS:
                raise ValueError(
                    f"layer {layer.name!r} uses activation {activation!r}; trace_window "
                    "supports 'linear', 'relu' and 'tanh'"
                )
            kernel = np.asarray(layer.weights[0], dtype=np.float64)
            bias = (
                np.asarray(layer.weights[1], dtype=np.float64)
                if layer.config.get("use_bias", True)
                else np.zeros(kernel.shape[1])
            )
            current = DENSE_ACTIVATIONS[activation](current @ kernel + bias)
        else:
            raise ValueError(
                f"trace_window cannot follow layer {layer.name!r} of type "
                f"{layer.kind}: only LSTM and Dense layers are supported"
            )
    if not traces:
        raise ValueError("the model has no LSTM layer to trace")
    if current.size != 1:
        raise ValueError("the model's last layer must give one value per window")
    return WindowTrace(layers=tuple(traces), prediction=float(current.reshape(-1)[0]))


def input_saliency(model: Any, window: np.ndarray) -> np.ndarray:
    """d prediction / d input for each of the lag days of `window`, shape (lag,).

    Computed by TensorFlow's automatic differentiation through the Keras model itself, so it
    works for any model that reads (lag, 1) windows (the LSTM and the SimpleRNN alike); a
    twin's by central differences of its float64 forward pass (NetworkTwin.saliency).
    """
    values = _check_window(model, window)
    if isinstance(model, NetworkTwin):
        return model.saliency(values)
    # Imported here so importing this module stays cheap for code that only needs NumPy parts.
    import tensorflow as tf

    dtype = model.inputs[0].dtype
    batch = tf.constant(values.reshape(1, -1, 1), dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        # training=False: dropout or similar layers, if ever added, must behave as at predict time.
        prediction = model(batch, training=False)
        total = tf.reduce_sum(prediction)
    gradient = tape.gradient(total, batch)
    return np.asarray(gradient, dtype=np.float64).reshape(-1)


def build_simple_rnn_model(config: TrainConfig) -> Any:
    """The same stack as `build_model` with SimpleRNN layers (rnn_1, rnn_2, ...) in place of LSTMs.

    A plain RNN has no cell state, so its gradient through time fades quickly: the page uses
    it to show the LSTM's longer memory. It is the `simple_rnn` model kind, compiled with Adam
    and MSE like the LSTM.
    """
    from lstm_core.model.network import build_model

    return build_model(config.with_changes(model="simple_rnn"))


def memory_reach(saliency: np.ndarray, share: float = 0.9) -> int:
    """How many of the most recent days hold `share` of the total absolute saliency.

    `saliency` runs from the oldest day to the most recent. With share 0.9 the answer N reads
    "90% of the influence comes from the last N days". An all-zero saliency gives 0.
    """
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValueError(f"share must be above 0 and at most 1, got {share!r}")
    magnitude = np.abs(np.asarray(saliency, dtype=np.float64))
    if magnitude.ndim != 1 or magnitude.size == 0:
        raise ValueError(f"saliency must be a non-empty 1-D array, got shape {magnitude.shape}")
    if not np.all(np.isfinite(magnitude)):
        raise ValueError("saliency must be finite numbers (no NaN or infinity)")
    from_recent = np.cumsum(magnitude[::-1])
    total = from_recent[-1]
    if total == 0:
        return 0
    # A relative slack keeps share * total from landing a rounding error above an exact
    # partial sum (0.9 * 10 must count 9.0 as reached).
    threshold = share * total * (1 - 1e-12)
    return int(np.searchsorted(from_recent, threshold, side="left")) + 1


def _days(count: int) -> str:
    return "the last day" if count == 1 else f"the last {count} days"


def reach_sentence(lstm_reach: int, lag: int, rnn_reach: int | None = None) -> str:
    """What the saliency chart shows, computed from the two networks' 90% reaches.

    The network whose 90% of influence spans more days reaches further back; the sentence
    says which, and agrees with the tutorial's story only when the figures do.
    """
    text = (
        "How much a small change in each past day's price moves the prediction. For the LSTM, "
        f"90% of the influence comes from the last {lstm_reach} of {lag} days."
    )
    if rnn_reach is None:
        return text
    text += f" For the SimpleRNN it is {_days(rnn_reach)}: "
    if rnn_reach < lstm_reach:
        text += (
            "here the LSTM reaches further back, as the tutorial describes (a plain RNN's "
            "memory fades faster)."
        )
    elif rnn_reach > lstm_reach:
        text += (
            "here the SimpleRNN reaches further back than the LSTM, the opposite of the "
            "tutorial's story that a plain RNN's memory fades faster."
        )
    else:
        text += "both networks reach back equally far here."
    if max(lstm_reach, rnn_reach) * 4 <= lag:
        text += (
            f" Both lean on the most recent days of the {lag}-day window: on prices, yesterday's "
            "price carries almost everything."
        )
    return text
