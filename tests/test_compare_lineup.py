"""The Compare page's lineup section through AppTest, on tiny runs trained for real."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.model.pipeline import run_training
from tests.plotly_json import values
from tests.test_compare_and_inside_pages import wait_for_job

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SETTINGS = TrainConfig(
    lag=10,
    batch_size=64,
    epochs=1,
    units=(8,),
    dense_units=0,
    target="change",
    validation_fraction=0.1,
)


def test_the_lineup_charts_each_model_against_persistence_and_names_the_simplest(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["train_settings"] = SETTINGS
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="lineup_models").set_value(["lstm", "linear"])
    at.slider(key="lineup_seeds").set_value(2)
    next(button for button in at.button if button.label == "Train the lineup").click().run()
    wait_for_job(at)
    at.run()
    assert not at.exception

    chart = next(
        json.loads(element.proto.spec)
        for element in at.get("plotly_chart")
        if "tomorrow = today" in element.proto.spec and '"barmode":"group"' in element.proto.spec
    )
    validation, test = chart["data"]
    assert validation["name"] == "validation period" and test["name"] == "held-out test period"
    assert list(test["x"]) == ["LSTM", "Ridge (linear)"]
    # Independent reference: the ridge retrained here, and the LSTM's two seeds averaged.
    series = data.load_snapshot().series("MSFT")
    ridge = run_training(SETTINGS.with_changes(model="linear"), series)
    ridge_ratio = ridge.metrics["lstm"]["rmse"] / ridge.metrics["persistence"]["rmse"]
    assert values(test["y"])[1] == pytest.approx(ridge_ratio)
    assert values(test["error_y"]["array"])[1] == pytest.approx(0.0)
    lstm_runs = [run_training(SETTINGS.with_changes(seed=seed), series) for seed in (42, 7)]
    lstm_ratios = [
        run.metrics["lstm"]["rmse"] / run.metrics["persistence"]["rmse"] for run in lstm_runs
    ]
    assert values(test["y"])[0] == pytest.approx(sum(lstm_ratios) / 2, rel=1e-5)
    sentence = next(info.value for info in at.info if "within luck of the best is" in info.value)
    assert "validation period" in sentence
