"""Files the reader must refuse with one plain sentence, and fuzzing that it never crashes.

Every corpus file is written here, in memory, so the cases stay visible next to their messages.
"""

from __future__ import annotations

import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_core import data
from lstm_core.data import csv_reader
from lstm_core.errors import DataError, NotEnoughDataError
from lstm_core.preprocessing import check_enough_rows

GOOD_ROWS = "2021-03-29,1.5\n2021-03-30,1.6\n2021-03-31,1.7\n"

# (id, file bytes, expected error class, the exact message or a key phrase of it)
CORPUS: list[tuple[str, bytes, type[DataError], str]] = [
    (
        "empty",
        b"",
        DataError,
        "The file bad.csv is empty; choose a CSV file with a Date column and a Close column.",
    ),
    ("blank-lines", b"\n\r\n  \n", DataError, "The file bad.csv is empty"),
    ("bom-only", "\ufeff\n".encode("utf-16"), DataError, "The file bad.csv is empty"),
    (
        "binary",
        bytes(range(256)) * 4,
        DataError,
        "The file bad.csv is not a text file; upload prices saved as CSV (comma-separated text).",
    ),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", DataError, "is not a text file"),
    ("undecodable", b"Date,Close\n2021-03-31,\x81\x8d\x8f\x90\x9d\n", DataError, "not a text file"),
    (
        "excel-xlsx",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
        DataError,
        (
            "The file bad.csv looks like an Excel workbook; in Excel choose Save As > CSV and "
            "upload that file."
        ),
    ),
    (
        "one-column",
        b"Date Close\n2021-03-30 1.5\n2021-03-31 1.6\n",
        DataError,
        (
            "The file bad.csv has only one column; save it as CSV with columns such as Date and "
            "Close separated by commas."
        ),
    ),
    (
        "no-date-column",
        b"When,Close\n2021-03-30,1.5\n2021-03-31,1.6\n",
        DataError,
        (
            "The file bad.csv has no Date column (its first row reads 'When', 'Close'); the first "
            "row must name the columns, for example Date,Close."
        ),
    ),
    (
        "no-header",
        b"2021-03-30,1.5\n2021-03-31,1.6\n",
        DataError,
        "has no Date column",
    ),
    (
        "no-price-column",
        b"Date,Open,Volume\n2021-03-30,1.5,10\n2021-03-31,1.6,10\n",
        DataError,
        (
            "The file bad.csv has no Close or Adj Close column (its first row reads 'Date', "
            "'Open', 'Volume'); add a column of daily closing prices."
        ),
    ),
    (
        "prices-as-text",
        b"Date,Close\n2021-03-29,1.5\n2021-03-30,one dollar\n2021-03-31,1.7\n",
        DataError,
        (
            "The file bad.csv has the text 'one dollar' in the Close column on row 3; prices must "
            "be numbers such as 123.45."
        ),
    ),
    ("infinite-price", b"Date,Close\n2021-03-30,inf\n2021-03-31,1\n", DataError, "text 'inf'"),
    ("decimal-comma-in-csv", b'Date,Close\n2021-03-30,"1,5"\n2021-03-31,2\n', DataError, "'1,5'"),
    (
        "unparseable-date",
        b"Date,Close\n2021-03-29,1.5\nyesterday,1.6\n2021-03-31,1.7\n",
        DataError,
        (
            "The file bad.csv has 'yesterday' on row 3 where a date should be; use dates such as "
            "2021-03-31 or 03/31/2021."
        ),
    ),
    ("impossible-date", b"Date,Close\n2021-02-30,1.5\n2021-03-31,1\n", DataError, "'2021-02-30'"),
    ("year-9999", b"Date,Close\n9999-01-01,1.5\n2021-03-31,1\n", DataError, "'9999-01-01'"),
    (
        "missing-date",
        b"Date,Close\n2021-03-29,1.5\n,1.6\n2021-03-31,1.7\n",
        DataError,
        "Row 3 of the file bad.csv has no date; fill in the date or delete the row.",
    ),
    (
        "duplicate-dates",
        b"Date,Close\n2021-03-29,1.5\n2021-03-30,1.6\n2021-03-30,1.6\n",
        DataError,
        "The file bad.csv lists 2021-03-30 more than once; keep one row per trading day.",
    ),
    (
        "duplicate-dates-in-two-formats",
        b"Date,Close\n2021-03-30,1.5\n2021-03-30 00:00:00,1.6\n",
        DataError,
        "lists 2021-03-30 more than once",
    ),
    (
        "duplicate-within-ticker",
        (
            b"Date,Ticker,Close\n2021-03-30,MSFT,1\n2021-03-30,AAPL,1\n2021-03-31,MSFT,1\n"
            b"2021-03-31,msft,2\n2021-03-29,AAPL,1\n"
        ),
        DataError,
        "The file bad.csv lists 2021-03-31 more than once for MSFT; keep one row per trading day.",
    ),
    (
        "intraday",
        b"Date,Close\n2021-03-31 09:30,1.5\n2021-03-31 10:30,1.6\n",
        DataError,
        "lists 2021-03-31 more than once",
    ),
    (
        "invalid-ticker",
        b"Date,Ticker,Close\n2021-03-30,MSFT,1\n2021-03-31,../etc,2\n",
        DataError,
        (
            "Row 3 of the file bad.csv has the ticker '../etc', which is not a valid symbol; use "
            "1-15 letters, digits, '.', '-', '^' or '='."
        ),
    ),
    (
        "blank-ticker",
        b"Date,Ticker,Close\n2021-03-30,MSFT,1\n2021-03-31,,2\n",
        DataError,
        "Row 3 of the file bad.csv has no ticker; fill in the ticker or delete the row.",
    ),
    (
        "too-many-missing",
        b"Date,Close\n2021-03-29,1.5\n2021-03-30,\n2021-03-31,1.7\n",
        DataError,
        (
            "The file bad.csv has 1 of 3 rows without a price; at most 5% may be missing, so fill "
            "them in or remove those rows."
        ),
    ),
    (
        "all-missing",
        b"Date,Close,Open\n2021-03-30,,1\n2021-03-31,null,2\n",
        DataError,
        "The file bad.csv has no prices at all; fill in the Close column.",
    ),
    (
        "unquoted-thousands",
        b"Date,Close\n2021-03-30,1,234.50\n2021-03-31,1,240.00\n",
        DataError,
        (
            "The file bad.csv has rows with more values than there are column names; put numbers "
            "such as 1,234.50 in quotes or remove the extra delimiters."
        ),
    ),
    (
        "unclosed-quote",
        b'Date,Close\n2021-03-30,"1.5\n2021-03-31,1.6\n',
        DataError,
        "The file bad.csv could not be read as a table",
    ),
    (
        "header-only",
        b"Date,Close\n",
        NotEnoughDataError,
        "The file bad.csv has no price rows under its header; it needs at least 2.",
    ),
    (
        "single-row",
        b"Date,Close\n2021-03-31,1.5\n",
        NotEnoughDataError,
        (
            "The file bad.csv has only 1 dated price; it needs at least 2, and training needs many "
            "more."
        ),
    ),
    (
        "single-row-for-one-ticker",
        b"Date,Ticker,Close\n2021-03-30,MSFT,1\n2021-03-31,MSFT,2\n2021-03-31,AAPL,2\n",
        NotEnoughDataError,
        "has only 1 dated price for AAPL",
    ),
]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_bad_file_is_refused_with_one_sentence(
    content: bytes, error: type[DataError], message: str
) -> None:
    with pytest.raises(DataError) as caught:
        data.read_price_csv(content, name="bad.csv")
    assert type(caught.value) is error
    text = str(caught.value)
    assert message in text
    if message.endswith("."):
        assert text == message
    assert "\n" not in text and text.endswith(".")


def test_unsorted_dates_are_accepted() -> None:
    loaded = data.read_price_csv(b"Date,Close\n2021-03-31,3\n2021-03-29,1\n2021-03-30,2\n")
    assert loaded.series("CUSTOM").tolist() == [1.0, 2.0, 3.0]


def test_fewer_rows_than_the_lag_needs() -> None:
    loaded = data.read_price_csv(b"Date,Close\n" + GOOD_ROWS.encode())
    length = len(loaded.series("CUSTOM"))
    with pytest.raises(NotEnoughDataError) as caught:
        check_enough_rows(length, lag=60, train_fraction=0.8)
    assert str(caught.value) == (
        "The series has 3 prices; a lag of 60 needs at least 77. "
        "Choose a smaller lag or a longer file."
    )
    # Test days from floor(0.7 x 3) = 2: window 0 (target day 1) trains, day 2 tests.
    check_enough_rows(length, lag=1, train_fraction=0.7)


@pytest.fixture
def parsing_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any call to pandas' CSV parser fail, to prove a refusal came before parsing."""

    def refuse(*_arguments: object, **_options: object) -> None:
        raise AssertionError("the file was parsed before it was refused")

    monkeypatch.setattr(pd, "read_csv", refuse)


@pytest.mark.usefixtures("parsing_forbidden")
def test_file_over_50_mb_is_refused_before_parsing() -> None:
    huge = b"x" * (data.MAX_UPLOAD_BYTES + 1)
    expected = "The file big.csv is larger than 50 MB; upload a shorter price history."
    with pytest.raises(DataError) as caught:
        data.read_price_csv(huge, name="big.csv")
    assert str(caught.value) == expected
    with pytest.raises(DataError, match="is larger than 50 MB"):
        data.read_price_csv(huge.decode("ascii"), name="big.csv")


@pytest.mark.usefixtures("parsing_forbidden")
def test_path_over_50_mb_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "sparse.csv"
    with path.open("wb") as stream:
        stream.truncate(data.MAX_UPLOAD_BYTES + 1)  # sparse: costs no disk space
    with pytest.raises(DataError, match=r"^Your file is larger than 50 MB"):
        data.read_price_csv(path)


def test_missing_path_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="could not be opened"):
        data.read_price_csv(tmp_path / "absent.csv", name="absent.csv")


def test_size_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"Date,Close\n" + GOOD_ROWS.encode()
    monkeypatch.setattr(csv_reader, "MAX_UPLOAD_BYTES", len(content))
    assert len(data.read_price_csv(content).frame) == 3
    with pytest.raises(DataError, match="is larger than"):
        data.read_price_csv(content + b"\n")


@pytest.mark.usefixtures("parsing_forbidden")
def test_two_million_rows_are_refused_before_parsing() -> None:
    content = b"Date,Close\n" + b"2021-03-31,1.5\n" * 2_000_000
    assert len(content) < data.MAX_UPLOAD_BYTES  # refused for its rows, not its size
    with pytest.raises(DataError) as caught:
        data.read_price_csv(content, name="long.csv")
    assert str(caught.value) == (
        "The file long.csv has more than 1,000,000 rows; upload a shorter price history."
    )


def test_row_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 3)
    assert len(data.read_price_csv("Date,Close\n" + GOOD_ROWS).frame) == 3
    with pytest.raises(DataError, match="has more than 3 rows"):
        data.read_price_csv("Date,Close\n" + GOOD_ROWS + "2021-04-01,1.8\n")
    # Old Mac line endings are counted too.
    with pytest.raises(DataError, match="has more than 3 rows"):
        data.read_price_csv(("Date,Close\n" + GOOD_ROWS + "2021-04-01,1.8\n").replace("\n", "\r"))


def test_lone_surrogate_text_is_a_data_error() -> None:
    with pytest.raises(DataError, match="holds characters that are not text"):
        data.read_price_csv("Date,Close\n2021-03-31,\ud800\n")


# ---------------------------------------------------------------------------------------------
# Fuzzing: whatever the bytes, the answer is PriceData or DataError
# ---------------------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run, so a failure is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def read_or_refuse(content: bytes | str) -> None:
    try:
        loaded = data.read_price_csv(content, name="fuzz.csv")
    except DataError as error:
        message = str(error)
        assert message and "\n" not in message and message.endswith(".")
        return
    assert isinstance(loaded, data.PriceData)
    assert tuple(loaded.frame.columns) == data.COLUMNS
    assert loaded.frame["Date"].is_monotonic_increasing or len(loaded.tickers()) > 1
    for ticker in loaded.tickers():
        series = loaded.series(ticker)
        assert len(series) >= 2
        assert series.index.is_unique


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(content: bytes) -> None:
    read_or_refuse(content)


@FUZZ
@given(st.text(max_size=3000))
def test_arbitrary_text_never_crashes(content: str) -> None:
    read_or_refuse(content)


HEADER_WORDS = ["Date", "date", "Close", "Adj Close", "adj_close", "Close/Last", "Open", "Volume"]
HEADER_WORDS += ["Ticker", "symbol", "x", ""]
CELLS = ["2021-03-30", "03/31/2021", "2021-03-31", "1.5", "$1,234.50", '"1,234.50"', "", "NA"]
CELLS += ["MSFT", "aapl", "../etc", "1e400", "-3", "abc", '"', "1,5", "20210331", "31.03.2021"]


@st.composite
def csv_like(draw: st.DrawFn) -> str:
    """Text shaped like a price file, so fuzzing reaches the column and value checks."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    width = draw(st.integers(1, 5))
    header = draw(st.lists(st.sampled_from(HEADER_WORDS), min_size=width, max_size=width))
    rows = draw(
        st.lists(
            st.lists(
                st.sampled_from(CELLS) | st.text(string.printable, max_size=8),
                min_size=0,
                max_size=width + 1,
            ),
            max_size=12,
        )
    )
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(delimiter.join(row) for row in [header, *rows])


@FUZZ
@given(csv_like())
def test_csv_like_text_never_crashes(content: str) -> None:
    read_or_refuse(content)


PRICE_HEADERS = ["Close", "Adj Close", "close/last", "adjusted", "Price", "Open", "Volume"]
GOOD_NUMBERS = ["1.5", "$2.25", '"$1,234.50"', "3", "0", "-1", "  7.5  ", "1e3"]
ODD_NUMBERS = ["", "NA", "null", "1,5", "1.234,5", "nan", "inf", "1e400", "12abc", "1.2M"]
# Mostly good cells: a file with one odd cell in many reaches the deeper checks.
NUMBERS = GOOD_NUMBERS * 12 + ODD_NUMBERS
TICKER_CELLS = ["MSFT"] * 10 + ["aapl"] * 10 + ["", "BRK-B", "../x"]


@st.composite
def price_file_like(draw: st.DrawFn) -> str:
    """Mostly well-formed files with a few odd cells, so most reach the value checks."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    extra = draw(st.lists(st.sampled_from(PRICE_HEADERS), max_size=3))
    with_ticker = draw(st.booleans())
    header = ["Date", draw(st.sampled_from(PRICE_HEADERS)), *extra]
    header += ["Ticker"] if with_ticker else []
    style = draw(st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"]))
    days = draw(st.lists(st.integers(0, 40), min_size=2, max_size=15))
    lines = [delimiter.join(header)]
    for day in days:
        date = (pd.Timestamp("2021-03-01") + pd.Timedelta(days=day)).strftime(style)
        cells = [date] + [draw(st.sampled_from(NUMBERS)) for _ in header[1:]]
        if with_ticker:
            cells[-1] = draw(st.sampled_from(TICKER_CELLS))
        lines.append(delimiter.join(cells))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@FUZZ
@given(price_file_like())
def test_price_file_like_text_never_crashes(content: str) -> None:
    read_or_refuse(content)
