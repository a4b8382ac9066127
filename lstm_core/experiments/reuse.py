"""Never train the same run twice: find stored runs of the same config, seed and data, and
reopen them ready for the result pages.

A stored run is reused only when its config, read again with this version's rules, equals the
one asked for, it was trained on data with the same fingerprint, and it ran to the end (a
stopped run is not what its config asks for). A stored config that no longer validates (a run
from an older version) is never reused; the caller says so in one sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError, StoreError
from lstm_core.preprocessing import prepare_config


@dataclass
class StoredMatches:
    """Which of several configs the store already holds, and what could not be read."""

    run_ids: dict[int, int] = field(default_factory=dict)
    """Index of a config in the list asked about -> the newest matching stored run's id."""
    skipped: int = 0
    """Stored runs on the same data whose config no longer validates (older versions)."""
    skipped_reason: str | None = None
    """The first such run's reason, in the config check's words."""

    def skipped_sentence(self) -> str | None:
        """One sentence about the runs left out because they no longer validate, or None."""
        if not self.skipped:
            return None
        runs = "saved run" if self.skipped == 1 else "saved runs"
        return (
            f"{self.skipped} {runs} on these data came from an older version whose settings no "
            f"longer validate ({self.skipped_reason}), so none of them was reused."
        )


def stored_config(text: str) -> TrainConfig:
    """A stored config's JSON read with this version's rules; ValueError when it fails them."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"its settings are not readable JSON: {error.msg}") from error
    if not isinstance(values, dict):
        raise ValueError("its settings are not a set of named values")
    try:
        return TrainConfig.from_dict(values)
    except TypeError as error:
        raise ValueError(str(error)) from error


def find_stored_runs(
    store: Any, configs: Sequence[TrainConfig], fingerprint: str, owner: str | None = None
) -> StoredMatches:
    """The stored complete runs (newest first) of each config on data with `fingerprint`."""
    matches = StoredMatches()
    for row in store.complete_runs(fingerprint, owner=owner):
        try:
            config = stored_config(row["config"])
        except ValueError as error:
            matches.skipped += 1
            matches.skipped_reason = matches.skipped_reason or str(error)
            continue
        for index, asked in enumerate(configs):
            if asked == config and index not in matches.run_ids:
                matches.run_ids[index] = int(row["id"])
    return matches


def network_layers(config: TrainConfig) -> list[tuple[str, str, int]]:
    """(name, type, parameters) of each layer the model kind has for `config`, without Keras.

    The first layer's n is the number of inputs a day (the close and any extra ones). On n
    inputs, a layer of u units has: LSTM, 4 gates of u x (n + u) weights and u biases; GRU (as
    Keras builds it, reset_after), 3 gates of u x (n + u) weights and 2u biases; SimpleRNN,
    u x (n + u) weights and u biases; Dense, n x u weights and u biases. The ridge has one
    coefficient per day and input of the window, and its intercept.
    """
    inputs = len(config.inputs)
    if config.model == "linear":
        return [("ridge", "Ridge", config.lag * inputs + 1)]
    kind, prefix, gates, biases = RECURRENT_SHAPES[config.model]
    layers = []
    for index, units in enumerate(config.units):
        count = gates * units * (inputs + units) + biases * units
        layers.append((f"{prefix}_{index + 1}", kind, count))
        inputs = units
    if config.dense_units > 0:
        layers.append(("dense", "Dense", inputs * config.dense_units + config.dense_units))
        inputs = config.dense_units
    layers.append(("output", "Dense", inputs + 1))
    return layers


RECURRENT_SHAPES = {
    "lstm": ("LSTM", "lstm", 4, 4),
    "gru": ("GRU", "gru", 3, 6),
    "simple_rnn": ("SimpleRNN", "rnn", 1, 1),
}
"""Each recurrent kind's layer type, name prefix, weight blocks and bias vectors per unit."""


def reopen_run(
    store: Any,
    run_id: int,
    series_for: Callable[[str], pd.Series],
    with_model: bool = False,
) -> Any:
    """A stored run as the result pages show a fresh one: test predictions, history, metrics,
    the prepared data recomputed from `series_for(ticker)` (cheap, no training), its layers,
    and with `with_model` its Keras model (this imports TensorFlow).

    StoreError when the run is gone, its config no longer validates (an older version), or it
    was trained on other prices than `series_for` gives (its test days would not line up).
    """
    try:
        result = store.load(run_id)
    except (ValueError, TypeError, KeyError) as error:
        raise StoreError(
            f"Saved run {run_id} came from an older version whose settings no longer validate "
            f"({error}), so it is not reopened."
        ) from error
    series = series_for(result.config.ticker)
    fingerprint = series_fingerprint(series)
    stored_fingerprint = getattr(result, "data_fingerprint", "")
    other_data = StoreError(
        f"Saved run {run_id} was trained on other {result.config.ticker} prices than the ones "
        "loaded now (refreshed or uploaded since), so it cannot be reopened on them."
    )
    if stored_fingerprint and stored_fingerprint != fingerprint:
        raise other_data
    try:
        prepared = prepare_config(series, result.config)
    except LabError as error:
        raise other_data from error
    if not prepared.test_dates.equals(result.test_dates):
        raise other_data
    result.prepared = prepared
    result.n_train = prepared.train_count
    result.layers = network_layers(result.config)
    result.data_fingerprint = fingerprint
    result.reopened = True
    if with_model:
        result.model = store.load_model(run_id)
    return result


def saved_sentence(reused: int, total: int) -> str | None:
    """'3 of 8 runs were already saved ...', or None when nothing was reused."""
    if reused == 0:
        return None
    if reused == total:
        return (
            f"All {total} runs were already saved with the same settings, seed and data: "
            "showing them at once, nothing trains."
        )
    return (
        f"{reused} of {total} runs were already saved with the same settings, seed and data; "
        f"only the other {total - reused} train now."
    )
