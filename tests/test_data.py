"""The snapshot, the accepted CSV variants, the summary, the lag check and the Yahoo refresh.

References are read independently with the csv module, so a bug shared by the loader and the
test cannot hide.
"""

from __future__ import annotations

import csv
import io
import math
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lstm_core import data
from lstm_core.data import cache
from lstm_core.errors import DataError, NotEnoughDataError, RefreshError
from lstm_core.preprocessing import check_enough_rows, minimum_prices

# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def snapshot_rows(ticker: str | None = None) -> list[dict[str, str]]:
    """Rows of the snapshot as the csv module reads them, in file order."""
    with data.SNAPSHOT_PATH.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    return [row for row in rows if ticker is None or row["Ticker"] == ticker]


MSFT_ROWS = snapshot_rows("MSFT")


def reference(rows: list[dict[str, str]], column: str = "Adj Close") -> pd.Series:
    """The expected price series: dates and float(text) of `column`, sorted by date."""
    series = pd.Series(
        [float(row[column]) for row in rows],
        index=pd.DatetimeIndex([row["Date"] for row in rows]),
    )
    return series.sort_index()


def assert_same_prices(actual: pd.Series, expected: pd.Series) -> None:
    assert actual.dtype == np.float64
    assert isinstance(actual.index, pd.DatetimeIndex)
    assert list(actual.index) == list(expected.index)
    np.testing.assert_array_equal(actual.to_numpy(), expected.to_numpy())


def to_csv_text(header: list[str], lines: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue()


def us_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{month}/{day}/{year}"


# ---------------------------------------------------------------------------------------------
# Snapshot
# ---------------------------------------------------------------------------------------------


def test_snapshot_has_four_tickers_of_1511_sorted_days() -> None:
    snapshot = data.load_snapshot()
    frame = snapshot.frame
    assert snapshot.source == "snapshot"
    assert snapshot.description == "Bundled snapshot, 2015-04-01 to 2021-03-31"
    assert tuple(frame.columns) == data.COLUMNS
    assert len(frame) == 6044
    assert sorted(snapshot.tickers()) == sorted(data.TICKERS)
    assert frame["Ticker"].value_counts().to_dict() == dict.fromkeys(data.TICKERS, 1511)
    assert pd.api.types.is_datetime64_any_dtype(frame["Date"])
    for column in data.COLUMNS[2:]:
        assert frame[column].dtype == np.float64
    ordered = frame.sort_values(["Ticker", "Date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, ordered)
    assert frame["Date"].min() == pd.Timestamp("2015-04-01")
    assert frame["Date"].max() == pd.Timestamp("2021-03-31")


def test_snapshot_series_equals_the_file_read_with_csv() -> None:
    snapshot = data.load_snapshot()
    for ticker in data.TICKERS:
        series = snapshot.series(ticker)
        assert series.name == ticker
        assert_same_prices(series, reference(snapshot_rows(ticker)))


def test_snapshot_volume_and_close_match_the_file() -> None:
    frame = data.load_snapshot().frame
    msft = frame[frame["Ticker"] == "MSFT"]
    assert msft["Close"].tolist() == [float(row["Close"]) for row in MSFT_ROWS]
    assert msft["Volume"].tolist() == [float(row["Volume"]) for row in MSFT_ROWS]


def test_series_of_an_unknown_ticker_is_a_sentence() -> None:
    with pytest.raises(DataError, match=r"There are no prices for 'TSLA' in this data; choose"):
        data.load_snapshot().series("TSLA")


def test_series_accepts_lower_case_ticker() -> None:
    snapshot = data.load_snapshot()
    assert_same_prices(snapshot.series("msft"), snapshot.series("MSFT"))


def test_series_falls_back_to_close_where_adj_close_is_missing() -> None:
    frame = pd.DataFrame(
        {
            "Date": pd.to_datetime(["2020-01-03", "2020-01-02", "2020-01-06"]),
            "Ticker": ["X", "X", "X"],
            "Open": np.nan,
            "High": np.nan,
            "Low": np.nan,
            "Close": [10.0, 20.0, 30.0],
            "Adj Close": [1.0, np.nan, 3.0],
            "Volume": np.nan,
        }
    )
    series = data.PriceData(frame, "upload", "hand made").series("X")
    assert series.index.strftime("%Y-%m-%d").tolist() == ["2020-01-02", "2020-01-03", "2020-01-06"]
    assert series.tolist() == [20.0, 1.0, 3.0]


def test_missing_snapshot_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        data.load_snapshot(tmp_path / "nothing.csv")
    assert str(caught.value) == (
        "The bundled price snapshot nothing.csv is missing or damaged; restore it from the "
        "project's repository."
    )
    damaged = tmp_path / "damaged.csv"
    lines = data.SNAPSHOT_PATH.read_text(encoding="utf-8").splitlines()[:100]
    damaged.write_text("\n".join([*lines, "2021-13-01,MSFT,1,1,1,1,1,1"]), encoding="utf-8")
    with pytest.raises(DataError, match=r"damaged\.csv is missing or damaged"):
        data.load_snapshot(damaged)


def test_paths_point_into_the_project() -> None:
    project = Path(__file__).resolve().parent.parent
    assert data.SNAPSHOT_PATH == project / "data" / "prices_2015-04-01_2021-03-31.csv"
    assert data.DEFAULT_CACHE_DIR == project / "data" / "cache"
    assert data.MAX_UPLOAD_BYTES == 52_428_800


# ---------------------------------------------------------------------------------------------
# Accepted CSV variants, all built from the snapshot's MSFT rows
# ---------------------------------------------------------------------------------------------

YAHOO_HEADER = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]


def yahoo_lines(rows: list[dict[str, str]]) -> list[list[str]]:
    return [[row[column] for column in YAHOO_HEADER] for row in rows]


def test_yahoo_export_gives_the_snapshot_prices() -> None:
    text = to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS))
    loaded = data.read_price_csv(text.encode(), name="MSFT.csv", default_ticker="msft")
    assert loaded.source == "upload"
    assert loaded.description == "Your file MSFT.csv (1,511 rows)"
    assert loaded.tickers() == ["MSFT"]
    assert tuple(loaded.frame.columns) == data.COLUMNS
    assert_same_prices(loaded.series("MSFT"), reference(MSFT_ROWS))
    assert loaded.frame["Open"].tolist() == [float(row["Open"]) for row in MSFT_ROWS]
    assert loaded.frame["Volume"].tolist() == [float(row["Volume"]) for row in MSFT_ROWS]


def test_default_name_and_ticker() -> None:
    text = to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS[:3]))
    loaded = data.read_price_csv(text)
    assert loaded.description == "Your file (3 rows)"
    assert loaded.tickers() == ["CUSTOM"]


@pytest.mark.parametrize(
    "header",
    [
        ["date", "open", "high", "low", "close", "adj_close", "volume"],
        ["DATE", "OPEN", "HIGH", "LOW", "CLOSE", "ADJ CLOSE", "VOLUME"],
        ["Date", "Open", "High", "Low", "Close", "adjusted", "Volume"],
        ["Date", "Open", "High", "Low", "Close", "adj close", "Volume"],
        [" Date ", "Open", "High", "Low", "Close*", "Adj. Close**", "Volume"],
        ["date", "open", "high", "low", "close", "adjusted_close", "volume"],
    ],
    ids=["snake", "upper", "adjusted", "lower-space", "yahoo-web", "adjusted_close"],
)
def test_header_spellings_give_the_same_prices(header: list[str]) -> None:
    text = to_csv_text(header, yahoo_lines(MSFT_ROWS))
    assert_same_prices(data.read_price_csv(text).series("CUSTOM"), reference(MSFT_ROWS))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_other_delimiters_are_sniffed(delimiter: str) -> None:
    text = to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS), delimiter=delimiter)
    assert_same_prices(data.read_price_csv(text).series("CUSTOM"), reference(MSFT_ROWS))


def test_close_only_file_uses_close() -> None:
    lines = [[row["Date"], row["Close"]] for row in MSFT_ROWS]
    loaded = data.read_price_csv(to_csv_text(["Date", "Close"], lines))
    assert_same_prices(loaded.series("CUSTOM"), reference(MSFT_ROWS, "Close"))
    assert loaded.frame["Adj Close"].isna().all()
    assert loaded.frame[["Open", "High", "Low", "Volume"]].isna().all().all()


def test_long_file_with_symbol_column_and_two_tickers() -> None:
    rows = snapshot_rows("MSFT") + snapshot_rows("AAPL")
    header = ["symbol", "date", "close", "adj close"]
    lines = [[row["Ticker"].lower(), row["Date"], row["Close"], row["Adj Close"]] for row in rows]
    loaded = data.read_price_csv(to_csv_text(header, lines), default_ticker="IGNORED")
    assert loaded.tickers() == ["AAPL", "MSFT"]
    assert_same_prices(loaded.series("MSFT"), reference(snapshot_rows("MSFT")))
    assert_same_prices(loaded.series("AAPL"), reference(snapshot_rows("AAPL")))
    assert loaded.description == "Your file (3,022 rows)"


def test_long_file_with_ticker_column_like_the_snapshot() -> None:
    loaded = data.read_price_csv(data.SNAPSHOT_PATH.read_bytes(), name="snapshot.csv")
    snapshot = data.load_snapshot()
    pd.testing.assert_frame_equal(loaded.frame, snapshot.frame)


def test_newest_first_rows_are_sorted() -> None:
    text = to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS[::-1]))
    loaded = data.read_price_csv(text)
    assert loaded.frame["Date"].is_monotonic_increasing
    assert_same_prices(loaded.series("CUSTOM"), reference(MSFT_ROWS))


def test_shuffled_rows_are_accepted_and_sorted() -> None:
    shuffled = list(MSFT_ROWS)
    random.Random(3).shuffle(shuffled)
    loaded = data.read_price_csv(to_csv_text(YAHOO_HEADER, yahoo_lines(shuffled)))
    assert loaded.frame["Date"].is_monotonic_increasing
    assert_same_prices(loaded.series("CUSTOM"), reference(MSFT_ROWS))


def test_nasdaq_export_with_dollars_us_dates_newest_first() -> None:
    header = ["Date", "Close/Last", "Volume", "Open", "High", "Low"]
    lines = [
        [
            us_date(row["Date"]),
            f"${float(row['Close']):.2f}",
            str(int(row["Volume"])),
            f"${float(row['Open']):.2f}",
            f"${float(row['High']):.2f}",
            f"${float(row['Low']):.2f}",
        ]
        for row in reversed(MSFT_ROWS)
    ]
    loaded = data.read_price_csv(to_csv_text(header, lines), name="HistoricalData.csv")
    expected = pd.Series(
        [float(f"{float(row['Close']):.2f}") for row in MSFT_ROWS],
        index=pd.DatetimeIndex([row["Date"] for row in MSFT_ROWS]),
    )
    assert_same_prices(loaded.series("CUSTOM"), expected)
    assert loaded.frame["Low"].iloc[0] == float(f"{float(MSFT_ROWS[0]['Low']):.2f}")


def test_thousands_separators_in_quoted_fields() -> None:
    # MSFT times 100 crosses 1,000, so most rows need a thousands separator.
    lines = [[row["Date"], f"${float(row['Close']) * 100:,.2f}"] for row in MSFT_ROWS]
    text = to_csv_text(["Date", "Close"], lines)
    assert '"$4,' in text  # the csv module quoted the fields that hold a comma
    expected = reference(MSFT_ROWS, "Close").map(lambda value: float(f"{value * 100:.2f}"))
    assert_same_prices(data.read_price_csv(text).series("CUSTOM"), expected)


def test_hand_written_dollar_and_thousands() -> None:
    text = 'Date,Close/Last\n03/31/2021,"$3,094.08"\n03/30/2021,"$1,234.50"\n03/29/2021,$987.6\n'
    series = data.read_price_csv(text).series("CUSTOM")
    assert series.tolist() == [987.6, 1234.5, 3094.08]
    assert series.index.strftime("%Y-%m-%d").tolist() == ["2021-03-29", "2021-03-30", "2021-03-31"]


def test_semicolon_file_with_decimal_commas() -> None:
    text = "Datum;Schluss\n"  # German headers are not known: refused below
    with pytest.raises(DataError, match="has no Date column"):
        data.read_price_csv(text + "31.03.2021;1.234,50\n30.03.2021;99,5\n")
    european = "Date;Close\n31.03.2021;1.234,50\n30.03.2021;99,5\n29.03.2021;100\n"
    series = data.read_price_csv(european).series("CUSTOM")
    assert series.tolist() == [100.0, 99.5, 1234.5]
    assert series.index[-1] == pd.Timestamp("2021-03-31")
    with pytest.raises(DataError, match=r"has the text '2\.25' in the Close column on row 3"):
        data.read_price_csv("Date;Close\n31.03.2021;1.234,50\n30.03.2021;2.25\n")


def test_bom_crlf_and_utf16_excel_text() -> None:
    text = to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS[:50])).replace("\n", "\r\n")
    expected = reference(MSFT_ROWS[:50])
    utf8 = data.read_price_csv(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert_same_prices(utf8.series("CUSTOM"), expected)
    utf16 = data.read_price_csv(text.replace(",", "\t").encode("utf-16"))
    assert_same_prices(utf16.series("CUSTOM"), expected)


def test_dates_with_time_and_offset_keep_the_local_day() -> None:
    text = "Date,Close\n2021-03-30 00:00:00-04:00,1.5\n2021-03-31 00:00:00+09:00,2.5\n"
    series = data.read_price_csv(text).series("CUSTOM")
    assert series.index.strftime("%Y-%m-%d").tolist() == ["2021-03-30", "2021-03-31"]


def test_path_source_is_read(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(to_csv_text(YAHOO_HEADER, yahoo_lines(MSFT_ROWS[:10])), encoding="utf-8")
    loaded = data.read_price_csv(path, name="prices.csv")
    assert_same_prices(loaded.series("CUSTOM"), reference(MSFT_ROWS[:10]))


def test_missing_open_high_low_volume_become_nan_and_short_rows_are_padded() -> None:
    text = "Date,Close,Volume\n2021-03-29,1.5\n2021-03-30,1.6,1.2M\n2021-03-31,1.7,\n"
    frame = data.read_price_csv(text).frame
    assert frame["Close"].tolist() == [1.5, 1.6, 1.7]
    assert math.isnan(frame["Volume"].iloc[0])
    assert frame["Volume"].iloc[1] == 1_200_000
    assert frame[["Open", "High", "Low"]].isna().all().all()


def test_a_few_missing_prices_are_dropped_and_reported() -> None:
    gone = set(range(100, 1511, 150))  # 10 rows spread through the file
    lines = [
        [row["Date"], row["Close"], "" if index in gone else row["Adj Close"]]
        for index, row in enumerate(MSFT_ROWS)
    ]
    loaded = data.read_price_csv(to_csv_text(["Date", "Close", "Adj Close"], lines), name="m.csv")
    assert loaded.description == "Your file m.csv (1,501 rows; 10 rows without a price left out)"
    kept = [row for index, row in enumerate(MSFT_ROWS) if index not in gone]
    # No forward fill, and no Close spliced into the Adj Close series.
    assert_same_prices(loaded.series("CUSTOM"), reference(kept))


@pytest.mark.parametrize(("missing", "accepted"), [(75, True), (76, False)])
def test_missing_prices_limit_is_five_percent(missing: int, accepted: bool) -> None:
    # 5% of 1511 rows is 75.55: 75 missing rows are dropped, 76 refuse the file.
    lines = [
        [row["Date"], "NA" if index < missing else row["Adj Close"]]
        for index, row in enumerate(MSFT_ROWS)
    ]
    text = to_csv_text(["Date", "Adj Close"], lines)
    if accepted:
        assert len(data.read_price_csv(text).series("CUSTOM")) == 1511 - missing
    else:
        with pytest.raises(DataError) as caught:
            data.read_price_csv(text)
        assert str(caught.value) == (
            "Your file has 76 of 1,511 rows without a price; at most 5% may be missing, "
            "so fill them in or remove those rows."
        )


def test_default_ticker_is_validated_as_an_argument() -> None:
    with pytest.raises(ValueError, match="is not a valid symbol"):
        data.read_price_csv("Date,Close\n2021-03-30,1\n2021-03-31,2\n", default_ticker="../x")


def test_source_of_the_wrong_type_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^source must be bytes, text or a pathlib.Path$"):
        data.read_price_csv(12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def test_summary_table_matches_first_and_last_rows_of_the_file() -> None:
    table = data.summary_table(data.load_snapshot())
    assert list(table.columns) == [
        "Company",
        "Ticker",
        "First date",
        "Last date",
        "Days",
        "First price",
        "Last price",
        "Change (%)",
    ]
    for ticker in data.TICKERS:
        rows = snapshot_rows(ticker)
        first, last = float(rows[0]["Adj Close"]), float(rows[-1]["Adj Close"])
        row = table[table["Ticker"] == ticker].iloc[0]
        assert row["Company"] == data.COMPANY_NAMES[ticker]
        assert (row["First date"], row["Last date"]) == ("2015-04-01", "2021-03-31")
        assert row["Days"] == 1511
        assert (row["First price"], row["Last price"]) == (first, last)
        assert row["Change (%)"] == pytest.approx((last - first) / first * 100, rel=1e-12)


def test_summary_of_an_unknown_ticker_uses_the_symbol() -> None:
    loaded = data.read_price_csv("Date,Close\n2021-03-30,2\n2021-03-31,3\n", default_ticker="XYZ")
    row = data.summary_table(loaded).iloc[0]
    assert (row["Company"], row["Days"], row["Change (%)"]) == ("XYZ", 2, 50.0)


# ---------------------------------------------------------------------------------------------
# Lag check
# ---------------------------------------------------------------------------------------------


def windows_fit(length: int, lag: int, train_fraction: float) -> bool:
    """The definition, written out: at least one training and one test window.

    The test days start at floor(train_fraction x length), computed exactly with Fraction.
    """
    first_test = math.floor(Fraction(str(train_fraction)) * length)
    return first_test - lag >= 1 and length - first_test >= 1


@pytest.mark.parametrize("train_fraction", [0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
def test_check_enough_rows_matches_the_definition(train_fraction: float) -> None:
    for lag in (1, 2, 5, 30, 60):
        for length in range(0, 12 * lag + 150):
            if windows_fit(length, lag, train_fraction):
                check_enough_rows(length, lag, train_fraction)
            else:
                with pytest.raises(NotEnoughDataError):
                    check_enough_rows(length, lag, train_fraction)
        # The page's own check (preprocessing) must agree on the minimum.
        first = next(n for n in range(20 * lag + 300) if windows_fit(n, lag, train_fraction))
        assert minimum_prices(lag, train_fraction) == first


def test_check_enough_rows_message() -> None:
    with pytest.raises(NotEnoughDataError) as caught:
        check_enough_rows(100, 200, 0.8)
    assert str(caught.value) == (
        "The series has 100 prices; a lag of 200 needs at least 252. "
        "Choose a smaller lag or a longer file."
    )
    # Test days from floor(0.1 n); one lag-60 training window needs that to be >= 61: n >= 610.
    with pytest.raises(NotEnoughDataError, match="needs at least 610"):
        check_enough_rows(609, 60, 0.1)
    check_enough_rows(610, 60, 0.1)  # test days from 61: 1 window trains


def test_check_enough_rows_with_a_tiny_train_share() -> None:
    check_enough_rows(11000, 10, 0.001)
    with pytest.raises(NotEnoughDataError, match="needs at least 11000"):
        check_enough_rows(10999, 10, 0.001)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((10, 0, 0.8), "lag must be a whole number >= 1, got 0"),
        ((10, 2.5, 0.8), "lag must be a whole number >= 1, got 2.5"),
        ((-1, 2, 0.8), "series_length must be a whole number >= 0, got -1"),
        ((10, 2, 1.0), "train_fraction must be between 0 and 1 (exclusive), got 1.0"),
        ((10, 2, 0), "train_fraction must be between 0 and 1 (exclusive), got 0"),
        ((10, 2, True), "train_fraction must be between 0 and 1 (exclusive), got True"),
    ],
)
def test_check_enough_rows_rejects_bad_arguments(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_enough_rows(*arguments)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------
# Yahoo Finance refresh, with fake downloads
# ---------------------------------------------------------------------------------------------


class RecordingDownload:
    """Stands in for yfinance.download: records each call, then returns or raises `outcome`."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, tickers: Any, **options: Any) -> Any:
        self.calls.append((tickers, options))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def yahoo_like_frame(tickers: list[str], days: int = 40) -> pd.DataFrame:
    """What yfinance.download(..., group_by="column", multi_level_index=True) returns.

    Columns are a MultiIndex (Price, Ticker) sorted by price field; the index is named Date.
    """
    columns: dict[tuple[str, str], list[float]] = {}
    dates: list[str] = []
    for ticker in tickers:
        rows = snapshot_rows(ticker)[-days:]
        dates = [row["Date"] for row in rows]
        for field in ("Adj Close", "Close", "High", "Low", "Open", "Volume"):
            columns[(field, ticker)] = [float(row[field]) for row in rows]
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(dates, name="Date"))
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Price", "Ticker"])
    return frame.sort_index(axis=1, level=0)


def snapshot_subset(tickers: list[str], days: int = 40) -> pd.DataFrame:
    frame = data.load_snapshot().frame
    parts = [frame[frame["Ticker"] == ticker].tail(days) for ticker in sorted(tickers)]
    return pd.concat(parts).reset_index(drop=True)


def test_good_download_is_reshaped_cached_atomically_and_reloaded(tmp_path: Path) -> None:
    fake = RecordingDownload(yahoo_like_frame(["MSFT", "AAPL"]))
    refreshed = data.refresh_from_yahoo(["msft", "AAPL"], cache_dir=tmp_path, download=fake)

    assert fake.calls == [
        (
            ["MSFT", "AAPL"],
            {
                "start": "2015-04-01",
                "end": None,
                "auto_adjust": False,
                "actions": False,
                "progress": False,
                "multi_level_index": True,
                "group_by": "column",
                "threads": False,
                "timeout": 10,
            },
        )
    ]
    assert refreshed.source == "yahoo"
    assert refreshed.description.startswith("Refreshed from Yahoo Finance on ")
    assert refreshed.description.endswith(" UTC")
    pd.testing.assert_frame_equal(refreshed.frame, snapshot_subset(["MSFT", "AAPL"]))
    assert_same_prices(refreshed.series("MSFT"), reference(snapshot_rows("MSFT")[-40:]))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["yahoo_AAPL_MSFT.csv"]
    cached = data.load_cached(["AAPL", "MSFT"], cache_dir=tmp_path)
    assert cached is not None
    assert cached.source == "yahoo"
    pd.testing.assert_frame_equal(cached.frame, refreshed.frame)
    assert data.load_cached(["MSFT"], cache_dir=tmp_path) is None


def test_union_calendar_gaps_are_dropped_not_filled(tmp_path: Path) -> None:
    wide = yahoo_like_frame(["MSFT", "AAPL"])
    # A day one exchange traded and the other did not: yfinance leaves NaN for the other.
    wide.loc[wide.index[5], (slice(None), "AAPL")] = np.nan
    refreshed = data.refresh_from_yahoo(
        ["MSFT", "AAPL"], cache_dir=tmp_path, download=RecordingDownload(wide)
    )
    assert len(refreshed.series("AAPL")) == 39
    assert wide.index[5] not in refreshed.series("AAPL").index
    assert len(refreshed.series("MSFT")) == 40


def test_single_ticker_frame_without_multiindex(tmp_path: Path) -> None:
    wide = yahoo_like_frame(["MSFT"]).droplevel("Ticker", axis=1)
    refreshed = data.refresh_from_yahoo(
        ["MSFT"], cache_dir=tmp_path, download=RecordingDownload(wide)
    )
    pd.testing.assert_frame_equal(refreshed.frame, snapshot_subset(["MSFT"]))


class YFRateLimitError(Exception):
    """Named like yfinance's own, which the refresh recognizes by name."""


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (
            ConnectionError("Failed to establish a new connection"),
            (
                "Yahoo Finance could not be reached (no network?); the prices already loaded stay "
                "in use."
            ),
        ),
        (TimeoutError("timed out"), "Yahoo Finance could not be reached"),
        (YFRateLimitError("Too Many Requests"), "Yahoo Finance is rate-limiting requests"),
        (RuntimeError("boom"), "Yahoo Finance's download failed (RuntimeError)"),
        (pd.DataFrame(), "Yahoo Finance sent no prices (no network, or unknown tickers)"),
        (None, "Yahoo Finance sent no prices"),
    ],
    ids=["connection", "timeout", "rate-limit", "other", "empty", "none"],
)
def test_failed_downloads_are_one_sentence(tmp_path: Path, outcome: Any, message: str) -> None:
    with pytest.raises(RefreshError) as caught:
        data.refresh_from_yahoo(cache_dir=tmp_path, download=RecordingDownload(outcome))
    assert str(caught.value).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_real_yfinance_rate_limit_error_is_recognized(tmp_path: Path) -> None:
    exceptions = pytest.importorskip("yfinance.exceptions")
    with pytest.raises(RefreshError, match=r"^Yahoo Finance is rate-limiting requests; try again"):
        data.refresh_from_yahoo(
            cache_dir=tmp_path, download=RecordingDownload(exceptions.YFRateLimitError())
        )


def test_frame_without_adj_close_is_refused(tmp_path: Path) -> None:
    wide = yahoo_like_frame(["MSFT", "AAPL"]).drop(columns="Adj Close", level="Price")
    with pytest.raises(RefreshError, match="had no Adj Close or Close prices"):
        data.refresh_from_yahoo(
            ["MSFT", "AAPL"], cache_dir=tmp_path, download=RecordingDownload(wide)
        )
    assert list(tmp_path.iterdir()) == []


def test_all_nan_ticker_and_missing_ticker_are_refused(tmp_path: Path) -> None:
    wide = yahoo_like_frame(["MSFT", "AAPL"])
    wide.loc[:, (slice(None), "AAPL")] = np.nan
    with pytest.raises(RefreshError, match=r"^Yahoo Finance sent no usable prices for AAPL"):
        data.refresh_from_yahoo(
            ["MSFT", "AAPL"], cache_dir=tmp_path, download=RecordingDownload(wide)
        )
    only_msft = yahoo_like_frame(["MSFT"])
    with pytest.raises(RefreshError, match=r"^Yahoo Finance sent no prices for AAPL"):
        data.refresh_from_yahoo(
            ["MSFT", "AAPL"], cache_dir=tmp_path, download=RecordingDownload(only_msft)
        )


def test_failed_refresh_keeps_the_good_cache(tmp_path: Path) -> None:
    good = RecordingDownload(yahoo_like_frame(["MSFT"]))
    data.refresh_from_yahoo(["MSFT"], cache_dir=tmp_path, download=good)
    path = tmp_path / "yahoo_MSFT.csv"
    before = path.read_bytes()
    bad = yahoo_like_frame(["MSFT"]).drop(columns="Adj Close", level="Price")
    for outcome in (ConnectionError("down"), pd.DataFrame(), bad):
        with pytest.raises(RefreshError):
            data.refresh_from_yahoo(
                ["MSFT"], cache_dir=tmp_path, download=RecordingDownload(outcome)
            )
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["yahoo_MSFT.csv"]


@pytest.mark.parametrize(
    "bad",
    ["../etc", "../x", "A/B", "a/b", "", "msft..", "x" * 20, "MSFT;rm", "' OR 1=1"],
)
def test_invalid_ticker_is_refused_before_any_download(tmp_path: Path, bad: str) -> None:
    fake = RecordingDownload(yahoo_like_frame(["MSFT"]))
    cache = tmp_path / "cache"
    with pytest.raises(RefreshError, match="is not a valid ticker; use 1-15 letters"):
        data.refresh_from_yahoo(["MSFT", bad], cache_dir=cache, download=fake)
    assert fake.calls == []
    assert not cache.exists()
    assert list(tmp_path.rglob("*")) == []
    # Reading the cache with such a ticker does not look for a file either.
    assert data.load_cached(tickers=[bad], cache_dir=tmp_path / "..") is None


def test_refresh_argument_errors(tmp_path: Path) -> None:
    fake = RecordingDownload(yahoo_like_frame(["MSFT"]))
    with pytest.raises(ValueError, match="not one string"):
        data.refresh_from_yahoo("MSFT", cache_dir=tmp_path, download=fake)
    with pytest.raises(
        ValueError, match=r"^start must be a date such as 2015-04-01, got '1/2/2020'"
    ):
        data.refresh_from_yahoo(["MSFT"], start="1/2/2020", cache_dir=tmp_path, download=fake)
    with pytest.raises(ValueError, match=r"^end must be after start"):
        data.refresh_from_yahoo(
            ["MSFT"], start="2020-01-02", end="2020-01-01", cache_dir=tmp_path, download=fake
        )
    with pytest.raises(RefreshError, match=r"^Name at least one ticker"):
        data.refresh_from_yahoo([], cache_dir=tmp_path, download=fake)
    assert fake.calls == []


def test_unwritable_cache_still_returns_the_prices(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    refreshed = data.refresh_from_yahoo(
        ["MSFT"], cache_dir=blocker, download=RecordingDownload(yahoo_like_frame(["MSFT"]))
    )
    assert "(not saved for next time:" in refreshed.description
    assert len(refreshed.series("MSFT")) == 40


def test_interrupted_cache_write_leaves_the_old_cache_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.refresh_from_yahoo(
        ["MSFT"], cache_dir=tmp_path, download=RecordingDownload(yahoo_like_frame(["MSFT"], 40))
    )
    before = (tmp_path / "yahoo_MSFT.csv").read_bytes()

    def failing_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.os, "replace", failing_replace)
    refreshed = data.refresh_from_yahoo(
        ["MSFT"], cache_dir=tmp_path, download=RecordingDownload(yahoo_like_frame(["MSFT"], 60))
    )
    assert refreshed.description.endswith("(not saved for next time: No space left on device)")
    assert len(refreshed.series("MSFT")) == 60
    assert [entry.name for entry in tmp_path.iterdir()] == ["yahoo_MSFT.csv"]
    assert (tmp_path / "yahoo_MSFT.csv").read_bytes() == before


def test_load_cached_returns_none_when_absent_or_corrupt(tmp_path: Path) -> None:
    assert data.load_cached(cache_dir=tmp_path) is None
    path = data.cache_path(data.TICKERS, tmp_path)
    assert path.name == "yahoo_AAPL_AMZN_GOOG_MSFT.csv"
    for junk in (
        b"\x00\xff garbage",
        b"",
        b"Date,Ticker,Close\n2020-01-02,MSFT,1\n",
        b",".join(c.encode() for c in data.COLUMNS) + b"\nnot a date,MSFT,1,1,1,1,1,1\n",
        b"\xff\xfe\x00\x00",
    ):
        path.write_bytes(junk)
        assert data.load_cached(cache_dir=tmp_path) is None
    assert data.load_cached(["../etc"], cache_dir=tmp_path) is None


@pytest.mark.parametrize("module", ["lstm_core.data", "lstm_core.experiments.store"])
def test_importing_data_or_the_store_loads_no_streamlit_tensorflow_or_yfinance(module) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('streamlit', 'tensorflow', 'keras', 'yfinance') "
        "if m in sys.modules))"
    )
    project = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
