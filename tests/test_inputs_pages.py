"""What the network sees, on the pages: the Train form's choice and its link, a refusal for
data that cannot supply an input, and the Compare lineup with input sets and shuffled controls."""

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import INPUTS, TrainConfig
from lstm_core.data.prices import PriceData
from lstm_core.experiments import controls, lineup
from lstm_core.model.pipeline import run_training
from tests.test_compare_and_inside_pages import wait_for_job

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SETTINGS = TrainConfig(
    lag=10, batch_size=64, epochs=1, units=(8,), dense_units=0, target="change",
    validation_fraction=0.1,
)  # fmt: skip


def test_the_form_offers_each_input_with_its_sentence_and_trains_them(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/train.py").run()
    choice = at.multiselect(key="form_inputs")
    assert choice.value == [] and list(choice.options) == ["Volume", "Daily range", "Market"]
    for words in ("log of that day's volume", "(high - low) / close", "other companies"):
        assert words in choice.help
    at.slider(key="form_lag").set_value(10)
    at.radio(key="form_model").set_value("linear")
    at.multiselect(key="form_inputs").set_value(["volume", "market"])
    next(button for button in at.button if button.label == "Train").click().run()
    wait_for_job(at)
    at.run()
    assert not at.exception
    result = at.session_state["training_job"].result
    assert result.config.inputs == ("close", "volume", "market")
    assert result.layers == [("ridge", "Ridge", 10 * 3 + 1)]
    assert at.query_params["inputs"] in ("close,volume,market", ["close,volume,market"])
    assert any("cannot forecast them" in info.value for info in at.info)


def test_a_link_sets_the_inputs_and_a_bad_one_is_refused() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["inputs"] = "close,range"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.multiselect(key="form_inputs").value == ["range"]

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["inputs"] = "close,sentiment"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.multiselect(key="form_inputs").value == []
    assert any("unknown input 'sentiment'" in warning.value for warning in at.warning)


def test_data_without_volume_refuse_the_input_and_start_nothing() -> None:
    snapshot = data.load_snapshot()
    frame = snapshot.frame.copy()
    frame["Volume"] = float("nan")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["price_data"] = PriceData(frame=frame, source="upload", description="x")
    at.switch_page("pages/train.py").run()
    at.multiselect(key="form_inputs").set_value(["volume"])
    next(button for button in at.button if button.label == "Train").click().run()
    assert not at.exception
    assert any("needs a Volume column" in error.value for error in at.error)
    assert "training_job" not in at.session_state or at.session_state["training_job"] is None


def test_the_lineup_trains_input_sets_and_judges_each_shuffled_control(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["train_settings"] = SETTINGS
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="lineup_models").set_value(["linear"])
    at.slider(key="lineup_seeds").set_value(2)
    at.multiselect(key="lineup_inputs").set_value(
        ["The close alone", "Close, volume, range and market"]
    )
    at.checkbox(key="lineup_controls").check()
    next(button for button in at.button if button.label == "Train the lineup").click().run()
    wait_for_job(at)
    at.run()
    assert not at.exception
    shown = next(frame.value for frame in at.dataframe if "shuffled" in frame.value.columns)
    assert list(shown["model"]) == [
        "Ridge (linear)",
        "Ridge (linear) + volume+range+market",
        "Ridge (linear) + volume+range+market (volume shuffled)",
        "Ridge (linear) + volume+range+market (range shuffled)",
        "Ridge (linear) + volume+range+market (market shuffled)",
    ]
    # Independent reference: the same runs trained here, the table and sentences rebuilt.
    series = data.load_snapshot().series("MSFT")
    base = SETTINGS.with_changes(model="linear", ticker="MSFT")
    configs = lineup.lineup_configs(base, ["linear"], [42, 7], [("close",), INPUTS], True)
    table = lineup.lineup_table([run_training(config, series) for config in configs])
    pd.testing.assert_series_equal(
        shown["validation ratio"].reset_index(drop=True),
        table["validation ratio"].reset_index(drop=True),
        check_names=False,
    )
    infos = [info.value for info in at.info]
    for sentence in controls.lineup_control_sentences(table):
        assert sentence in infos


def test_the_lineup_refuses_controls_without_an_extra_input() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["train_settings"] = SETTINGS
    at.switch_page("pages/compare.py").run()
    at.checkbox(key="lineup_controls").check()
    next(button for button in at.button if button.label == "Train the lineup").click().run()
    assert not at.exception
    assert any("needs an input set with an extra input" in error.value for error in at.error)


def test_the_inside_page_explains_a_run_with_extra_inputs() -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    series = data.load_snapshot().series("MSFT")
    result = run_training(SETTINGS.with_changes(inputs=("close", "range")), series)
    at.session_state["results"] = {"run": result}
    at.session_state["current_result"] = "run"
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert any("also sees range" in info.value for info in at.info)
