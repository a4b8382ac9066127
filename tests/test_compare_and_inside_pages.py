"""The Compare and Inside pages through AppTest, on runs trained for real with tiny models."""

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.experiments import store_database
from lstm_core.experiments.store import RunStore
from lstm_core.model.pipeline import run_training
from pages.shared.formatting import plain
from tests.plotly_json import values
from tests.postgres_server import free_port

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = TrainConfig(ticker="MSFT", lag=10, batch_size=64, epochs=1, units=(8, 8), dense_units=4)


def wait_for_job(at: AppTest) -> None:
    # A safety bound only, so a broken job cannot hang the suite; no speed is asserted.
    for _ in range(600):
        job = at.session_state["training_job"] if "training_job" in at.session_state else None
        if job is None or job.collected:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.fixture
def seeded_store(tmp_path, monkeypatch) -> tuple[RunStore, list]:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    store = RunStore()
    series = data.load_snapshot().series("MSFT")
    results = [run_training(TINY.with_changes(batch_size=size), series) for size in (32, 64)]
    for result in results:
        store.save(result)
    return store, results


def test_compare_page_overlays_saved_runs_and_deletes(seeded_store) -> None:
    store, results = seeded_store
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["batch"].tolist() == [64, 32]
    assert table["LSTM RMSE ($)"].tolist() == pytest.approx(
        [results[1].metrics["lstm"]["rmse"], results[0].metrics["lstm"]["rmse"]]
    )
    overlay, losses, parcoords = chart_specs(at)[:3]
    names = [trace["name"] for trace in overlay["data"]]
    assert names[1:] == [
        "real price",
        "#2 batch 64, seed 42",
        "#1 batch 32, seed 42",
        "tomorrow = today (baseline)",
    ]
    assert values(overlay["data"][2]["y"]) == pytest.approx(results[1].predicted)
    loss_names = [trace["name"] for trace in losses["data"]]
    # Each run's curve, and its no-skill line dotted in its colour (issue 22).
    assert loss_names == [
        "#2 batch 64, seed 42",
        "#2 batch 64, seed 42: no skill",
        "#1 batch 32, seed 42",
        "#1 batch 32, seed 42: no skill",
    ]
    assert parcoords["data"][0]["type"] == "parcoords"
    delete_runs_by_name(at, store)


def delete_runs_by_name(at: AppTest, store: RunStore) -> None:
    """Untouched, the page deletes nothing; picked by name and confirmed, it deletes those."""
    assert at.button(key="delete_runs").disabled
    at.run()
    assert "confirm_delete" not in [button.key for button in at.button]
    assert store.table()["id"].tolist() == [2, 1]
    picker = at.multiselect(key="runs_to_delete")
    assert picker.value == []
    assert picker.options == [
        "#2 MSFT lag 10, batch 64, seed 42",
        "#1 MSFT lag 10, batch 32, seed 42",
    ]
    picker.set_value(["#1 MSFT lag 10, batch 32, seed 42"]).run()
    at.button(key="delete_runs").click().run()
    assert store.table()["id"].tolist() == [2, 1]
    assert "#1 MSFT lag 10, batch 32, seed 42" in at.warning[-1].value
    at.button(key="cancel_delete").click().run()
    assert store.table()["id"].tolist() == [2, 1]
    assert "confirm_delete" not in [button.key for button in at.button]
    at.multiselect(key="runs_to_delete").set_value(["#1 MSFT lag 10, batch 32, seed 42"]).run()
    at.button(key="delete_runs").click().run()
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    assert store.table()["id"].tolist() == [2]
    assert any("Deleted 1 run(s)" in message.value for message in at.success)


def test_compare_page_repeats_seeds_and_reports_the_spread(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["train_settings"] = TINY
    at.switch_page("pages/compare.py").run()
    at.slider(key="seed_count").set_value(2).run()
    next(button for button in at.button if button.label.startswith("Your last settings")).click()
    at.run()
    wait_for_job(at)
    runs = at.session_state["training_job"].results
    assert [run.config.seed for run in runs] == [42, 7]
    rmse = np.array([run.metrics["lstm"]["rmse"] for run in runs])
    spread = next(frame.value for frame in at.dataframe if "mean" in frame.value.columns)
    row = spread[(spread["forecast"] == "LSTM") & (spread["metric"] == "RMSE ($)")].iloc[0]
    # Dollars to the cent, as on the Train page's cards.
    assert row["mean"] == f"${rmse.mean():,.2f}"
    # Sample standard deviation of two values by hand: |a - b| / sqrt(2).
    assert row["std"] == f"${abs(rmse[0] - rmse[1]) / np.sqrt(2):,.2f}"
    assert len(RunStore().table()) == 2


def test_inside_page_without_a_model_offers_the_quick_demo() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert any("no trained model" in info.value for info in at.info)
    assert any(button.label == "Train the quick demo" for button in at.button)
    assert len(at.get("latex")) == 5


def test_inside_page_explains_the_trained_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/train.py").run()
    at.slider(key="form_lag").set_value(10)
    at.select_slider(key="form_batch").set_value(64)
    at.slider(key="form_epochs").set_value(1)
    at.number_input(key="form_units1").set_value(8)
    at.number_input(key="form_units2").set_value(8)
    at.number_input(key="form_dense").set_value(4)
    # Daily changes with a validation period: the twin must turn a change into a price, and
    # the test windows start after the validation ones.
    at.radio(key="form_target").set_value("change")
    at.slider(key="form_validation").set_value(0.1)
    next(button for button in at.button if button.label == "Train").click().run()
    wait_for_job(at)
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    result = at.session_state["training_job"].result
    specs = chart_specs(at)
    window, first_layer, _second_layer, saliency = specs
    index = len(result.test_dates) // 2
    # The NumPy forward pass gives Keras' own prediction for the chosen day.
    assert values(window["data"][2]["y"])[0] == pytest.approx(result.predicted[index], abs=1e-3)
    assert values(window["data"][0]["y"]) == pytest.approx(
        result.prepared.prices[result.prepared.test_start + index :][:10]
    )
    gates = [trace for trace in first_layer["data"] if trace["type"] == "heatmap"]
    assert len(gates) == 5 and values(gates[0]["z"]).shape == (8, 10)
    assert np.all((values(gates[0]["z"]) > 0) & (values(gates[0]["z"]) < 1))
    assert len(values(saliency["data"][0]["y"])) == 10
    sentence = next(m.value for m in at.markdown if "of the influence comes from" in m.value)
    assert re.search(r"the last (\d+) of 10 days", sentence)


def test_private_runs_show_and_delete_only_this_sessions_runs(seeded_store, monkeypatch) -> None:
    """LSTM_LAB_PRIVATE_RUNS=1, for a class: no one sees or deletes another's saved runs."""
    store, results = seeded_store
    mine = store.save(results[0], owner="me")
    monkeypatch.setenv("LSTM_LAB_PRIVATE_RUNS", "1")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["owner"] = "me"
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist() == [mine]
    # Even a forged id list cannot reach the other runs (seeded with the owner "local").
    assert store.delete([1, 2, mine], owner="me") == 1
    assert sorted(store.table()["id"].tolist()) == [1, 2]

    stranger = AppTest.from_file(APP, default_timeout=120)
    stranger.switch_page("pages/compare.py").run()
    assert not stranger.exception
    assert any("No runs yet" in message.value for message in stranger.info)


def test_an_unreachable_database_is_said_and_the_default_store_used(seeded_store, monkeypatch):
    """A PostgreSQL URL nobody answers: one sentence on the page, runs from the default store."""
    store, _results = seeded_store
    monkeypatch.setattr(store_database, "DEFAULT_STORE_URL", store.url)
    port = free_port()
    monkeypatch.setenv("LSTM_LAB_STORE", f"postgresql+psycopg://lab:s3cret@127.0.0.1:{port}/runs")
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    sentence = (
        f"The run store at postgresql+psycopg://lab:***@127.0.0.1:{port}/runs could not be "
        "opened (Connection refused); check LSTM_LAB_STORE. Until that is fixed, runs are saved "
        f"in this machine's own store ({store.url}), which only this app server sees."
    )
    said = [warning.value for warning in at.warning]
    # Shown as text: the mask's *** must not read as Markdown.
    assert said == [plain(sentence)]
    assert at.dataframe[0].value["id"].tolist() == [2, 1]
    # The other pages say it in the sidebar. (AppTest shows the sidebar on a session's first
    # run only, so a new session is given the store the Compare page opened.)
    market = AppTest.from_file(APP, default_timeout=120)
    market.session_state["run_store"] = at.session_state["run_store"]
    market.run()
    assert [warning.value for warning in market.sidebar.warning] == said


def test_a_tuning_trial_run_shows_a_dash_for_every_test_figure(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    store = RunStore()
    series = data.load_snapshot().series("MSFT")
    tried = TINY.with_changes(validation_fraction=0.1)
    store.save(run_training(tried, series))
    store.save(run_training(tried, series, score_test=False), group="tune")
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    shown = at.dataframe[0]
    table = shown.value
    assert table["group"].tolist() == ["tune", ""]
    test_columns = ["LSTM RMSE ($)", "baseline RMSE ($)", "LSTM / baseline", "DM p (test)"]
    assert table.loc[0, test_columns].isna().all()
    assert table.loc[1, test_columns].notna().all()
    assert table["validation ratio"].notna().all()
    # Missing cells read as a dash (the table's styler), and the ratio's tooltip says why.
    from pages.sections.compare_runs import MISSING, styled

    assert MISSING in styled(shown.value).to_html()
    columns = json.loads(shown.proto.columns)
    assert (
        "a tuning trial, scored on the validation period only" in columns["LSTM / baseline"]["help"]
    )
    assert any("never predicted on the test period" in caption.value for caption in at.caption)
    overlay = chart_specs(at)[0]
    assert [trace["name"] for trace in overlay["data"]][2:3] == ["#1 batch 64, seed 42"]
