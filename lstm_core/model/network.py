"""The tutorial's stacked LSTM as a Keras 3 functional model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras

from lstm_core.config import TrainConfig
from lstm_core.model.linear import RidgeWindowModel, is_ridge_bytes

RECURRENT_LAYERS = {
    "lstm": (keras.layers.LSTM, "lstm"),
    "gru": (keras.layers.GRU, "gru"),
    "simple_rnn": (keras.layers.SimpleRNN, "rnn"),
}
"""Each recurrent model kind's Keras layer and the prefix of its layers' names."""


def build_model(
    config: TrainConfig, jit_compile: bool = False, steps_per_execution: int = 1
) -> keras.Model:
    """LSTM(units[0], return_sequences) -> ... -> LSTM(units[-1]) -> Dense(dense) -> Dense(1).

    `config.model` picks the recurrent layer: LSTM (named lstm_1, lstm_2, ...), GRU (gru_1, ...)
    or SimpleRNN (rnn_1, ...); the rest of the stack is the same. The names let other modules
    (the NumPy re-implementation, the run store) find layers. Compiled with Adam and MSE. The
    `linear` kind is no Keras model: lstm_core/model/linear.py fits it.
    """
    if config.model not in RECURRENT_LAYERS:
        raise ValueError(f"model {config.model!r} is not a Keras stack; see lstm_core.model.linear")
    layer_class, prefix = RECURRENT_LAYERS[config.model]
    # One channel per input (the close, then any extra input): the first layer takes them all.
    inputs = keras.Input(shape=(config.lag, len(config.inputs)), name="window")
    hidden = inputs
    for index, units in enumerate(config.units):
        is_last = index == len(config.units) - 1
        hidden = layer_class(units, return_sequences=not is_last, name=f"{prefix}_{index + 1}")(
            hidden
        )
    if config.dense_units > 0:
        hidden = keras.layers.Dense(config.dense_units, name="dense")(hidden)
    outputs = keras.layers.Dense(1, name="output")(hidden)
    name = "stock_lstm" if config.model == "lstm" else f"stock_{config.model}"
    model = keras.Model(inputs, outputs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="mse",
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def layer_parameter_counts(model: keras.Model) -> list[tuple[str, str, int]]:
    """(layer name, layer type, trainable parameter count) for each layer with weights."""
    if isinstance(model, RidgeWindowModel):
        return model.layer_parameter_counts()
    return [
        (layer.name, type(layer).__name__, int(layer.count_params()))
        for layer in model.layers
        if layer.weights
    ]


def model_to_bytes(model: keras.Model) -> bytes:
    """The model as a `.keras` file's bytes, for a download button or the run store.

    A ridge model becomes its own small NumPy archive (RidgeWindowModel.to_bytes).
    """
    if isinstance(model, RidgeWindowModel):
        return model.to_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(content: bytes) -> keras.Model:
    """Load a `.keras` file's bytes with Keras' safe mode on (no arbitrary code runs).

    A ridge model's `.npz` archive (RidgeWindowModel.to_bytes) loads as that model.
    """
    if is_ridge_bytes(content):
        return RidgeWindowModel.from_bytes(content)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(content)
        return keras.models.load_model(path, safe_mode=True, compile=False)
