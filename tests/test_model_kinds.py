"""What the network is (issue 19): each model kind's layers and sizes, the ridge against
scikit-learn and NumPy by hand, and the command line's --model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.model.linear import (
    ALPHA_GRID,
    DEFAULT_ALPHA,
    RidgeWindowModel,
    fit_linear,
    is_ridge_bytes,
)
from lstm_core.preprocessing import prepare_config
from tests.test_cli import TINY, run_cli

ROOT = Path(__file__).resolve().parent.parent
SMALL = TrainConfig(lag=10, units=(8, 4), dense_units=3, epochs=1, batch_size=64, seed=1)


def lstm_layer(units: int, inputs: int) -> int:
    """Four gates, each with input and recurrent kernels and a bias."""
    return 4 * (units * (units + inputs) + units)


def gru_layer(units: int, inputs: int) -> int:
    """Three gates; Keras 3's reset_after=True keeps two biases per gate (input and recurrent)."""
    return 3 * (units * (units + inputs) + 2 * units)


def simple_rnn_layer(units: int, inputs: int) -> int:
    """One kernel, one recurrent kernel, one bias."""
    return units * (units + inputs) + units


@pytest.mark.parametrize(
    ("model", "prefix", "layer_type", "per_layer"),
    [
        ("lstm", "lstm", "LSTM", lstm_layer),
        ("gru", "gru", "GRU", gru_layer),
        ("simple_rnn", "rnn", "SimpleRNN", simple_rnn_layer),
    ],
)
def test_each_recurrent_kind_builds_the_named_layers_with_hand_counted_sizes(
    model: str, prefix: str, layer_type: str, per_layer
) -> None:
    from lstm_core.model.network import build_model, layer_parameter_counts

    built = build_model(SMALL.with_changes(model=model))
    expected = [
        (f"{prefix}_1", layer_type, per_layer(8, 1)),
        (f"{prefix}_2", layer_type, per_layer(4, 8)),
        ("dense", "Dense", 4 * 3 + 3),
        ("output", "Dense", 3 + 1),
    ]
    assert layer_parameter_counts(built) == expected
    assert built.count_params() == sum(count for _, _, count in expected)


def test_hand_counts_match_the_tutorial_lstm_and_a_gru_of_its_size() -> None:
    from lstm_core.model.network import build_model

    tutorial = TrainConfig()
    assert lstm_layer(128, 1) + lstm_layer(64, 128) + 64 * 25 + 25 + 26 == 117_619
    assert build_model(tutorial).count_params() == 117_619
    # 3 * (128*129 + 256) + 3 * (64*192 + 128) + 1,625 + 26 = 50,304 + 37,248 + 1,651
    assert gru_layer(128, 1) + gru_layer(64, 128) + 1_651 == 89_203
    assert build_model(tutorial.with_changes(model="gru")).count_params() == 89_203


def test_the_ridge_is_scikit_learns_ridge_with_alpha_chosen_on_validation_only() -> None:
    from sklearn.linear_model import Ridge

    series = data.load_snapshot().series("MSFT")
    config = TrainConfig(model="linear", target="change", validation_fraction=0.1)
    prepared = prepare_config(series, config)
    rows = prepared.x_train.reshape(prepared.train_count, -1).astype(np.float64)
    validation_rows = prepared.x_validation.reshape(prepared.validation_count, -1)
    errors = {}
    for alpha in ALPHA_GRID:
        fitted = Ridge(alpha=alpha).fit(rows, prepared.y_train)
        errors[alpha] = np.mean((fitted.predict(validation_rows) - prepared.y_validation) ** 2)
    best = min(errors, key=errors.get)

    outcome = fit_linear(config, prepared)
    assert outcome.model.alpha == best
    reference = Ridge(alpha=best).fit(rows, prepared.y_train)
    np.testing.assert_allclose(outcome.model.coefficients, reference.coef_, rtol=1e-10)
    test_rows = prepared.x_test.reshape(prepared.test_count, -1)
    np.testing.assert_allclose(outcome.test_predictions, reference.predict(test_rows), rtol=1e-9)

    # And by hand: ridge on centred data, (X'X + alpha I)^-1 X'y, intercept from the means.
    centred = rows - rows.mean(axis=0)
    targets = prepared.y_train - prepared.y_train.mean()
    coefficients = np.linalg.solve(
        centred.T @ centred + best * np.eye(rows.shape[1]), centred.T @ targets
    )
    np.testing.assert_allclose(outcome.model.coefficients, coefficients, rtol=1e-5, atol=1e-8)
    intercept = prepared.y_train.mean() - rows.mean(axis=0) @ coefficients
    assert outcome.model.intercept == pytest.approx(intercept, rel=1e-6)


def test_without_validation_the_ridge_uses_the_default_alpha_and_test_days_change_nothing(
    synthetic_series,
) -> None:
    config = TrainConfig(model="linear", lag=10, target="change")
    prepared = prepare_config(synthetic_series, config)
    outcome = fit_linear(config, prepared)
    assert outcome.model.alpha == DEFAULT_ALPHA

    changed = synthetic_series.copy()
    changed.iloc[-20:] *= 3.0  # only test days
    other = fit_linear(config, prepare_config(changed, config))
    np.testing.assert_array_equal(outcome.model.coefficients, other.model.coefficients)


def test_a_stored_ridge_loads_back_and_predicts_the_same(synthetic_series) -> None:
    from lstm_core.model.network import model_from_bytes, model_to_bytes

    config = TrainConfig(model="linear", lag=10)
    prepared = prepare_config(synthetic_series, config)
    model = fit_linear(config, prepared).model
    loaded = model_from_bytes(model_to_bytes(model))
    assert isinstance(loaded, RidgeWindowModel)
    np.testing.assert_array_equal(
        loaded.predict_on_batch(prepared.x_test), model.predict_on_batch(prepared.x_test)
    )
    assert loaded.count_params() == 11
    # The download is a plain .npz anyone can open, and a .keras file is not taken for one.
    with np.load(io.BytesIO(model_to_bytes(model)), allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["coefficients"], model.coefficients)
    from lstm_core.model.network import build_model

    assert not is_ridge_bytes(model_to_bytes(build_model(SMALL)))


def test_training_the_ridge_imports_no_tensorflow() -> None:
    code = (
        "import sys\n"
        "from lstm_core import data\n"
        "from lstm_core.config import TrainConfig\n"
        "from lstm_core.model.pipeline import run_training\n"
        "result = run_training(TrainConfig(model='linear', lag=10), "
        "data.load_snapshot().series('MSFT'))\n"
        "print(result.layers, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[('ridge', 'Ridge', 11)] False False"


def test_unknown_model_is_refused_in_one_sentence() -> None:
    with pytest.raises(ValueError, match="model must be one of lstm, gru, simple_rnn, linear"):
        TrainConfig(model="transformer")
    config = TrainConfig(model="gru")
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.to_query()["model"] == "gru"
    assert TrainConfig.from_dict({"ticker": "MSFT"}).model == "lstm"


def test_cli_trains_each_kind_and_refuses_an_unknown_one(tmp_path, capsys) -> None:
    out = tmp_path / "ridge.json"
    status, stdout, stderr = run_cli(
        ["train", *TINY, "--model", "linear", "--json", str(out)], capsys
    )
    assert (status, stderr) == (0, "")
    assert "Ridge (linear)" in stdout
    assert json.loads(out.read_text())["config"]["model"] == "linear"

    out = tmp_path / "gru.json"
    status, stdout, stderr = run_cli(["train", *TINY, "--model", "gru", "--json", str(out)], capsys)
    assert (status, stderr) == (0, "")
    assert json.loads(out.read_text())["config"]["model"] == "gru"
    assert "GRU's typical error" in stdout

    status, stdout, stderr = run_cli(["train", *TINY, "--model", "ridge"], capsys)
    assert status == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: argument --model")


def test_cli_lineup_tables_each_kind_and_names_the_simplest_within_luck(tmp_path, capsys) -> None:
    out = tmp_path / "lineup.json"
    arguments = ["lineup", "--lag", "10", "--target", "change", "--validation-fraction", "0.1"]
    status, stdout, stderr = run_cli(
        [*arguments, "--models", "linear", "--seeds", "1", "2", "--json", str(out)], capsys
    )
    assert (status, stderr) == (0, "")
    written = json.loads(out.read_text())
    (row,) = written["table"]
    # The ridge is deterministic: both seeds give the same ratio, with no spread.
    series = data.load_snapshot().series("MSFT")
    config = TrainConfig(model="linear", lag=10, target="change", validation_fraction=0.1)
    from lstm_core.model.pipeline import run_training

    single = run_training(config, series)
    expected = single.metrics["lstm"]["rmse"] / single.metrics["persistence"]["rmse"]
    assert row["runs"] == 2 and row["parameters"] == 11
    assert row["test ratio"] == pytest.approx(expected) and row["test spread"] == 0
    assert row["validation ratio"] == pytest.approx(single.validation["comparison"]["rmse_ratio"])
    assert "the simplest model within luck of the best is Ridge (linear)" in written["sentence"]
    assert written["sentence"] in stdout

    from lstm_core.experiments.store import RunStore

    groups = set(RunStore().table()["group"])
    assert any(group.startswith("lineup MSFT lag 10") for group in groups)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "lstm,transformer"], "error: unknown model 'transformer'"),
        (["--models", "linear,linear"], "error: models must not repeat"),
        (["--models", "linear", "--seeds", "1", "1"], "error: seeds must not repeat"),
    ],
)
def test_cli_lineup_refuses_bad_lists_in_one_line(extra, message, capsys) -> None:
    status, stdout, stderr = run_cli(["lineup", "--lag", "10", *extra], capsys)
    assert status == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1
