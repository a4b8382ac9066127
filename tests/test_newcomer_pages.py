"""What a newcomer saw (issue 15), page by page: each test fails on the code they saw."""

import json
import math
import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import PRESETS, QUICK_DEMO, TrainConfig
from lstm_core.execution.jobs import TrainingJob
from lstm_core.experiments.store import RunStore
from lstm_core.model.pipeline import run_training
from pages.shared import jobs, session
from tests.plotly_json import values
from tests.test_app_pages import click_train_and_wait, set_tiny_settings
from tests.test_compare_and_inside_pages import APP, TINY, wait_for_job

BATCH_1_PRESET = next(name for name, preset in PRESETS.items() if preset.batch_size == 1)


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def in_page_order(at: AppTest) -> list:
    """Every element of the main area, in the order a person reads them."""

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return list(walk(at.main))


def held_job(config: TrainConfig, gate: threading.Event) -> TrainingJob:
    """A running job that trains nothing until `gate` is set (or Stop is pressed)."""

    def held(config, series, progress, should_stop):
        for _ in range(6000):  # a bound only, so a broken test cannot hang
            if gate.is_set() or should_stop():
                break
            time.sleep(0.01)
        raise ValueError("ended by the test")

    return TrainingJob(config, data.load_snapshot().series(config.ticker), runner=held).start()


def test_seed_progress_shows_under_its_buttons_at_once_and_repeats_are_reused(
    tmp_path, monkeypatch
) -> None:
    """Items 2 and 9: the whole group's progress where the person clicked; no second training."""
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = new_app()
    at.session_state["train_settings"] = TINY
    at.switch_page("pages/compare.py").run()
    at.slider(key="seed_count").set_value(2).run()
    label = next(button.label for button in at.button if button.label.startswith("Your last"))
    next(button for button in at.button if button.label == label).click().run()
    assert not at.exception
    # In the very run of the click: a bar for the group, right below the seed buttons.
    order = in_page_order(at)
    kinds = [getattr(node, "type", "") for node in order]
    # Nothing above the title (a bare string in a page script would be drawn there).
    assert kinds[1] == "title"
    headings = [getattr(node, "value", "") for node in order]
    seeds_at = headings.index("Repeat with several seeds")
    sweep_at = headings.index("Sweep lag and batch size")
    bars = [index for index, kind in enumerate(kinds) if kind == "progress"]
    assert bars and seeds_at < bars[0] < sweep_at
    assert order[bars[0]].proto.text.startswith("Run 1 of 2 · ")
    assert any(button.key == "seeds_stop" for button in at.button)

    wait_for_job(at)
    job = at.session_state["training_job"]
    assert len(job.results) == 2 and len(RunStore().table()) == 2
    spread = next(frame.value for frame in at.dataframe if "mean" in frame.value.columns)
    # The Train page's names, not code names; no direction number for persistence.
    assert "RMSE ($)" in spread["metric"].tolist()
    assert "direction_accuracy" not in spread["metric"].tolist()
    baseline = spread[spread["forecast"] == "Tomorrow = today"].set_index("metric")
    assert baseline.loc["Direction right (%)", "mean"] == "\N{EN DASH}"

    next(button for button in at.button if button.label == label).click().run()
    assert not at.exception
    assert at.session_state["training_job"] is job
    assert len(RunStore().table()) == 2
    assert any("All 2 runs were already saved" in info.value for info in at.info)
    assert any("mean" in frame.value.columns for frame in at.dataframe)


def test_a_first_training_says_it_is_starting_not_waiting_for_another() -> None:
    """Item 3: 'Waiting to start' only when another training is really ahead."""
    gate = threading.Event()
    first = held_job(QUICK_DEMO, gate)
    second = held_job(QUICK_DEMO, gate)
    try:
        assert jobs.describe_progress(first).startswith("Starting")
        assert jobs.describe_progress(second).startswith("Waiting to start (another training")
    finally:
        gate.set()
        first.wait(60)
        second.wait(60)


def test_a_first_backtest_says_it_is_starting_not_waiting_for_another() -> None:
    """Item 3 on the Backtest page, whose own progress line used to say 'Waiting' always."""
    gate = threading.Event()
    at = new_app()
    at.session_state["backtest_job"] = held_job(QUICK_DEMO, gate)
    try:
        at.switch_page("pages/backtest.py").run()
        assert not at.exception
        texts = [bar.proto.text for bar in at.get("progress")]
        assert texts and texts[0].startswith("Starting"), texts
    finally:
        gate.set()
        at.session_state["backtest_job"].wait(60)


def test_the_inside_page_and_the_sidebar_do_not_show_two_statuses(monkeypatch) -> None:
    """Item 3: a training started on Inside shows its progress there, not a second copy."""
    monkeypatch.setattr("lstm_core.config.QUICK_DEMO", TINY)
    at = new_app()
    at.switch_page("pages/inside.py").run()
    next(button for button in at.button if button.label == "Train the quick demo").click().run()
    assert not at.exception
    assert at.session_state[session.JOB_PAGE_KEY] == "Inside the LSTM"
    assert at.get("progress"), "the Inside page shows the progress"
    # The sidebar leaves it to the page that started the training, on Inside as on Train.
    # (AppTest draws the sidebar on a session's first run only: a session of its own.)
    gate = threading.Event()
    on_inside = new_app()
    on_inside.session_state["training_job"] = held_job(TINY.with_changes(seed=3), gate)
    on_inside.session_state[session.JOB_PAGE_KEY] = "Inside the LSTM"
    try:
        on_inside.switch_page("pages/inside.py").run()
        sidebar = [caption.value for caption in on_inside.sidebar.caption]
        assert any(text.startswith("Data: ") for text in sidebar), sidebar
        assert not any(text.startswith("Training") for text in sidebar), sidebar
        assert on_inside.get("progress"), "the Inside page itself shows the progress"
    finally:
        gate.set()
        on_inside.session_state["training_job"].wait(60)
    assert not jobs.shows_progress_itself("Inside the LSTM", "train", "Market")
    wait_for_job(at)


def test_the_train_page_reads_as_a_person_expects(tmp_path, monkeypatch) -> None:
    """Items 6, 8 and 10 on the Train page: preset box, split, cards, table, previous run."""
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = new_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    # The form holds the quick demo on a first visit, and the box says so.
    assert at.selectbox(key="preset").value == "Quick demo"
    prices = data.load_snapshot().series("MSFT")
    # Split by days: the test days start at floor(train share x prices) whatever the lag.
    first_test = math.floor(QUICK_DEMO.train_fraction * len(prices))
    train = first_test - QUICK_DEMO.lag
    split = next(caption.value for caption in at.caption if "tested on the" in caption.value)
    assert f"learns to predict {train:,} days" in split
    assert f"tested on the {len(prices) - first_test:,} days after" in split

    at.selectbox(key="preset").set_value(BATCH_1_PRESET).run()
    assert any("Batch size 1 makes" in warning.value for warning in at.warning)
    at.switch_page("pages/market.py").run()
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="preset").value == BATCH_1_PRESET

    set_tiny_settings(at)
    click_train_and_wait(at)
    assert at.selectbox(key="preset").value == "(your own settings)"
    result = at.session_state["training_job"].result
    lstm, baseline = result.metrics["lstm"], result.metrics["persistence"]

    table = at.dataframe[0].value.set_index("metric")
    assert table.loc["RMSE ($)", "LSTM"] == f"${lstm['rmse']:,.2f}"
    assert table.loc["Direction right (%)", "Tomorrow = today"] == "\N{EN DASH}"
    cards = {metric.label: metric for metric in at.metric}
    difference = lstm["rmse"] - baseline["rmse"]
    assert cards["LSTM typical error (RMSE)"].delta == (
        f"{'+' if difference >= 0 else '-'}${abs(difference):,.2f} vs baseline"
    )
    # The up days counted from the snapshot's own prices: the test period runs to the last one.
    closes = data.load_snapshot().series("MSFT").to_numpy()[-len(result.test_dates) - 1 :]
    up_share = 100 * np.count_nonzero(np.diff(closes) > 0) / len(result.test_dates)
    assert f"{up_share:.1f}%" in cards["LSTM direction right"].proto.help
    # The share of up days is the reference a direction score is read against.
    assert cards["LSTM direction right"].delta == f"up days: {up_share:.1f}%"

    gate = threading.Event()
    at.session_state["training_job"] = held_job(TINY.with_changes(seed=9), gate)
    try:
        at.run()
        headings = [heading.value for heading in at.subheader]
        assert any(heading.startswith("Previous run") for heading in headings), headings
        assert not any(heading.startswith("Result:") for heading in headings)
    finally:
        gate.set()
        at.session_state["training_job"].wait(60)


def test_compare_draws_one_chart_per_company(tmp_path, monkeypatch) -> None:
    """Item 10: AMZN's predictions are never drawn over MSFT's prices."""
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    store = RunStore()
    snapshot = data.load_snapshot()
    for ticker in ("MSFT", "AMZN"):
        store.save(run_training(TINY.with_changes(ticker=ticker), snapshot.series(ticker)))
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    overlays = [spec for spec in specs if "test days" in spec["layout"]["title"]["text"]]
    assert [spec["layout"]["title"]["text"].split(":")[0] for spec in overlays] == [
        "AMZN",
        "MSFT",
    ]
    for spec, ticker in zip(overlays, ("AMZN", "MSFT"), strict=True):
        real = values(next(trace for trace in spec["data"] if trace["name"] == "real price")["y"])
        assert real == pytest.approx(snapshot.series(ticker).to_numpy()[-len(real) :])


def test_market_zoom_fits_the_price_axis_and_rows_use_one_format() -> None:
    """Item 10 on Market: three months are not a flat line; prices to the cent, volumes 1,234."""
    at = new_app().switch_page("pages/market.py").run()
    at.radio(key="market_period").set_value("3 months").run()
    assert not at.exception
    detail = json.loads(at.get("plotly_chart")[1].proto.spec)
    low, high = detail["layout"]["yaxis"]["range"]
    msft = data.load_snapshot().series("MSFT")
    recent = msft[msft.index >= msft.index[-1] - np.timedelta64(92, "D")]
    assert low <= recent.min() and high >= recent.max()
    assert high - low < (msft.max() - msft.min()) / 2
    columns = json.loads(at.dataframe[1].proto.columns)
    assert columns["Adj Close"]["type_config"]["format"] == "dollar"
    assert columns["Volume"]["type_config"]["format"] == "localized"
