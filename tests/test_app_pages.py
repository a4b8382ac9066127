"""Every page through Streamlit's AppTest, as a person would use it."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.plotly_json import values

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "info", "warning", "error", "success", "caption"):
        parts.extend(element.value for element in at.get(kind))
    return "\n".join(str(part) for part in parts)


def set_tiny_settings(at: AppTest, lag: int = 10, epochs: int = 1, seed: int = 42) -> None:
    at.slider(key="form_lag").set_value(lag)
    at.select_slider(key="form_batch").set_value(64)
    at.slider(key="form_epochs").set_value(epochs)
    at.number_input(key="form_units1").set_value(8)
    at.number_input(key="form_units2").set_value(8)
    at.number_input(key="form_dense").set_value(4)
    at.number_input(key="form_seed").set_value(seed)


def click_train_and_wait(at: AppTest) -> None:
    at.button[[button.label for button in at.button].index("Train")].click().run()
    # A safety bound only, so a broken job cannot hang the suite; no speed is asserted.
    for _ in range(600):
        job = at.session_state["training_job"] if "training_job" in at.session_state else None
        if job is None or job.collected:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception


def test_market_page_shows_four_facets_from_the_snapshot() -> None:
    at = new_app().switch_page("pages/market.py").run()
    assert not at.exception
    facets = figure(at, 0)
    names = [trace["name"] for trace in facets["data"]]
    assert names == ["AAPL", "GOOG", "MSFT", "AMZN"]
    snapshot = pd.read_csv(ROOT / "data" / "prices_2015-04-01_2021-03-31.csv")
    msft = snapshot[snapshot["Ticker"] == "MSFT"]["Adj Close"].to_numpy()
    assert values(facets["data"][2]["y"]) == pytest.approx(msft)
    titles = [annotation["text"] for annotation in facets["layout"]["annotations"]]
    assert "Microsoft (MSFT)" in titles and "Apple (AAPL)" in titles
    assert "Bundled snapshot" in texts(at)


def linked_y_axes(layout: dict) -> list[str]:
    return [
        value.get("matches")
        for name, value in layout.items()
        if name.startswith("yaxis") and value.get("matches")
    ]


def test_market_toggle_shares_the_price_axis() -> None:
    at = new_app().switch_page("pages/market.py").run()
    assert linked_y_axes(figure(at, 0)["layout"]) == []
    at.toggle[0].set_value(True).run()
    # Three of the four panels follow the fourth's price axis.
    linked = linked_y_axes(figure(at, 0)["layout"])
    assert len(linked) == 3 and len(set(linked)) == 1


def test_market_page_does_not_import_tensorflow() -> None:
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}, default_timeout=60)\n"
        "at.switch_page('pages/market.py').run()\n"
        "assert not at.exception, at.exception\n"
        # A second run: the background warm-up must not start outside a real server.
        "at.run()\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert output.stdout.strip().splitlines()[-1] == "False False"


def test_chosen_ticker_stays_chosen_on_the_train_page() -> None:
    at = new_app().switch_page("pages/market.py").run()
    at.selectbox(key="market_ticker").set_value("AMZN").run()
    at.switch_page("pages/train.py").run()
    assert at.selectbox[1].value == "AMZN"


def test_train_page_trains_and_shows_overlay_metrics_and_reuses_result() -> None:
    at = new_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    set_tiny_settings(at)
    click_train_and_wait(at)
    overlay = figure(at, 0)
    names = [trace["name"] for trace in overlay["data"]]
    assert names == [
        "training prices",
        "real price",
        "LSTM prediction",
        "tomorrow = today (baseline)",
    ]
    metrics = at.dataframe[0].value
    assert list(metrics.columns) == ["metric", "LSTM", "Tomorrow = today"]
    assert "RMSE ($)" in metrics["metric"].tolist()
    assert "On the held-out test period the LSTM's typical error is" in texts(at)
    # MSFT's test prices mostly lie above every training price; the page says so.
    assert "of the test days closed above $" in texts(at)
    assert at.query_params["lag"] == ["10"] or at.query_params["lag"] == "10"
    first_job = at.session_state["training_job"]

    click_train_and_wait(at)
    assert at.session_state["training_job"] is first_job
    assert "showing that result at once" in texts(at)

    at.switch_page("pages/market.py").run()
    at.switch_page("pages/train.py").run()
    assert [trace["name"] for trace in figure(at, 0)["data"]][2] == "LSTM prediction"


def test_a_page_run_keeps_keras_global_state() -> None:
    """Streamlit would call keras.backend.clear_session() after every run; the app stops it.

    That clean-up reset Keras' global state under trainings running in other threads, and its
    gc.collect() after each rerun of each open page stalled training with several sessions.
    """
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("lstm_lab_probe", 42)
    at = new_app().run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert global_state.get_global_attribute("lstm_lab_probe") == 42


@pytest.mark.parametrize("page", ["pages/compare.py", "pages/inside.py"])
def test_other_pages_render_without_a_trained_model(page: str) -> None:
    at = new_app()
    at.switch_page(page).run()
    assert not at.exception
    assert "Train" in texts(at)


def test_summary_table_matches_the_snapshot() -> None:
    from lstm_core import data

    at = new_app().switch_page("pages/market.py").run()
    summary = at.dataframe[0].value
    frame = pd.read_csv(data.SNAPSHOT_PATH)
    msft = frame[frame["Ticker"] == "MSFT"]
    row = summary[summary.iloc[:, 0].astype(str).str.contains("Microsoft")].iloc[0]
    assert float(row["Last price"]) == pytest.approx(msft["Adj Close"].iloc[-1], rel=1e-6)


def test_refresh_failure_says_so_and_keeps_the_data(monkeypatch) -> None:
    from lstm_core import data
    from lstm_core.errors import RefreshError

    def offline(*arguments, **keywords):
        raise RefreshError("Yahoo Finance could not be reached (no network?).")

    monkeypatch.setattr(data, "refresh_from_yahoo", offline)
    at = new_app().switch_page("pages/market.py").run()
    next(button for button in at.button if button.label == "Refresh from Yahoo Finance").click()
    at.run()
    assert not at.exception
    assert [error.value for error in at.error] == [
        "Yahoo Finance could not be reached (no network?)."
    ]
    assert len(figure(at, 0)["data"]) == 4
    assert at.session_state["price_data"].source == "snapshot"


def test_refresh_success_replaces_the_data_and_says_when(monkeypatch) -> None:
    from lstm_core import data

    snapshot = data.load_snapshot()
    newer = data.PriceData(
        frame=snapshot.frame[snapshot.frame["Date"] >= "2020-01-01"].reset_index(drop=True),
        source="yahoo",
        description="Refreshed from Yahoo Finance on 2026-11-28 14:00 UTC",
    )
    monkeypatch.setattr(data, "refresh_from_yahoo", lambda *arguments, **keywords: newer)
    at = new_app().switch_page("pages/market.py").run()
    next(button for button in at.button if button.label == "Refresh from Yahoo Finance").click()
    at.run()
    assert not at.exception
    assert "Refreshed from Yahoo Finance on 2026-11-28 14:00 UTC" in texts(at)
    assert len(values(figure(at, 0)["data"][0]["y"])) == len(
        newer.frame[newer.frame["Ticker"] == "AAPL"]
    )


def test_stop_keeps_the_model_trained_so_far() -> None:
    at = new_app()
    at.switch_page("pages/train.py").run()
    set_tiny_settings(at, epochs=100)
    at.button[[button.label for button in at.button].index("Train")].click().run()
    job = at.session_state["training_job"]
    # Wait until training has really started, then press Stop as a person would.
    for _ in range(600):
        if job.progress is not None and job.progress.epoch_losses:
            break
        time.sleep(0.2)
    at.run()
    at.button(key="train_stop").click().run()
    for _ in range(600):
        if job.collected:
            break
        time.sleep(0.5)
        at.run()
    assert job.state == "stopped" and job.stop_reason == "stopped by you"
    result = job.result
    assert 1 <= result.epochs_completed < 100
    expected = f"Training was stopped after {result.epochs_completed} full epoch(s) of 100"
    assert any(expected in warning.value for warning in at.warning)
    assert [trace["name"] for trace in figure(at, 0)["data"]][2] == "LSTM prediction"
    # Wherever the run is named, it says how far it got: never "100 epochs" after a few.
    stopped = f"stopped at {result.epochs_completed} of 100 epochs"
    assert any(stopped in heading.value for heading in at.subheader if "Result:" in heading.value)
    at.switch_page("pages/inside.py").run()
    assert any(stopped in heading.value for heading in at.subheader)
    at.switch_page("pages/compare.py").run()
    newest = at.dataframe[0].value.iloc[0]
    assert newest["epochs"] == f"stopped at {result.epochs_completed} of 100"


def test_training_status_shows_in_the_sidebar_except_on_the_page_showing_it() -> None:
    from lstm_core import data
    from lstm_core.config import QUICK_DEMO
    from lstm_core.execution.jobs import TrainingJob

    def waits_for_stop(config, series, progress, should_stop):
        for _ in range(6000):  # a bound only, so a broken test cannot hang
            if should_stop():
                break
            time.sleep(0.01)
        raise ValueError("stopped by the test")

    series = data.load_snapshot().series("MSFT")
    running = TrainingJob(QUICK_DEMO, series, runner=waits_for_stop).start()
    at = new_app()
    at.session_state["training_job"] = running
    try:
        at.run()
        sidebar = [caption.value for caption in at.sidebar.caption]
        assert any(text.startswith("Training MSFT: ") for text in sidebar), sidebar
        # AppTest draws the sidebar on a session's first run only, so the Train page gets a
        # session of its own; its data line proves the sidebar was drawn at all.
        on_train = new_app()
        on_train.session_state["training_job"] = running
        on_train.switch_page("pages/train.py").run()
        sidebar = [caption.value for caption in on_train.sidebar.caption]
        assert any(text.startswith("Data: ") for text in sidebar), sidebar
        assert not any(text.startswith("Training MSFT") for text in sidebar), sidebar
        assert on_train.get("progress"), "the Train page itself shows the progress"
    finally:
        running.request_stop()
        running.wait(60)


def test_train_page_learns_changes_with_validation_and_early_stopping() -> None:
    """The form's new settings reach the run; both periods' verdicts and the kept epoch show."""
    at = new_app()
    at.switch_page("pages/train.py").run()
    set_tiny_settings(at, epochs=3)
    at.radio(key="form_target").set_value("change")
    at.slider(key="form_validation").set_value(0.1)
    at.number_input(key="form_patience").set_value(1)
    click_train_and_wait(at)
    result = at.session_state["results"][at.session_state["current_result"]]
    assert (result.config.target, result.config.validation_fraction) == ("change", 0.1)
    shown = texts(at)
    validation_ratio = result.validation["comparison"]["rmse_ratio"]
    assert f"On the validation period the LSTM's typical error is {validation_ratio:.2f}x" in shown
    assert (
        f"held-out test period the LSTM's typical error is {result.comparison['rmse_ratio']:.2f}x"
        in shown
    )
    assert f"epoch {result.best_epoch}'s weights" in shown
    assert "Validation period" in shown and "Held-out test period" in shown
    loss = next(
        spec
        for spec in (figure(at, index) for index in range(len(at.get("plotly_chart"))))
        if spec["layout"]["title"]["text"] == "Training and validation loss"
    )
    assert [trace["name"] for trace in loss["data"]][:2] == ["training loss", "validation loss"]
    assert values(loss["data"][1]["y"]) == pytest.approx(result.validation_loss_history)
    # Issue 22: the loss chart draws what predicting no change scores on each period (for
    # daily changes, the mean squared scaled target), and one sentence places the loss on it.
    lines = {trace["name"]: values(trace["y"])[0] for trace in loss["data"]}
    prepared = result.prepared
    assert lines["no skill (training)"] == pytest.approx(np.mean(prepared.y_train**2), rel=1e-5)
    # With early stopping the validation loss is that of the days it watches, the first 76 of
    # the 151 validation days, and so is the line it is compared with.
    assert (prepared.validation_count, prepared.watched_count) == (151, 76)
    assert lines["no skill (validation)"] == pytest.approx(
        np.mean(prepared.y_validation[:76] ** 2), rel=1e-5
    )
    assert f"its no-skill line ({lines['no skill (training)']:.3f}" in shown
    # ... and the moves it dared beside the real ones, their size ratio computed by numpy.
    last = prepared.test_last_known
    move_scale = np.std(result.predicted - last) / np.std(result.actual - last)
    assert f"predicted daily moves are {move_scale:.2f}x the size of the real ones" in shown
    titles = [
        figure(at, index)["layout"]["title"]["text"] for index in range(len(at.get("plotly_chart")))
    ]
    assert "What it dared to predict: next-day moves, held-out test period" in titles
    assert at.query_params["target"] in ("change", ["change"])
