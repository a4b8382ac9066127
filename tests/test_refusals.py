"""Bad settings are refused with a sentence in the form; safety settings stay in place."""

import ast
import tomllib
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.model import model_from_bytes, model_to_bytes
from lstm_core.pipeline import run_training
from lstm_core.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def short_data(rows: int) -> data.PriceData:
    snapshot = data.load_snapshot()
    frame = snapshot.frame[snapshot.frame["Ticker"] == "MSFT"].head(rows).reset_index(drop=True)
    return data.PriceData(frame=frame, source="upload", description=f"a file of {rows} rows")


def submit(at: AppTest, lag: int, batch: int) -> None:
    at.slider(key="form_lag").set_value(lag)
    at.select_slider(key="form_batch").set_value(batch)
    at.slider(key="form_epochs").set_value(1)
    next(button for button in at.button if button.label == "Train").click().run()


@pytest.mark.parametrize(
    ("rows", "lag", "batch", "sentence"),
    [
        (80, 80, 8, "There are 80 prices; a lag of 80 days with a train share of 80%"),
        (80, 10, 64, "The batch size 64 is larger than the 56 training windows"),
    ],
)
def test_impossible_settings_are_refused_in_the_form(rows, lag, batch, sentence) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["price_data"] = short_data(rows)
    at.switch_page("pages/train.py").run()
    submit(at, lag, batch)
    assert not at.exception
    assert "training_job" not in at.session_state
    assert any(sentence in error.value for error in at.error), [e.value for e in at.error]


@pytest.mark.parametrize(
    "query",
    [
        {"lag": "0"},
        {"epochs": "0"},
        {"train_fraction": "1"},
        {"train_fraction": "0"},
        {"seed": "abc"},
        {"ticker": "../../etc"},
    ],
)
def test_bad_settings_in_a_link_are_refused_with_a_sentence(query: dict) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("could not be used" in warning.value for warning in at.warning)
    assert at.slider(key="form_lag").value == 30  # the quick demo's defaults are shown


def test_no_page_passes_user_text_through_unsafe_html() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "unsafe_allow_html":
                    assert isinstance(keyword.value, ast.Constant) and not keyword.value.value, (
                        f"{path.name}:{node.lineno} allows raw HTML"
                    )


def test_streamlit_config_keeps_xsrf_protection_and_caps_uploads() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= data.MAX_UPLOAD_BYTES // (1024 * 1024)


def test_store_sql_is_parameterized(tmp_path) -> None:
    generator = np.random.default_rng(5)
    series = pd.Series(
        50 + np.cumsum(generator.normal(0, 0.5, 150)),
        index=pd.bdate_range("2021-01-01", periods=150),
    )
    config = TrainConfig(ticker="SYN", lag=10, batch_size=32, epochs=1, units=(8,), dense_units=0)
    result = run_training(config, series)
    store = RunStore(tmp_path / "runs.sqlite")
    hostile = "x'); DROP TABLE runs; --"
    run_id = store.save(result, owner=hostile, group=hostile)
    table = store.table(owner=hostile)
    assert table["id"].tolist() == [run_id] and table["group"].tolist() == [hostile]
    assert store.table(owner="' OR '1'='1").empty


def test_saved_models_load_in_safe_mode_only() -> None:
    inputs = keras.Input(shape=(3, 1))
    outputs = keras.layers.Lambda(lambda tensor: tensor * 2)(inputs)
    content = model_to_bytes(keras.Model(inputs, outputs))
    with pytest.raises(ValueError, match="safe_mode"):
        model_from_bytes(content)
