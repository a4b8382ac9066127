"""The forecast and backtest from the command line and on the pages (AppTest), tiny models."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.forecasting.forecast import look_ahead
from lstm_core.model.pipeline import run_training
from tests.plotly_json import values
from tests.test_cli import run_cli
from tests.test_look_ahead import TINY as CORE_TINY

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = CORE_TINY.with_changes(ticker="MSFT")
TINY_OPTIONS = [
    *("--lag 10 --batch-size 128 --epochs 1 --units 8 --dense-units 0".split()),
    *("--target change --validation-fraction 0.1".split()),
]


def test_forecast_cli_writes_forecast_bands_and_coverage(tmp_path, capsys) -> None:
    out = tmp_path / "ahead.json"
    status, stdout, stderr = run_cli(
        ["forecast", *TINY_OPTIONS, "--horizon", "6", "--json", str(out)], capsys
    )
    assert (status, stderr) == (0, "")
    written = json.loads(out.read_text())
    forecast = written["forecast"]
    assert forecast["dates"][0] == "2021-04-01"  # the snapshot ends on Wednesday 2021-03-31
    assert len(forecast["price"]) == 6 and len(written["persistence_forecast"]["lower95"]) == 6
    for day in range(6):
        assert forecast["lower95"][day] <= forecast["lower80"][day] <= forecast["price"][day]
        assert forecast["price"][day] <= forecast["upper80"][day] <= forecast["upper95"][day]
    last_price = data.load_snapshot().series("MSFT").iloc[-1]
    assert written["persistence_forecast"]["price"] == pytest.approx([last_price] * 6)
    assert set(written["coverage"]) == {"80", "95"}
    assert set(written["coverage"]["95"]) == {"1", "5", "H"}
    assert "the 80% band held" in stdout and "holidays are not known" in stdout
    # No early stopping: all 151 validation days calibrate, up to the day before the test days.
    validation_end = data.load_snapshot().series("MSFT").index[math.floor(0.8 * 1511) - 1]
    assert f"to {validation_end:%Y-%m-%d}: the whole validation period" in stdout
    assert written["calibration"]["origins"] == 151
    # The last training target sits right before the validation days, which end where the
    # test days start (floor(0.8 n)); the model learned from no later day.
    dates = data.load_snapshot().series("MSFT").index
    last_trained = dates[math.floor(0.8 * len(dates)) - math.floor(0.1 * len(dates)) - 1]
    assert written["trained_through"] == f"{last_trained:%Y-%m-%d}"
    assert f"trained on days up to {last_trained:%Y-%m-%d}" in stdout


def test_backtest_cli_writes_folds_and_errors_by_horizon(tmp_path, capsys) -> None:
    out = tmp_path / "backtest.json"
    status, stdout, stderr = run_cli(
        ["backtest", *TINY_OPTIONS, "--folds", "2", "--horizon", "3", "--json", str(out)], capsys
    )
    assert (status, stderr) == (0, "")
    written = json.loads(out.read_text())
    assert len(written["folds"]) == 2
    for fold in written["folds"]:
        assert {"origin", "n_train", "test_dates", "metrics", "comparison"} <= set(fold)
        lstm, naive = fold["metrics"]["lstm"]["rmse"], fold["metrics"]["persistence"]["rmse"]
        assert fold["comparison"]["rmse_ratio"] == pytest.approx(lstm / naive)
    # The two test blocks cover the last 40% of the windows, back to back.
    windows = len(data.load_snapshot().series("MSFT")) - 10
    assert sum(len(fold["test_dates"]) for fold in written["folds"]) == int(0.4 * windows)
    assert written["folds"][1]["test_dates"][-1] == "2021-03-31"
    assert {len(written["by_horizon"][name]) for name in ("lstm", "persistence")} == {3}
    assert written["seconds"] > 0
    assert "ratio" in stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["forecast", "--horizon", "0"], "error: the horizon must be between 1 and 30"),
        (["forecast", "--horizon", "31"], "error: the horizon must be between 1 and 30"),
        (["backtest", "--folds", "1"], "error: the number of folds must be between 2 and 10"),
        (["backtest", "--folds", "11"], "error: the number of folds must be between 2 and 10"),
        (["backtest", "--horizon", "31"], "error: the horizon must be between 1 and 30"),
        (["forecast"], "error: The forecast's bands are measured on a validation period"),
        (
            ["forecast", "--patience", "1", "--validation-fraction", "0.05"],
            (
                "error: With early stopping on, the bands are measured only on the later half "
                "of the validation period, the 37 days early stopping did not watch; they need "
                "at least 60, so 120 validation days (a validation share of at least 8%)."
            ),
        ),
    ],
)
def test_bad_forecast_and_backtest_input_exits_2_with_one_line(
    capsys, tmp_path, arguments, message
) -> None:
    out = tmp_path / "never.json"
    status, stdout, stderr = run_cli([*arguments, "--json", str(out)], capsys)
    assert (status, stdout) == (2, "")
    assert stderr.startswith(message) and stderr.count("\n") == 1, stderr
    assert not out.exists()


def test_too_little_history_for_the_folds_exits_2(tmp_path, capsys) -> None:
    days = pd.bdate_range("2021-01-01", periods=45)
    rows = "".join(f"{day:%Y-%m-%d},{100 + index}\n" for index, day in enumerate(days))
    short = tmp_path / "short.csv"
    short.write_text("Date,Close\n" + rows)
    status, stdout, stderr = run_cli(
        ["backtest", "--csv", str(short), "--lag", "10", "--batch-size", "8", "--folds", "5"],
        capsys,
    )
    assert (status, stdout) == (2, "")
    assert stderr.startswith(
        "error: There are 45 prices; a backtest of 5 folds at a lag of 10 days needs at least"
    )
    assert stderr.count("\n") == 1


def wait_until_collected(at: AppTest, key: str) -> None:
    # A safety bound only, so a broken job cannot hang the suite; no speed is asserted.
    for _ in range(600):
        job = at.session_state[key] if key in at.session_state else None
        if job is None or job.collected:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception


def chart(at: AppTest, title_start: str) -> dict:
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if spec["layout"]["title"]["text"].startswith(title_start):
            return spec
    raise AssertionError(f"no chart titled {title_start!r}")


def test_look_ahead_section_draws_the_fan_chart_and_coverage() -> None:
    result = run_training(TINY, data.load_snapshot().series("MSFT"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["results"] = {"tiny": result}
    at.session_state["current_result"] = "tiny"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.slider(key="ahead_horizon").value == 10
    fan = chart(at, "The next 10 trading days")
    traces = {trace.get("name"): trace for trace in fan["data"]}
    forecast = values(traces["LSTM forecast"]["y"])
    assert len(forecast) == 11 and forecast[0] == pytest.approx(result.prepared.prices[-1])
    assert len(values(traces["real price"]["y"])) == 120
    assert {"LSTM 80% band", "LSTM 95% band", "random-walk 80% band"} <= set(traces)
    ahead = look_ahead(result.model, result.prepared, 10)
    text = " ".join(block.value for block in at.markdown)
    assert (
        f"the 80% band held the real price {ahead.coverage[0.8][1]:.0%} of the time at 1 day, "
        f"{ahead.coverage[0.8][5]:.0%} at 5 days and {ahead.coverage[0.8][10]:.0%} at 10 days"
    ) in text
    assert any("holidays are not known" in caption.value for caption in at.caption)
    trained_through = f"{result.prepared.trained_through:%Y-%m-%d}"
    assert any(
        f"trained on days up to {trained_through}" in caption.value for caption in at.caption
    )

    at.slider(key="ahead_horizon").set_value(3).run()
    assert not at.exception
    fan = chart(at, "The next 3 trading days")
    shorter = values(next(t for t in fan["data"] if t.get("name") == "LSTM forecast")["y"])
    np.testing.assert_allclose(shorter, forecast[:4])


def test_look_ahead_without_validation_shows_the_line_and_says_why() -> None:
    result = run_training(
        TINY.with_changes(validation_fraction=0.0), data.load_snapshot().series("MSFT")
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["results"] = {"plain": result}
    at.session_state["current_result"] = "plain"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    names = {trace.get("name") for trace in chart(at, "The next 10")["data"]}
    assert "LSTM forecast" in names and "LSTM 80% band" not in names
    assert any("bands are measured on a validation period" in box.value for box in at.info)

    # A run loaded from the store has no model: the section says so instead of forecasting.
    at.session_state["results"] = {"plain": dataclasses.replace(result, model=None)}
    at.run()
    assert not at.exception
    assert any("loaded without its trained model" in box.value for box in at.info)
    assert not [element for element in at.get("plotly_chart") if "The next" in element.proto.spec]


def test_look_ahead_with_early_stopping_names_its_calibration_days_or_says_why_none() -> None:
    series = data.load_snapshot().series("MSFT")
    stopping = TINY.with_changes(epochs=2, patience=1)
    result = run_training(stopping, series)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["results"] = {"stopping": result}
    at.session_state["current_result"] = "stopping"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    # 151 validation days (floor(0.1 x 1511)): early stopping watched the first 76, the bands
    # are measured on the other 75, which end the day before the test period starts.
    validation_dates = result.prepared.validation_dates
    assert len(validation_dates) == 151
    expected = (
        f"the last 75 validation days from {validation_dates[76]:%Y-%m-%d} to "
        f"{validation_dates[-1]:%Y-%m-%d}, which early stopping did not watch"
    )
    assert any(expected in caption.value for caption in at.caption)

    short = run_training(stopping.with_changes(validation_fraction=0.05), series)
    at.session_state["results"] = {"short": short}
    at.session_state["current_result"] = "short"
    at.run()
    assert not at.exception
    names = {trace.get("name") for trace in chart(at, "The next 10")["data"]}
    assert "LSTM forecast" in names and "LSTM 80% band" not in names
    assert any(
        "the 37 days early stopping did not watch" in box.value
        and "a validation share of at least 8%" in box.value
        for box in at.info
    )


def test_backtest_page_runs_folds_in_the_background_and_charts_them() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["train_settings"] = TINY
    at.switch_page("pages/backtest.py").run()
    assert not at.exception
    at.selectbox(key="backtest_settings").set_value("Your last settings on Train & Predict")
    at.slider(key="backtest_folds").set_value(2)
    at.slider(key="backtest_horizon").set_value(3)
    at.button[0].click().run()
    wait_until_collected(at, "backtest_job")
    result = at.session_state["backtest_result"]
    assert len(result.folds) == 2 and not result.stopped
    bars = chart(at, "One-day error of each fold")
    np.testing.assert_allclose(values(bars["data"][0]["y"]), result.ratios())
    by_horizon = chart(at, "Typical error by days ahead")
    np.testing.assert_allclose(values(by_horizon["data"][1]["y"]), result.by_horizon["persistence"])
    stitched = chart(at, "Each fold's one-day forecasts")
    assert len(values(stitched["data"][0]["y"])) == sum(len(f.actual) for f in result.folds)
    assert at.dataframe[0].value["ratio"].tolist() == pytest.approx(list(result.ratios()))
    assert "Of the 2 blocks: " in at.info[0].value

    # Saved in the run store: a new session (as after a restart) opens on the same backtest.
    later = AppTest.from_file(APP, default_timeout=120)
    later.switch_page("pages/backtest.py").run()
    assert not later.exception
    assert any(
        "Saved backtest #" in caption.value and "nothing retrained" in caption.value
        for caption in later.caption
    )
    bars = chart(later, "One-day error of each fold")
    np.testing.assert_allclose(values(bars["data"][0]["y"]), result.ratios())


def test_backtest_page_refuses_folds_the_history_cannot_hold() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["train_settings"] = TINY.with_changes(lag=600, batch_size=512)
    at.switch_page("pages/backtest.py").run()
    at.selectbox(key="backtest_settings").set_value("Your last settings on Train & Predict")
    at.slider(key="backtest_folds").set_value(10)
    at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value.startswith("This backtest cannot run: There are")
    assert "backtest_job" not in at.session_state
