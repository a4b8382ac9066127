"""What the network sees (issue 19, item 2): extra inputs beside the close, built without
leakage, the shuffled control, the networks' first layers and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_core import data
from lstm_core.config import INPUTS, TrainConfig
from lstm_core.data.prices import PriceData, tidy_frame
from lstm_core.errors import DataError, MissingInputError
from lstm_core.features import daily_values, shuffle_days, windowed
from lstm_core.preprocessing import prepare_config

DAYS = 160
SETTINGS = TrainConfig(
    ticker="AAA", lag=8, batch_size=16, epochs=1, units=(8,), dense_units=0,
    target="change", validation_fraction=0.2, train_fraction=0.7, seed=3,
)  # fmt: skip
ALL = SETTINGS.with_changes(inputs=INPUTS)


def price_frame(days: int = DAYS, tickers: tuple[str, ...] = ("AAA", "BBB", "CCC")) -> pd.DataFrame:
    """Random-walk prices with volumes, highs and lows for several tickers on business days."""
    generator = np.random.default_rng(11)
    dates = pd.bdate_range("2020-01-01", periods=days)
    rows = []
    for ticker in tickers:
        close = 100 * np.exp(np.cumsum(generator.normal(0, 0.02, days)))
        spread = np.abs(generator.normal(0.01, 0.005, days)) * close
        rows.append(
            pd.DataFrame(
                {
                    "Date": dates,
                    "Ticker": ticker,
                    "Open": close,
                    "High": close + spread,
                    "Low": close - spread,
                    "Close": close,
                    "Adj Close": close,
                    "Volume": generator.integers(1_000_000, 5_000_000, days).astype(float),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def series_of(frame: pd.DataFrame, ticker: str = "AAA") -> pd.Series:
    return PriceData(frame=tidy_frame(frame), source="upload", description="test").series(ticker)


def day_rows(frame: pd.DataFrame, ticker: str, days: np.ndarray) -> pd.Series:
    """Which rows of `frame` are `ticker`'s on the given day numbers."""
    dates = pd.bdate_range("2020-01-01", periods=DAYS)[days]
    return (frame["Ticker"] == ticker) & frame["Date"].isin(dates)


def first_unseen_day(config: TrainConfig, series: pd.Series) -> int:
    """The first validation day: the first day no training window's input holds."""
    prepared = prepare_config(series, config)
    return prepared.train_count + config.lag


# --- the config ---------------------------------------------------------------------------


def test_inputs_are_validated_ordered_and_part_of_the_config() -> None:
    assert TrainConfig().inputs == ("close",)
    mixed = TrainConfig(inputs=("market", "close", "volume"))
    assert mixed.inputs == ("close", "volume", "market")
    assert mixed == TrainConfig(inputs=["close", "market", "volume"])
    assert mixed != TrainConfig() and hash(mixed) != hash(TrainConfig())
    assert TrainConfig.from_dict(mixed.to_dict()) == mixed
    assert mixed.to_dict()["inputs"] == ["close", "volume", "market"]
    assert mixed.to_query()["inputs"] == "close,volume,market"
    assert "inputs" not in TrainConfig().to_query()
    assert TrainConfig.from_dict({"ticker": "MSFT"}).inputs == ("close",)
    assert mixed.label().endswith("inputs close+volume+market")
    with pytest.raises(ValueError, match=r"^unknown input 'sentiment': choose from close, volume"):
        TrainConfig(inputs=("close", "sentiment"))
    with pytest.raises(ValueError, match=r"^inputs must include 'close'"):
        TrainConfig(inputs=("volume",))
    with pytest.raises(ValueError, match=r"^inputs must not repeat an input$"):
        TrainConfig(inputs=("close", "volume", "volume"))
    with pytest.raises(ValueError, match=r"^inputs must list input names"):
        TrainConfig(inputs="close")


def test_shuffled_names_an_extra_input_of_the_config() -> None:
    control = TrainConfig(inputs=("close", "volume"), shuffled=("volume",))
    assert control != TrainConfig(inputs=("close", "volume"))
    assert control.label().endswith("volume shuffled")
    assert TrainConfig.from_dict(control.to_dict()) == control
    with pytest.raises(ValueError, match=r"^shuffled names 'range', which is not among"):
        TrainConfig(inputs=("close", "volume"), shuffled=("range",))
    with pytest.raises(ValueError, match=r"^shuffled cannot name 'close'"):
        TrainConfig(shuffled=("close",))


# --- the figures and their windows --------------------------------------------------------


def test_each_input_is_its_day_figure_computed_by_hand() -> None:
    frame = price_frame()
    series = series_of(frame)
    values = daily_values(series.daily_inputs, series.to_numpy(), INPUTS, "AAA")
    own = frame[frame["Ticker"] == "AAA"].reset_index(drop=True)
    np.testing.assert_allclose(values["volume"], own["Volume"])
    np.testing.assert_allclose(values["range"], (own["High"] - own["Low"]) / own["Close"])
    others = [
        np.log(frame.loc[frame["Ticker"] == ticker, "Adj Close"].to_numpy())
        for ticker in ("BBB", "CCC")
    ]
    by_hand = np.mean([np.diff(logs) for logs in others], axis=0)
    assert values["market"][0] == 0
    np.testing.assert_allclose(values["market"][1:], by_hand)


@pytest.mark.parametrize("name", ["range", "market"])
def test_a_window_on_arange_holds_its_own_days_and_never_a_later_one(name) -> None:
    days = np.arange(50, dtype=np.float64)
    windows = windowed(name, days, lag=6)
    assert windows.shape == (44, 6)
    for index, window in enumerate(windows):
        # Window i predicts day i + 6 and holds days i .. i + 5 only.
        np.testing.assert_array_equal(window, np.arange(index, index + 6))


def test_a_volume_window_is_relative_to_its_own_mean_volume() -> None:
    volume = np.arange(1, 51, dtype=np.float64)
    windows = windowed("volume", volume, lag=5)
    for index, window in enumerate(windows):
        own = volume[index : index + 5]
        np.testing.assert_allclose(window, np.log(own / own.mean()))
    assert windows.shape == (45, 5)


@pytest.mark.parametrize("name", ["volume", "range", "market"])
def test_a_day_changes_no_window_that_ends_before_it(name) -> None:
    frame = price_frame()
    config = SETTINGS.with_changes(inputs=("close", name))
    before = prepare_config(series_of(frame), config)
    day = before.test_start + config.lag + 10
    changed = frame.copy()
    ticker = "BBB" if name == "market" else "AAA"
    column = {"volume": "Volume", "range": "High", "market": "Adj Close"}[name]
    changed.loc[day_rows(frame, ticker, np.array([day])), column] *= 1.5
    after = prepare_config(series_of(changed), config)
    x_before = np.concatenate([before.x_train, before.x_validation, before.x_test])
    x_after = np.concatenate([after.x_train, after.x_validation, after.x_test])
    differs = np.flatnonzero(np.any(x_before != x_after, axis=(1, 2)))
    # Window i holds days i .. i + lag - 1: only windows whose days include `day` may change.
    assert len(differs) > 0
    assert differs.min() >= day - config.lag + 1


@pytest.mark.parametrize("name", ["volume", "range", "market"])
def test_validation_and_test_days_change_nothing_fitted(name) -> None:
    frame = price_frame()
    config = SETTINGS.with_changes(inputs=("close", name))
    before = prepare_config(series_of(frame), config)
    unseen = np.arange(first_unseen_day(config, series_of(frame)), DAYS)
    changed = frame.copy()
    if name == "market":
        rows = day_rows(frame, "BBB", unseen) | day_rows(frame, "CCC", unseen)
        changed.loc[rows, "Adj Close"] *= np.linspace(0.5, 2.0, rows.sum())
    else:
        rows = day_rows(frame, "AAA", unseen)
        for column in ("Volume", "High", "Low"):
            changed.loc[rows, column] *= np.linspace(0.5, 2.0, rows.sum())
    after = prepare_config(series_of(changed), config)
    assert after.channel_scalings == before.channel_scalings
    np.testing.assert_array_equal(after.x_train, before.x_train)
    np.testing.assert_array_equal(after.y_train, before.y_train)
    # The change did reach the windows it belongs to, so the test above could have failed.
    assert not np.array_equal(after.x_test[:, :, 1], before.x_test[:, :, 1])


def test_extra_channels_are_standardized_on_the_training_windows_only() -> None:
    prepared = prepare_config(series_of(price_frame()), ALL)
    assert prepared.x_train.shape[2] == 4 and prepared.x_test.shape[2] == 4
    training = prepared.x_train[:, :, 1:].reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(training.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(training.std(axis=0), 1, atol=1e-4)
    close_only = prepare_config(series_of(price_frame()), SETTINGS)
    np.testing.assert_array_equal(prepared.x_train[:, :, :1], close_only.x_train)
    np.testing.assert_array_equal(prepared.y_test, close_only.y_test)


# --- the shuffled control ------------------------------------------------------------------


def test_shuffling_permutes_the_training_days_of_that_input_alone() -> None:
    series = series_of(price_frame())
    values = daily_values(series.daily_inputs, series.to_numpy(), INPUTS, "AAA")
    shuffled = shuffle_days(values, ["volume"], 100, seed=3)
    assert not np.array_equal(shuffled["volume"][:100], values["volume"][:100])
    np.testing.assert_array_equal(
        np.sort(shuffled["volume"][:100]), np.sort(values["volume"][:100])
    )
    np.testing.assert_array_equal(shuffled["volume"][100:], values["volume"][100:])
    for other in ("range", "market"):
        np.testing.assert_array_equal(shuffled[other], values[other])
    again = shuffle_days(values, ["volume"], 100, seed=3)
    np.testing.assert_array_equal(again["volume"], shuffled["volume"])
    assert not np.array_equal(
        shuffle_days(values, ["volume"], 100, seed=4)["volume"], again["volume"]
    )


@pytest.mark.parametrize("name", ["volume", "range", "market"])
def test_the_control_keeps_the_target_and_the_other_inputs(name) -> None:
    series = series_of(price_frame())
    real = prepare_config(series, ALL)
    control = prepare_config(series, ALL.with_changes(shuffled=(name,)))
    channel = INPUTS.index(name)
    for part in ("y_train", "y_validation", "y_test"):
        np.testing.assert_array_equal(getattr(control, part), getattr(real, part))
    for part in ("x_train", "x_validation", "x_test"):
        kept = [index for index in range(4) if index != channel]
        np.testing.assert_array_equal(
            getattr(control, part)[:, :, kept], getattr(real, part)[:, :, kept]
        )
    assert not np.allclose(control.x_train[:, :, channel], real.x_train[:, :, channel])


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dropped", "inputs", "message"),
    [
        (["Volume"], ("close", "volume"), "The volume input needs a Volume column"),
        (["High", "Low"], ("close", "range"), "have no High or Low for AAA"),
        (["Low"], ("close", "range"), "these prices have no Low for AAA"),
    ],
)  # fmt: skip
def test_prices_without_the_column_refuse_the_input_naming_it(dropped, inputs, message) -> None:
    frame = price_frame()
    frame[dropped] = np.nan
    series = series_of(frame)
    with pytest.raises(MissingInputError, match=message) as refused:
        prepare_config(series, SETTINGS.with_changes(inputs=inputs))
    assert str(refused.value).count(". ") == 0 and str(refused.value).endswith(".")
    prepare_config(series, SETTINGS)  # the close alone still trains


def test_one_company_refuses_the_market_input() -> None:
    series = series_of(price_frame(tickers=("AAA",)))
    with pytest.raises(MissingInputError, match="market input needs the prices of other companies"):
        prepare_config(series, SETTINGS.with_changes(inputs=("close", "market")))


def test_a_plain_series_has_no_extra_figures_and_says_so(synthetic_series) -> None:
    config = SETTINGS.with_changes(ticker="SYN", inputs=("close", "volume"))
    with pytest.raises(MissingInputError, match="The volume input needs the day's other figures"):
        prepare_config(synthetic_series, config)


def test_a_run_with_extra_inputs_cannot_look_ahead_on_prices_alone() -> None:
    prepared = prepare_config(series_of(price_frame()), ALL)
    with pytest.raises(DataError, match="nobody knows for the days ahead"):
        prepared.encode(np.full((2, SETTINGS.lag), 100.0))


def test_a_ticker_series_keeps_its_name_and_daily_inputs_through_copies_and_slices() -> None:
    series = data.load_snapshot().series("MSFT")
    changed = series.copy()
    changed.iloc[10:] *= 1.3
    for each in (changed, series.iloc[5:50], series.rename("Close")):
        assert each.daily_inputs is series.daily_inputs
    assert changed.name == series.name == "MSFT"
    assert list(series.rename("Close").rename_axis("Date").reset_index().columns) == [
        "Date",
        "Close",
    ]
