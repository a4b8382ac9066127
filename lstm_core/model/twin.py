"""A saved network run in NumPy: the `.keras` file read with zipfile and h5py, no Keras.

With a Dask cluster configured (LSTM_LAB_DASK) the page server never imports TensorFlow:
networks train on the workers and come back as their `.keras` bytes. This twin reads those
bytes (config.json for the layers, model.weights.h5 for the weights) and answers what the
server asks of a model: `predict_on_batch` and `predict` for forecasts, backtests and a study's
test judgement, its layers' weights for the Inside page's gates, and a saliency by central
differences. It computes in float32 as Keras does (the saliency in float64) and agrees with
Keras to round-off (tests/test_twin.py checks 1e-5 on real windows).

Supported: a chain of LSTM, GRU or SimpleRNN layers, then Dense layers, as
lstm_core.model.network.build_model makes it.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_core.model.linear import RidgeWindowModel, is_ridge_bytes

CLUSTER_VARIABLE = "LSTM_LAB_DASK"
"""The variable naming a Dask scheduler (lstm_core.execution.cluster reads the same one)."""

SALIENCY_STEP = 1e-4
"""The nudge, in scaled units, of each day for the central differences of `saliency`."""


def cluster_configured() -> bool:
    """Whether a Dask cluster is configured: models are then read as twins, without Keras."""
    return bool(os.environ.get(CLUSTER_VARIABLE, "").strip())


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Logistic sigmoid as (1 + tanh(x / 2)) / 2: the same function, and no exp to overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * values))


def hard_sigmoid(values: np.ndarray) -> np.ndarray:
    """Keras 3's hard sigmoid: 0 below -3, 1 above 3, x / 6 + 0.5 in between."""
    return np.clip(values / 6.0 + 0.5, 0.0, 1.0)


def linear(values: np.ndarray) -> np.ndarray:
    """The identity, Dense's default activation."""
    return values


def relu(values: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    return np.maximum(values, 0.0)


RECURRENT_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
}
"""Gate activations the NumPy forward pass knows; Keras 3's default is 'sigmoid'."""

DENSE_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": linear,
    "relu": relu,
    "tanh": np.tanh,
}
"""Activations of Dense layers (and of a recurrent layer's candidate and output)."""

RECURRENT_KINDS = ("LSTM", "GRU", "SimpleRNN")


@dataclass(frozen=True)
class LayerWeights:
    """One layer as Keras describes it: its class name, name, config and weights."""

    kind: str
    name: str
    config: dict[str, Any]
    weights: tuple[np.ndarray, ...]

    def get_config(self) -> dict[str, Any]:
        """The layer's config, as a Keras layer's `get_config()`."""
        return dict(self.config)

    def get_weights(self) -> list[np.ndarray]:
        """The layer's weights in Keras' order, as a Keras layer's `get_weights()`."""
        return list(self.weights)


def _activation(layer: LayerWeights, key: str, known: dict[str, Callable]) -> Callable:
    name = layer.config.get(key)
    if name not in known:
        raise ValueError(f"layer {layer.name!r} uses {key} {name!r}, which the twin cannot run")
    return known[name]


def _bias(layer: LayerWeights, width: int, dtype: Any, rows: int = 1) -> np.ndarray:
    if layer.config.get("use_bias", True):
        return np.asarray(layer.weights[2], dtype=dtype).reshape(rows, width)
    return np.zeros((rows, width), dtype=dtype)


def recurrent_forward(layer: LayerWeights, inputs: np.ndarray) -> np.ndarray:
    """A recurrent layer over a batch (n, timesteps, input_dim) from zero states, in the
    inputs' float type.

    Returns the hidden states (n, timesteps, units), or the last one (n, units) when the layer
    does not return sequences. Keras' gate orders: LSTM i, f, c, o; GRU z, r, h.
    """
    if layer.config.get("go_backwards") or layer.config.get("stateful"):
        raise ValueError(f"layer {layer.name!r} reads backwards or keeps state; the twin cannot")
    dtype = inputs.dtype
    kernel = np.asarray(layer.weights[0], dtype=dtype)
    recurrent = np.asarray(layer.weights[1], dtype=dtype)
    units = recurrent.shape[0]
    activation = _activation(layer, "activation", DENSE_ACTIVATIONS)
    batch, timesteps = inputs.shape[0], inputs.shape[1]
    hidden = np.zeros((batch, units), dtype=dtype)
    cell = np.zeros((batch, units), dtype=dtype)
    outputs = np.empty((batch, timesteps, units), dtype=dtype)
    if layer.kind == "GRU":
        reset_after = layer.config.get("reset_after", True)
        biases = _bias(layer, 3 * units, dtype, rows=2 if reset_after else 1)
        input_bias, recurrent_bias = biases[0], biases[-1] if reset_after else 0.0
    else:
        input_bias = _bias(layer, kernel.shape[1], dtype)[0]
    # One matrix product for every timestep's input part (a 3-D product loops in NumPy).
    projected = (inputs.reshape(-1, inputs.shape[2]) @ kernel + input_bias).reshape(
        batch, timesteps, -1
    )
    for step in range(timesteps):
        x_t = projected[:, step]
        if layer.kind == "LSTM":
            gate = _activation(layer, "recurrent_activation", RECURRENT_ACTIVATIONS)
            z = x_t + hidden @ recurrent
            i, f, c, o = np.split(z, 4, axis=1)
            cell = gate(f) * cell + gate(i) * activation(c)
            hidden = gate(o) * activation(cell)
        elif layer.kind == "GRU":
            gate = _activation(layer, "recurrent_activation", RECURRENT_ACTIVATIONS)
            x_z, x_r, x_h = np.split(x_t, 3, axis=1)
            if reset_after:
                r_z, r_r, r_h = np.split(hidden @ recurrent + recurrent_bias, 3, axis=1)
                update, reset = gate(x_z + r_z), gate(x_r + r_r)
                candidate = activation(x_h + reset * r_h)
            else:
                r_z, r_r = np.split(hidden @ recurrent[:, : 2 * units], 2, axis=1)
                update, reset = gate(x_z + r_z), gate(x_r + r_r)
                candidate = activation(x_h + (reset * hidden) @ recurrent[:, 2 * units :])
            hidden = update * hidden + (1 - update) * candidate
        else:
            hidden = activation(x_t + hidden @ recurrent)
        outputs[:, step] = hidden
    return outputs if layer.config.get("return_sequences") else hidden


def dense_forward(layer: LayerWeights, inputs: np.ndarray) -> np.ndarray:
    """A Dense layer on the last axis of `inputs`, in the inputs' float type."""
    kernel = np.asarray(layer.weights[0], dtype=inputs.dtype)
    bias = (
        np.asarray(layer.weights[1], dtype=inputs.dtype)
        if layer.config.get("use_bias", True)
        else np.zeros(kernel.shape[1], dtype=inputs.dtype)
    )
    return _activation(layer, "activation", DENSE_ACTIVATIONS)(inputs @ kernel + bias)


class NetworkTwin:
    """A `.keras` network's layers and weights, run in NumPy (see the module's docstring)."""

    def __init__(self, layers: tuple[LayerWeights, ...], lag: int, features: int, content: bytes):
        self.layers = layers
        self.lag = lag
        self.features = features
        self.content = content
        """The `.keras` bytes it was read from (what a download or the run store keeps)."""

    @property
    def input_shape(self) -> tuple[None, int, int]:
        """(None, lag, features), as Keras names a model's input shape."""
        return (None, self.lag, self.features)

    def forward(self, inputs: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
        """Outputs (n, 1) for windows (n, lag, features), or (n, lag) with one feature.

        float32 by default, as Keras computes (and 10x faster than float64 here).
        """
        values = np.asarray(inputs, dtype=dtype)
        with _one_blas_thread():
            return self._forward(values)

    def _forward(self, values: np.ndarray) -> np.ndarray:
        if values.ndim == 2 and self.features == 1:
            values = values[..., np.newaxis]
        if values.ndim != 3 or values.shape[1:] != (self.lag, self.features):
            raise ValueError(
                f"windows must have shape (n, {self.lag}, {self.features}), got {values.shape}"
            )
        current = values
        for layer in self.layers:
            if layer.kind in RECURRENT_KINDS:
                current = recurrent_forward(layer, current)
            elif layer.kind == "Dense":
                current = dense_forward(layer, current)
        return current.reshape(len(values), -1)

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        """As Keras' `predict_on_batch`: one output row per window."""
        return self.forward(inputs)

    def predict(self, inputs: np.ndarray, batch_size: int | None = None, verbose: int = 0) -> Any:
        """As Keras' `predict`, in chunks of `batch_size` windows (all at once when None)."""
        values = np.asarray(inputs)
        size = batch_size or max(1, len(values))
        starts = range(0, len(values), size)
        parts = [self.forward(values[start : start + size]) for start in starts]
        return np.concatenate(parts) if parts else np.empty((0, 1))

    def get_weights(self) -> list[np.ndarray]:
        """Every layer's weights in order, as Keras' `get_weights()`."""
        return [weight for layer in self.layers for weight in layer.weights]

    def saliency(self, window: np.ndarray) -> np.ndarray:
        """d output / d input for each day of one window (lag,) with one feature.

        Central differences of the float64 forward pass, all 2 x lag nudged windows in one
        batch: their error (about 1e-8 here) is far below float32's, which Keras' gradient has.
        """
        values = np.asarray(window, dtype=np.float64).reshape(self.lag)
        nudges = SALIENCY_STEP * np.eye(self.lag)
        batch = np.concatenate([values + nudges, values - nudges])
        outputs = self.forward(batch[..., np.newaxis], dtype=np.float64)[:, 0]
        return (outputs[: self.lag] - outputs[self.lag :]) / (2 * SALIENCY_STEP)


def _one_blas_thread() -> Any:
    """A context in which NumPy's BLAS uses one thread.

    The recurrent loop multiplies small matrices 60 times a layer; OpenBLAS' threads then spin
    against the server's other threads: 0.30 s on one thread against 1.3 s on two for the
    tutorial model's 600 windows, with the machine busy (Keras: 0.17 s).
    """
    global _THREADS
    if _THREADS is None:
        from threadpoolctl import ThreadpoolController

        _THREADS = ThreadpoolController()
    return _THREADS.limit(limits=1, user_api="blas")


_THREADS: Any = None


def _snake_case(name: str) -> str:
    """Keras' own conversion of a class name to the name its weights file uses."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _stored_weights(weights: Any, path: str) -> tuple[np.ndarray, ...]:
    """The arrays under `path`/vars in the weights file, in order (none when absent)."""
    if path not in weights or "vars" not in weights[path]:
        return ()
    group = weights[path]["vars"]
    return tuple(np.asarray(group[str(index)]) for index in range(len(group)))


def read_network(content: bytes) -> NetworkTwin:
    """A twin of the network in `.keras` bytes; ValueError when they hold something else."""
    import h5py

    try:
        with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
            config = json.loads(archive.read("config.json"))
            weights_file = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError("the model bytes are not a .keras file") from error
    described = config.get("config", {}).get("layers", [])
    counts: dict[str, int] = {}
    layers = []
    shape = None
    with h5py.File(io.BytesIO(weights_file), "r") as weights:
        for entry in described:
            kind, settings = entry["class_name"], entry["config"]
            stored = _snake_case(kind)
            path = stored if stored not in counts else f"{stored}_{counts[stored]}"
            counts[stored] = counts.get(stored, 0) + 1
            if kind == "InputLayer":
                shape = settings.get("batch_shape")
                continue
            if kind not in (*RECURRENT_KINDS, "Dense"):
                raise ValueError(f"the twin cannot run layer {settings['name']!r} of type {kind}")
            found = _stored_weights(weights["layers"], path)
            if kind in RECURRENT_KINDS:
                found = _stored_weights(weights["layers"][path], "cell")
            layers.append(LayerWeights(kind, settings["name"], settings, found))
    if shape is None or len(shape) != 3 or not layers:
        raise ValueError(
            f"the twin runs networks that read windows of shape (lag, features), not {shape}"
        )
    return NetworkTwin(tuple(layers), int(shape[1]), int(shape[2]), bytes(content))


def load_model_bytes(content: bytes, twin: bool | None = None) -> Any:
    """Stored model bytes as a model: a ridge as itself, a network as Keras' or as a twin.

    `twin` None reads networks as twins when a cluster is configured (no TensorFlow here then)
    and with Keras otherwise, as before.
    """
    if is_ridge_bytes(content):
        return RidgeWindowModel.from_bytes(content)
    if cluster_configured() if twin is None else twin:
        return read_network(content)
    from lstm_core.model.network import model_from_bytes

    return model_from_bytes(content)


def model_bytes(model: Any) -> bytes:
    """A model's bytes for a download or the run store (a twin's are those it was read from)."""
    if isinstance(model, NetworkTwin):
        return model.content
    if isinstance(model, RidgeWindowModel):
        return model.to_bytes()
    from lstm_core.model.network import model_to_bytes

    return model_to_bytes(model)
