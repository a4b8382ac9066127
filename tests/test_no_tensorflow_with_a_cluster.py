"""With a Dask cluster configured, the page server never imports TensorFlow (issue 20, item 1).

Everything that needs Keras runs on a worker, and what comes back is read without Keras (the
NumPy twin, lstm_core.model.twin). A worker that cannot serve this server is one sentence.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from lstm_core.execution import cluster
from tests import dask_cluster
from tests.dask_cluster import local_cluster
from tests.test_app_pages import ROOT, new_app, texts


def test_a_server_with_a_cluster_trains_forecasts_backtests_tunes_and_looks_inside_without_tf(
    tmp_path,
) -> None:
    out = tmp_path / "figures.json"
    with local_cluster(tmp_path, workers=1) as started:
        environment = {
            **os.environ,
            cluster.ENVIRONMENT_VARIABLE: started.address,
            "LSTM_LAB_STORE": str(tmp_path / "runs.sqlite"),
            "PYTHONPATH": str(ROOT),
        }
        finished = subprocess.run(
            [sys.executable, "-m", "tests.server_with_cluster", str(out)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
        )
    assert finished.returncode == 0, finished.stderr[-4000:]
    figures = json.loads(out.read_text())
    assert figures["first_import"] is None, figures["first_import"]
    assert (figures["tensorflow"], figures["keras"]) == (False, False)

    train = figures["train"]
    assert train["worker"].startswith("tcp://127.0.0.1:") and train["model"] == "NetworkTwin"
    # The look-ahead's line and measured bands, computed here from the twin.
    assert {"LSTM forecast", "LSTM 80% band", "LSTM 95% band"} <= set(train["band_names"])
    assert train["forecast_days"] == 11 and train["coverage_said"]
    inside = figures["inside"]
    # The gates' prediction for the chosen day, from the twin's weights in NumPy, is the one
    # Keras made on the worker.
    assert inside["twin_price"] == pytest.approx(inside["worker_price"], abs=1e-3)
    assert inside["heatmaps"] == 5 and inside["reach_said"]
    assert inside["saliency_lines"] == ["LSTM", "SimpleRNN"]
    assert inside["saved_model"] == "NetworkTwin" and inside["saved_run_charts"] == 3
    assert figures["backtest"] == {"folds": 2, "forecasts": [[300, 3], [300, 3]]}
    assert figures["study"] == {"state": "done", "trials": 1, "judged": True}
    assert figures["warmed"] == 1


def _project_copy(folder, older: bool = False, without_keras: bool = False):
    """A clone of the project's code, maybe an older one (one file differs), maybe on a Python
    without Keras (a sitecustomize hides it)."""
    shutil.copytree(ROOT / "lstm_core", folder / "lstm_core")
    if older:
        config = folder / "lstm_core" / "config.py"
        config.write_text(config.read_text() + "\nOLDER_CLONE = True\n")
    if without_keras:
        (folder / "sitecustomize.py").write_text("import sys\nsys.modules['keras'] = None\n")
    return folder


@pytest.mark.parametrize(
    ("older", "without_keras", "sentence"),
    [
        (
            True,
            False,
            (
                "run another version of LSTM Stock Lab than this server: update their clone (git "
                "pull) and restart them (make worker)."
            ),
        ),
        (
            False,
            True,
            (
                "cannot import Keras, which runs every model on the cluster: install the "
                "project's requirements there (pip install -r requirements.txt) and restart "
                "them (make worker)."
            ),
        ),
    ],
)
def test_a_worker_that_cannot_serve_this_server_is_one_sentence_in_the_sidebar(
    tmp_path, monkeypatch, older, without_keras, sentence
) -> None:
    clone = _project_copy(tmp_path / "clone", older, without_keras)
    (tmp_path / "logs").mkdir()
    monkeypatch.setattr(dask_cluster, "ROOT", clone)
    with local_cluster(tmp_path / "logs", workers=1, preload=False) as started:
        monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, started.address)
        monkeypatch.setattr(cluster, "SHARED_CLUSTER", cluster.SharedCluster())
        at = new_app()
        at.switch_page("pages/train.py").run()
        assert not at.exception
        shown = texts(at)
    assert "The Dask worker(s) tcp://127.0.0.1:" in shown
    assert f"{sentence} Training runs on this server instead." in shown
