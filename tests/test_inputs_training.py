"""Extra inputs through the networks, the ridge, the lineup, the shuffled control and the CLI:
first-layer sizes by hand and by Keras, a tiny training with two inputs, and the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_core import data
from lstm_core.config import INPUTS, TrainConfig
from lstm_core.experiments import controls, lineup
from lstm_core.experiments.reuse import network_layers
from lstm_core.model.pipeline import run_training
from tests.test_cli import TINY, run_cli
from tests.test_model_kinds import gru_layer, lstm_layer

CHANGE = ["--target", "change", "--validation-fraction", "0.1"]
SMALL = TrainConfig(
    lag=10, batch_size=64, epochs=1, units=(8,), dense_units=0, target="change",
    validation_fraction=0.1, seed=1,
)  # fmt: skip


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_first_layer_takes_every_input_counted_by_hand_and_by_keras(channels) -> None:
    from lstm_core.model.network import build_model

    config = SMALL.with_changes(units=(8, 4), dense_units=3, inputs=INPUTS[:channels])
    built = build_model(config)
    assert built.input_shape == (None, 10, channels)
    # 4 gates x (units x (units + inputs) + units); only the first layer sees the inputs.
    first = 4 * (8 * (8 + channels) + 8)
    assert first == lstm_layer(8, channels)
    expected = first + lstm_layer(4, 8) + (4 * 3 + 3) + (3 + 1)
    assert built.count_params() == expected
    assert sum(count for _, _, count in network_layers(config)) == expected
    gru = build_model(config.with_changes(model="gru"))
    assert gru.get_layer("gru_1").count_params() == gru_layer(8, channels)


def test_a_tiny_lstm_trains_on_two_inputs_end_to_end() -> None:
    series = data.load_snapshot().series("MSFT")
    config = SMALL.with_changes(inputs=("close", "volume"))
    result = run_training(config, series)
    assert result.prepared.x_train.shape[1:] == (10, 2)
    assert result.layers[0] == ("lstm_1", "LSTM", 4 * (8 * (8 + 2) + 8))
    kernel = result.model.get_layer("lstm_1").get_weights()[0]
    assert kernel.shape == (2, 32)
    assert np.all(np.isfinite(result.predicted)) and len(result.predicted) == result.n_test
    assert result.to_json()["config"]["inputs"] == ["close", "volume"]
    assert result.validation["comparison"]["rmse_ratio"] > 0


def test_the_ridge_weighs_every_day_of_every_input() -> None:
    series = data.load_snapshot().series("MSFT")
    config = SMALL.with_changes(model="linear", inputs=("close", "range", "market"))
    result = run_training(config, series)
    assert result.layers == [("ridge", "Ridge", 10 * 3 + 1)]
    prepared = result.prepared
    rows = prepared.x_test.reshape(len(prepared.x_test), -1).astype(np.float64)
    by_hand = rows @ result.model.coefficients + result.model.intercept
    np.testing.assert_allclose(
        result.predicted, prepared.to_dollars(by_hand, prepared.test_last_known)
    )


def test_the_lineup_rows_each_input_set_and_the_control_judges_on_validation() -> None:
    series = data.load_snapshot().series("MSFT")
    sets = lineup.parse_input_sets(["close", "volume,close"])
    assert sets == (("close",), ("close", "volume"))
    base = SMALL.with_changes(model="linear")
    configs = lineup.lineup_configs(base, ["linear"], [1, 2], sets)
    assert [config.inputs for config in configs] == [sets[0], sets[0], sets[1], sets[1]]
    results = [run_training(config, series) for config in configs]
    table = lineup.lineup_table(results)
    assert list(table["name"]) == ["Ridge (linear)", "Ridge (linear) + volume"]
    assert list(table["parameters"]) == [11, 21]
    assert table["validation ratio"].iloc[1] == pytest.approx(
        results[2].validation["comparison"]["rmse_ratio"]
    )
    assert "inputs close / close+volume" in lineup.group_name(base, sets)

    real = results[2]
    (control_config,) = controls.control_configs(real.config)
    assert control_config.shuffled == ("volume",) and control_config.seed == real.config.seed
    control = run_training(control_config, series)
    (row,) = controls.control_rows(real, [control])
    real_ratio = real.validation["comparison"]["rmse_ratio"]
    shuffled_ratio = control.validation["comparison"]["rmse_ratio"]
    assert (row["real ratio"], row["shuffled ratio"]) == (real_ratio, shuffled_ratio)
    assert row["beat shuffled"] == (real_ratio < shuffled_ratio)
    sentence = controls.control_sentence(row, 1)
    verb = "beat" if row["beat shuffled"] else "did not beat"
    assert sentence.startswith(f"Volume {verb} its shuffled copy")
    assert f"{real_ratio:.3f}" in sentence and f"{shuffled_ratio:.3f}" in sentence


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TrainConfig(validation_fraction=0.1), "needs an extra input"),
        (TrainConfig(inputs=("close", "volume")), "set a validation share above 0"),
    ],
)
def test_the_control_refuses_what_it_cannot_judge(config, message) -> None:
    with pytest.raises(ValueError, match=message):
        controls.control_configs(config)


def test_cli_trains_with_inputs_and_its_shuffled_control(tmp_path, capsys) -> None:
    out = tmp_path / "run.json"
    arguments = ["train", *TINY, *CHANGE, "--model", "linear", "--inputs", "close,volume"]
    status, stdout, stderr = run_cli([*arguments, "--shuffled-control", "--json", str(out)], capsys)
    assert (status, stderr) == (0, "")
    written = json.loads(out.read_text())
    assert written["config"]["inputs"] == ["close", "volume"]
    (row,) = written["shuffled_controls"]
    assert row["input"] == "volume"
    assert row["real ratio"] == pytest.approx(written["validation"]["comparison"]["rmse_ratio"])
    assert "its shuffled copy" in stdout and "inputs close+volume" in stdout


def test_cli_lineup_trains_each_input_set(tmp_path, capsys) -> None:
    out = tmp_path / "lineup.json"
    arguments = ["lineup", "--lag", "10", *CHANGE, "--models", "linear", "--seeds", "1"]
    status, stdout, stderr = run_cli(
        [*arguments, "--inputs", "close", "close,range,market", "--json", str(out), "--no-save"],
        capsys,
    )
    assert (status, stderr) == (0, "")
    written = json.loads(out.read_text())
    assert [row["inputs"] for row in written["table"]] == ["close", "close+range+market"]
    assert written["input_sets"] == [["close"], ["close", "range", "market"]]
    assert "Ridge (linear) + range+market" in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--inputs", "close,sentiment"], "error: unknown input 'sentiment'"),
        (["--inputs", "volume"], "error: inputs must include 'close'"),
        (["--inputs", "close,volume", "--shuffled-control"], "error: the shuffled control judges"),
        (["--shuffled-control", *CHANGE], "error: the shuffled control needs an extra input"),
    ],
)
def test_cli_refuses_bad_inputs_in_one_line_before_training(extra, message, capsys) -> None:
    status, stdout, stderr = run_cli(["train", *TINY, "--model", "linear", *extra], capsys)
    assert status == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("command", "inputs", "column"),
    [("train", "close,volume", "Volume"), ("lineup", "close,range", "High")],
)
def test_cli_refuses_an_input_a_csv_cannot_supply(tmp_path, capsys, command, inputs, column):
    snapshot = data.load_snapshot().frame
    msft = snapshot[snapshot["Ticker"] == "MSFT"]
    path = tmp_path / "msft.csv"
    msft[["Date", "Close", "Adj Close"]].to_csv(path, index=False, date_format="%Y-%m-%d")
    status, stdout, stderr = run_cli(
        [command, "--lag", "10", "--csv", str(path), "--inputs", inputs, "--no-save"][
            : None if command == "lineup" else -1
        ],
        capsys,
    )
    assert status == 2 and stdout == ""
    assert stderr.startswith("error: The ") and column in stderr and stderr.count("\n") == 1


def test_the_store_keeps_the_inputs_and_reuse_tells_input_sets_apart(tmp_path) -> None:
    from lstm_core.data import series_fingerprint
    from lstm_core.experiments.reuse import find_stored_runs, reopen_run
    from lstm_core.experiments.store import RunStore

    series = data.load_snapshot().series("MSFT")
    store = RunStore(tmp_path / "runs.sqlite")
    with_volume = SMALL.with_changes(model="linear", inputs=("close", "volume"))
    control = with_volume.with_changes(shuffled=("volume",))
    fingerprint = series_fingerprint(series)
    ids = []
    for config in (with_volume, control):
        result = run_training(config, series)
        result.data_fingerprint = fingerprint
        ids.append(store.save(result))
    table = store.table().set_index("id")
    assert table.loc[ids[0], "inputs"] == "close+volume"
    assert table.loc[ids[1], "inputs"] == "close+volume (volume shuffled)"
    close_only = with_volume.with_changes(inputs=("close",))
    matches = find_stored_runs(store, [close_only, with_volume, control], fingerprint)
    assert matches.run_ids == {1: ids[0], 2: ids[1]}
    reopened = reopen_run(store, ids[0], lambda ticker: data.load_snapshot().series(ticker))
    assert reopened.prepared.x_test.shape[2] == 2


def test_a_control_within_the_shown_decimals_is_a_tie_not_a_win() -> None:
    import pandas as pd

    from lstm_core.experiments.controls import lineup_control_sentences

    def row(shuffled: str, ratio: float) -> dict:
        return {
            "name": "LSTM, close+volume",
            "model": "lstm",
            "inputs": "close+volume",
            "shuffled": shuffled,
            "validation ratio": ratio,
            "validation spread": 0.002,
            "runs": 3,
        }

    tie = pd.DataFrame([row("", 0.98600), row("volume", 0.98604)])
    (sentence,) = lineup_control_sentences(tie)
    assert sentence.startswith("LSTM, close+volume: volume tied with its shuffled copy")
    assert sentence.endswith("these runs give no sign that the real volume helped.")
    win = pd.DataFrame([row("", 0.980), row("volume", 0.990)])
    (sentence,) = lineup_control_sentences(win)
    assert "volume beat its shuffled copy" in sentence
    assert "the gap, 0.010, is more than twice the seed spread (0.002)" in sentence
