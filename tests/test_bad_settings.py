"""Settings that cannot train are refused with one sentence, in the form, and start no job."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import QUICK_DEMO

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
JOB = "training_job"


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def short_msft(rows: int = 80) -> data.PriceData:
    """The first `rows` MSFT days of the snapshot, as if a person had uploaded them."""
    snapshot = data.load_snapshot()
    frame = snapshot.frame[snapshot.frame["Ticker"] == "MSFT"].head(rows)
    return data.PriceData(
        frame=frame.reset_index(drop=True), source="upload", description="a short file"
    )


def train_page(price_data: data.PriceData | None = None, **query: str) -> AppTest:
    at = new_app()
    if price_data is not None:
        at.session_state["price_data"] = price_data
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page("pages/train.py").run()
    assert not at.exception, [element.message for element in at.exception]
    return at


def fill_form(at: AppTest, lag: int, batch_size: int) -> None:
    at.slider(key="form_lag").set_value(lag)
    at.select_slider(key="form_batch").set_value(batch_size)
    at.slider(key="form_epochs").set_value(1)
    at.number_input(key="form_units1").set_value(8)
    at.number_input(key="form_units2").set_value(0)
    at.number_input(key="form_dense").set_value(0)


def press_train(at: AppTest) -> None:
    labels = [button.label for button in at.button]
    at.button[labels.index("Train")].click().run()


def form_values(at: AppTest) -> dict[str, object]:
    """What the form shows, in TrainConfig's terms."""
    second = at.number_input(key="form_units2").value
    first = at.number_input(key="form_units1").value
    return {
        "lag": at.slider(key="form_lag").value,
        "batch_size": at.select_slider(key="form_batch").value,
        "epochs": at.slider(key="form_epochs").value,
        "units": (first, second) if second else (first,),
        "dense_units": at.number_input(key="form_dense").value,
        "learning_rate": at.select_slider(key="form_lr").value,
        "train_fraction": at.slider(key="form_share").value,
        "seed": at.number_input(key="form_seed").value,
        "target": at.radio(key="form_target").value,
        "validation_fraction": at.slider(key="form_validation").value,
        "patience": at.number_input(key="form_patience").value,
        "model": at.radio(key="form_model").value,
        "inputs": ["close", *at.multiselect(key="form_inputs").value],
        # The form trains no shuffled control (the lineup and the CLI do).
        "shuffled": [],
    }


DEFAULTS = {
    name: value for name, value in QUICK_DEMO.to_dict().items() if name not in {"ticker", "units"}
} | {"units": QUICK_DEMO.units}


@pytest.mark.parametrize(
    ("lag", "needed"),
    # The test days start at floor(0.8 n); one training window needs that index >= lag + 1.
    [(80, 102), (79, 100), (200, 252)],
)
def test_a_lag_the_data_cannot_fill_is_refused_in_one_sentence(lag: int, needed: int) -> None:
    at = train_page(short_msft(80))
    fill_form(at, lag=lag, batch_size=1)
    press_train(at)
    assert not at.exception
    assert [error.value for error in at.error] == [
        (
            f"These settings cannot be trained: There are 80 prices; a lag of {lag} days with a "
            f"train share of 80% needs at least {needed}. Choose a smaller lag or load a longer "
            "price history."
        )
    ]
    assert JOB not in at.session_state
    # The form keeps what the person chose, so they can correct it.
    assert at.slider(key="form_lag").value == lag


def test_a_batch_larger_than_the_training_windows_is_refused_in_one_sentence() -> None:
    at = train_page(short_msft(80))
    fill_form(at, lag=10, batch_size=64)
    press_train(at)
    assert not at.exception
    # 80 prices: the test days start at floor(0.8 x 80) = 64; at lag 10, 54 windows train.
    assert [error.value for error in at.error] == [
        (
            "These settings cannot be trained: The batch size 64 is larger than the 54 training "
            "windows; choose a batch size of at most 54."
        )
    ]
    assert JOB not in at.session_state
    assert at.select_slider(key="form_batch").value == 64
    assert at.slider(key="form_lag").value == 10


def test_a_batch_that_fits_the_short_data_is_accepted() -> None:
    """The control for the refusals above: short data as such is not refused.

    The job is stopped at once; waiting for it only lets its thread end before the next test.
    """
    at = train_page(short_msft(80))
    fill_form(at, lag=10, batch_size=32)
    press_train(at)
    assert not at.exception
    assert [error.value for error in at.error] == []
    assert JOB in at.session_state
    at.session_state[JOB].request_stop()
    at.session_state[JOB].wait()


LINK_PROBLEMS = {
    "lag=0": ({"lag": "0"}, "lag must be between 2 and 1000, got 0"),
    "epochs=0": ({"epochs": "0"}, "epochs must be between 1 and 1000, got 0"),
    "train_fraction=1": (
        {"train_fraction": "1"},
        "train_fraction must be between 0 and 1 (exclusive), got 1.0",
    ),
    "train_fraction=0": (
        {"train_fraction": "0"},
        "train_fraction must be between 0 and 1 (exclusive), got 0.0",
    ),
    "seed=abc": ({"seed": "abc"}, "seed must be a whole number, got 'abc'"),
    "good lag, bad epochs": (
        {"lag": "20", "epochs": "0"},
        "epochs must be between 1 and 1000, got 0",
    ),
    "target=returns": (
        {"target": "returns"},
        "target must be 'level' (the price) or 'change' (the next day's change), got 'returns'",
    ),
    "validation_fraction=0.7": (
        {"validation_fraction": "0.7"},
        "validation_fraction must be at least 0 and below 0.5, got 0.7",
    ),
    "patience above epochs": (
        {"patience": "9", "epochs": "5", "validation_fraction": "0.1"},
        "patience (9) must be at most the number of epochs (5)",
    ),
    "patience without validation": (
        {"patience": "2"},
        "patience (early stopping) needs a validation period: set validation_fraction above 0",
    ),
    "ticker=../x": (
        {"ticker": "../x"},
        "ticker '../x' is not a valid symbol: use 1-15 letters, digits, '.', '-', '^' or '='",
    ),
}


@pytest.mark.parametrize("case", list(LINK_PROBLEMS))
def test_a_link_with_bad_settings_says_so_and_shows_the_defaults(case: str) -> None:
    query, reason = LINK_PROBLEMS[case]
    at = train_page(**query)
    assert [warning.value for warning in at.warning] == [
        f"The settings in this link could not be used ({reason}); showing the defaults."
    ]
    # Nothing from the link is half-applied: every field shows the quick demo's value.
    assert form_values(at) == DEFAULTS
    assert at.selectbox[1].value == "MSFT"
    assert JOB not in at.session_state


def test_a_good_link_fills_the_form_without_a_warning() -> None:
    """The control for the test above: the link's values do reach the form."""
    at = train_page(
        lag="20",
        batch_size="64",
        epochs="2",
        units="8-8",
        dense_units="4",
        seed="1",
        target="change",
        validation_fraction="0.1",
        patience="2",
    )
    assert [warning.value for warning in at.warning] == []
    assert form_values(at) == DEFAULTS | {
        "lag": 20,
        "batch_size": 64,
        "epochs": 2,
        "units": (8, 8),
        "dense_units": 4,
        "seed": 1,
        "target": "change",
        "validation_fraction": 0.1,
        "patience": 2,
    }
    assert JOB not in at.session_state


# Values TrainConfig accepts but the form's widgets cannot show. Before they were refused, some
# raised a Streamlit exception (a slider value outside its range) and others were silently
# replaced (a number input reset to its minimum, a third layer dropped), so the person trained
# something other than the link said.
OUT_OF_FORM_RANGE = {
    "lag=300 (slider max 250)": {"lag": "300"},
    "epochs=500 (slider max 100)": {"epochs": "500"},
    "train_fraction=0.3 (slider min 0.5)": {"train_fraction": "0.3"},
    "train_fraction=0.97 (slider max 0.95)": {"train_fraction": "0.97"},
    "units=1000 (input max 512)": {"units": "1000"},
    "dense_units=600 (input max 512)": {"dense_units": "600"},
    "learning_rate=0.002 (not an option)": {"learning_rate": "0.002"},
    "units=8-8-8 (the form has 2 layers)": {"units": "8-8-8"},
    "batch_size=50 (not an option)": {"batch_size": "50"},
    "train_fraction=0.83 (between the slider's steps)": {"train_fraction": "0.83"},
    "validation_fraction=0.4 (slider max 0.3)": {"validation_fraction": "0.4"},
    "validation_fraction=0.12 (between the slider's steps)": {"validation_fraction": "0.12"},
    "patience=30 (input max 20)": {"patience": "30", "epochs": "40", "validation_fraction": "0.1"},
}


@pytest.mark.parametrize("case", list(OUT_OF_FORM_RANGE))
def test_a_link_beyond_what_the_form_can_show_is_refused_not_changed(case: str) -> None:
    at = new_app()
    for name, value in OUT_OF_FORM_RANGE[case].items():
        at.query_params[name] = value
    at.switch_page("pages/train.py").run()
    assert not at.exception, [element.message for element in at.exception]
    warnings = [warning.value for warning in at.warning]
    assert len(warnings) == 1 and "could not be used" in warnings[0], warnings
    assert form_values(at) == DEFAULTS
