"""The NumPy twin of a saved network gives Keras' numbers without Keras (lstm_core.model.twin)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.forecasting.forecast import origin_forecasts
from lstm_core.model import twin
from lstm_core.model.internals import input_saliency, trace_window
from lstm_core.model.network import model_to_bytes
from lstm_core.model.pipeline import run_training, score_period
from lstm_core.model.twin import NetworkTwin, load_model_bytes, model_bytes, read_network
from tests.test_app_pages import ROOT

TOLERANCE = 1e-5
TINY = TrainConfig(lag=12, units=(8, 8), dense_units=4, batch_size=64, epochs=1, seed=7)


@pytest.fixture(scope="module")
def series():
    return data.load_snapshot().series("MSFT")


@pytest.fixture(scope="module", params=["lstm", "gru", "simple_rnn"])
def trained(request, series):
    """A tiny network of each kind trained on MSFT, and its twin read from the .keras bytes."""
    result = run_training(TINY.with_changes(model=request.param), series)
    return result, read_network(model_to_bytes(result.model))


def test_the_twin_predicts_what_keras_predicts_on_real_windows(trained) -> None:
    result, network = trained
    windows = result.prepared.x_test
    keras_says = np.asarray(result.model.predict_on_batch(windows), dtype=np.float64)
    twin_says = network.predict_on_batch(windows)
    assert twin_says.shape == keras_says.shape == (len(windows), 1)
    np.testing.assert_allclose(twin_says, keras_says, rtol=0, atol=TOLERANCE)
    # The test predictions the worker scored came from Keras: the twin's dollars are the same.
    prepared = result.prepared
    dollars, *_ = score_period(
        prepared, twin_says.reshape(-1), prepared.test_start, prepared.test_count
    )
    np.testing.assert_allclose(dollars, result.predicted, rtol=TOLERANCE)
    # `predict` in chunks is the same numbers as one batch (to float32's last digit).
    chunked = network.predict(windows, batch_size=7)
    np.testing.assert_allclose(chunked, twin_says, rtol=0, atol=1e-6)


def test_the_look_ahead_paths_of_the_twin_are_keras_own(trained) -> None:
    result, network = trained
    keras_paths = origin_forecasts(result.model, result.prepared, 5)
    twin_paths = origin_forecasts(network, result.prepared, 5)
    np.testing.assert_allclose(twin_paths, keras_paths, rtol=TOLERANCE)


def test_the_twin_holds_keras_weights_and_its_bytes(trained) -> None:
    result, network = trained
    for mine, theirs in zip(network.get_weights(), result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert network.input_shape == (None, TINY.lag, 1)
    assert model_bytes(network) == network.content


def test_gates_and_saliency_of_the_twin_match_keras(series) -> None:
    result = run_training(TINY, series)
    network = read_network(model_to_bytes(result.model))
    window = result.prepared.x_test[len(result.prepared.x_test) // 2, :, 0]
    from_keras, from_twin = trace_window(result.model, window), trace_window(network, window)
    assert from_twin.prediction == from_keras.prediction
    for mine, theirs in zip(from_twin.layers, from_keras.layers, strict=True):
        np.testing.assert_array_equal(mine.forget, theirs.forget)
        np.testing.assert_array_equal(mine.hidden, theirs.hidden)
    # TensorFlow's gradient, in float32, against central differences in float64.
    gradient = input_saliency(result.model, window)
    differences = input_saliency(network, window)
    scale = np.max(np.abs(gradient))
    assert scale > 0
    np.testing.assert_allclose(differences, gradient, rtol=0, atol=TOLERANCE * max(1.0, scale))


def test_stored_bytes_load_as_a_twin_only_with_a_cluster(series, monkeypatch) -> None:
    result = run_training(TINY, series)
    content = model_to_bytes(result.model)
    monkeypatch.delenv(twin.CLUSTER_VARIABLE, raising=False)
    assert not isinstance(load_model_bytes(content), NetworkTwin)
    monkeypatch.setenv(twin.CLUSTER_VARIABLE, "tcp://127.0.0.1:8786")
    assert isinstance(load_model_bytes(content), NetworkTwin)
    ridge = run_training(TINY.with_changes(model="linear"), series).model
    assert type(load_model_bytes(ridge.to_bytes())) is type(ridge)


def test_the_twin_variable_is_the_clusters() -> None:
    from lstm_core.execution.cluster import ENVIRONMENT_VARIABLE

    assert twin.CLUSTER_VARIABLE == ENVIRONMENT_VARIABLE


def test_other_bytes_are_refused_in_one_sentence() -> None:
    with pytest.raises(ValueError, match=re.escape("the model bytes are not a .keras file")):
        read_network(b"not a zip file")


def test_reading_and_running_a_twin_imports_no_tensorflow(series, tmp_path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(model_to_bytes(run_training(TINY, series).model))
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from lstm_core.model.internals import input_saliency, trace_window\n"
        "from lstm_core.model.twin import read_network\n"
        f"network = read_network(open({str(path)!r}, 'rb').read())\n"
        "window = np.linspace(-1, 1, 12)\n"
        "network.predict_on_batch(window[None, :, None])\n"
        "trace_window(network, window)\n"
        "input_saliency(network, window)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert output.stdout.strip() == "False False"


def test_a_model_with_stored_code_is_refused_by_the_twin_and_its_code_never_runs(
    tmp_path, monkeypatch
) -> None:
    """The twin runs no stored code: a Lambda layer is a sentence, not a call."""
    from tests.test_safety import MARKER_VARIABLE, _lambda_model

    marker = tmp_path / "code_ran"
    monkeypatch.setenv(MARKER_VARIABLE, str(marker))
    content = model_to_bytes(_lambda_model())
    with pytest.raises(ValueError, match=re.escape("the twin cannot run layer")):
        read_network(content)
    monkeypatch.setenv(twin.CLUSTER_VARIABLE, "tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="of type Lambda"):
        load_model_bytes(content)
    assert not marker.exists()
