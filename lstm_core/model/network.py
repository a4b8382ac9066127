"""The tutorial's stacked LSTM as a Keras 3 functional model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras

from lstm_core.config import TrainConfig


def build_model(
    config: TrainConfig, jit_compile: bool = False, steps_per_execution: int = 1
) -> keras.Model:
    """LSTM(units[0], return_sequences) -> ... -> LSTM(units[-1]) -> Dense(dense) -> Dense(1).

    Layers are named lstm_1, lstm_2, ..., dense, output so that other modules (the NumPy
    re-implementation, the run store) can find them. The model is compiled with Adam and MSE.
    """
    inputs = keras.Input(shape=(config.lag, 1), name="window")
    hidden = inputs
    for index, units in enumerate(config.units):
        is_last = index == len(config.units) - 1
        hidden = keras.layers.LSTM(units, return_sequences=not is_last, name=f"lstm_{index + 1}")(
            hidden
        )
    if config.dense_units > 0:
        hidden = keras.layers.Dense(config.dense_units, name="dense")(hidden)
    outputs = keras.layers.Dense(1, name="output")(hidden)
    model = keras.Model(inputs, outputs, name="stock_lstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="mse",
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def layer_parameter_counts(model: keras.Model) -> list[tuple[str, str, int]]:
    """(layer name, layer type, trainable parameter count) for each layer with weights."""
    return [
        (layer.name, type(layer).__name__, int(layer.count_params()))
        for layer in model.layers
        if layer.weights
    ]


def model_to_bytes(model: keras.Model) -> bytes:
    """The model as a `.keras` file's bytes, for a download button or the run store."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(content: bytes) -> keras.Model:
    """Load a `.keras` file's bytes with Keras' safe mode on (no arbitrary code runs)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(content)
        return keras.models.load_model(path, safe_mode=True, compile=False)
