"""A person's CSV file of prices, read into PriceData or refused with one plain sentence."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_core.config import normalize_ticker
from lstm_core.data.csv_cells import (
    decode,
    find_columns,
    line_count,
    missing_cells,
    parse_dates,
    parse_numbers,
    parse_volume,
    read_table,
    sniff_delimiter,
)
from lstm_core.data.prices import (
    PRICE_COLUMNS,
    PriceData,
    capitalized,
    first_duplicate,
    shown_value,
    tidy_frame,
)
from lstm_core.errors import DataError, NotEnoughDataError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


MAX_ROWS = 1_000_000


MAX_PRICE = 1e9
"""No share has traded above a billion dollars; a larger number is a typo or a unit mistake."""


MAX_DAY_CHANGE = 1000.0
"""A price more than this many times the day before's (or below 1/this of it) is refused."""


MAX_MISSING_SHARE = 0.05
"""Rows without a price are dropped only while they are at most this share of a ticker's rows."""


DEFAULT_FILE_NAME = "your file"


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _display_name(name: str) -> str:
    """The file name on one short line, or '' when the caller gave none."""
    cleaned = " ".join(str(name).split())[:80]
    return "" if cleaned == DEFAULT_FILE_NAME else cleaned


def _subject(name: str) -> str:
    """How sentences name the file: 'your file' or 'the file prices.csv'."""
    shown = _display_name(name)
    return f"the file {shown}" if shown else DEFAULT_FILE_NAME


def _raw_bytes(source: bytes | str | Path, subject: str) -> bytes:
    """The file's bytes, refusing anything over MAX_UPLOAD_BYTES before reading or copying it."""
    too_big = DataError(
        f"{capitalized(subject)} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
        "upload a shorter price history."
    )
    if isinstance(source, Path):
        return _file_bytes(source, subject, too_big)
    if isinstance(source, str):
        # Characters are at least one byte each, so this refuses huge text before encoding it.
        if len(source) > MAX_UPLOAD_BYTES:
            raise too_big
        try:
            source = source.encode("utf-8")
        except UnicodeEncodeError as error:
            raise DataError(
                f"{capitalized(subject)} holds characters that are not text; save it again "
                "as CSV (UTF-8)."
            ) from error
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if not isinstance(source, bytes):
        raise ValueError("source must be bytes, text or a pathlib.Path")
    if len(source) > MAX_UPLOAD_BYTES:
        raise too_big
    return source


def _file_bytes(path: Path, subject: str, too_big: DataError) -> bytes:
    """A regular file's bytes, refusing a large one by its size before reading it.

    A device (/dev/zero), a pipe or a file that grows while it is read reports no true size:
    only regular files are read, and never more than MAX_UPLOAD_BYTES + 1 bytes.
    """
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise DataError(
                    f"{capitalized(subject)} is not a regular file (a device, a pipe or a "
                    "folder); give the path of a CSV file."
                )
            if status.st_size > MAX_UPLOAD_BYTES:
                raise too_big
            content = handle.read(MAX_UPLOAD_BYTES + 1)
    except IsADirectoryError as error:
        raise DataError(
            f"{capitalized(subject)} is a folder; give the path of a CSV file."
        ) from error
    except OSError as error:
        raise DataError(
            f"{capitalized(subject)} could not be opened ({error.strerror}); check the path."
        ) from error
    if len(content) > MAX_UPLOAD_BYTES:
        raise too_big
    return content


def read_price_csv(
    source: bytes | str | Path,
    name: str = DEFAULT_FILE_NAME,
    default_ticker: str = "CUSTOM",
) -> PriceData:
    """Read a user's daily price CSV, in memory, into tidy long form.

    `source` is the file's bytes, its text, or a Path to it. Files without a ticker column get
    `default_ticker`. Any problem with the contents raises DataError (or NotEnoughDataError)
    with one sentence saying what to change; bad arguments raise ValueError.
    """
    if not isinstance(name, str):
        raise ValueError("name must be text, such as the uploaded file's name")
    fallback_ticker = normalize_ticker(default_ticker)
    subject = _subject(name)
    raw = _raw_bytes(source, subject)
    text = decode(raw, subject).lstrip("\ufeff") if raw.strip() else ""
    if not text.strip():
        raise DataError(
            f"{capitalized(subject)} is empty; choose a CSV file with a Date column and a "
            "Close column."
        )
    if CONTROL_CHARACTERS.search(text):
        raise DataError(
            f"{capitalized(subject)} is not a text file; upload prices saved as CSV "
            "(comma-separated text)."
        )
    # Counted before parsing so a huge file costs a count, not a parse.
    too_many_rows = DataError(
        f"{capitalized(subject)} has more than {MAX_ROWS:,} rows; upload a shorter price history."
    )
    if line_count(text.strip()) - 1 > MAX_ROWS:
        raise too_many_rows
    delimiter = sniff_delimiter(text, subject)
    table = read_table(text, delimiter, subject)
    header = [str(cell) for cell in table.iloc[0]]
    # Row labels become the spreadsheet row numbers people see: header is row 1.
    cells = table.iloc[1:].reset_index(drop=True)
    cells.index = cells.index + 2
    cells = cells[~cells.apply(missing_cells).all(axis=1)]
    if len(cells) > MAX_ROWS:
        raise too_many_rows
    return _frame_from_cells(cells, header, delimiter, subject, name, fallback_ticker)


def _frame_from_cells(
    cells: pd.DataFrame,
    header: list[str],
    delimiter: str,
    subject: str,
    name: str,
    fallback_ticker: str,
) -> PriceData:
    """Turn the text cells under `header` into checked, tidy PriceData."""
    found = find_columns(header)
    listed = ", ".join(shown_value(cell) for cell in header[:6]) + (
        ", ..." if len(header) > 6 else ""
    )
    if "Date" not in found:
        raise DataError(
            f"{capitalized(subject)} has no Date column (its first row reads {listed}); the "
            "first row must name the columns, for example Date,Close."
        )
    if "Close" not in found and "Adj Close" not in found:
        raise DataError(
            f"{capitalized(subject)} has no Close or Adj Close column (its first row reads "
            f"{listed}); add a column of daily closing prices."
        )
    if cells.empty:
        raise NotEnoughDataError(
            f"{capitalized(subject)} has no price rows under its header; it needs at least 2."
        )

    dates_text = cells.iloc[:, found["Date"]]
    no_date = missing_cells(dates_text)
    if no_date.any():
        raise DataError(
            f"Row {no_date.index[no_date.to_numpy()][0]} of {subject} has no date; fill in the "
            "date or delete the row."
        )
    frame = pd.DataFrame(index=cells.index)
    frame["Date"] = parse_dates(dates_text, subject)
    frame["Ticker"] = _tickers(cells, found, subject, fallback_ticker)

    decimal_comma_allowed = delimiter == ";"
    for column in PRICE_COLUMNS:
        if column not in found:
            frame[column] = np.nan
            continue
        numbers, bad = parse_numbers(cells.iloc[:, found[column]], decimal_comma_allowed)
        if bad.any():
            row = bad.index[bad.to_numpy()][0]
            value = cells.loc[row].iloc[found[column]]
            raise DataError(
                f"{capitalized(subject)} has the text {shown_value(value)} in the "
                f"{header[found[column]].strip()} column on row {row}; prices must be numbers "
                "such as 123.45."
            )
        frame[column] = numbers
    frame["Volume"] = (
        parse_volume(cells.iloc[:, found["Volume"]], decimal_comma_allowed)
        if "Volume" in found
        else np.nan
    )

    frame, dropped = _drop_missing_prices(frame, subject, has_ticker_column="Ticker" in found)
    _check_price_range(frame, {column: header[found[column]].strip() for column in found}, subject)
    tidy = tidy_frame(frame)
    duplicate = first_duplicate(tidy)
    if duplicate is not None:
        ticker, date = duplicate
        for_ticker = f" for {ticker}" if "Ticker" in found else ""
        raise DataError(
            f"{capitalized(subject)} lists {date:%Y-%m-%d} more than once{for_ticker}; keep "
            "one row per trading day."
        )
    counts = tidy["Ticker"].value_counts()
    if (counts < 2).any():
        short = str(counts.idxmin())
        for_ticker = f" for {short}" if "Ticker" in found else ""
        raise NotEnoughDataError(
            f"{capitalized(subject)} has only {int(counts.min())} dated price{for_ticker}; it "
            "needs at least 2, and training needs many more."
        )
    label = " ".join(("Your file", _display_name(name))).strip()
    note = f"; {_count(dropped, 'row')} without a price left out" if dropped else ""
    return PriceData(
        frame=tidy, source="upload", description=f"{label} ({_count(len(tidy), 'row')}{note})"
    )


def _count(number: int, noun: str) -> str:
    """'1 row', '2 rows', '1,234 rows'."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _tickers(cells: pd.DataFrame, found: dict[str, int], subject: str, fallback: str) -> pd.Series:
    """Each row's normalized ticker: the file's ticker column, else the fallback ticker."""
    if "Ticker" not in found:
        return pd.Series(fallback, index=cells.index, dtype=object)
    raw = cells.iloc[:, found["Ticker"]].str.strip()
    normalized: dict[str, str] = {}
    # Unique values only: a million-row file usually names a handful of tickers.
    for value in raw.unique():
        try:
            normalized[value] = normalize_ticker(value)
        except ValueError as error:
            row = raw.index[(raw == value).to_numpy()][0]
            if not value:
                raise DataError(
                    f"Row {row} of {subject} has no ticker; fill in the ticker or delete the row."
                ) from error
            raise DataError(
                f"Row {row} of {subject} has the ticker {shown_value(value)}, which is not a valid "
                "symbol; use 1-15 letters, digits, '.', '-', '^' or '='."
            ) from error
    return raw.map(normalized)


def _check_price_range(frame: pd.DataFrame, names: dict[str, str], subject: str) -> None:
    """Refuse, naming the row, a price that is not above zero, is above MAX_PRICE, or is more
    than MAX_DAY_CHANGE times (or below 1/MAX_DAY_CHANGE of) the ticker's price the day before.

    Such a number trains nothing but NaN, and every figure after it would be NaN too. `frame`'s
    index holds the file's row numbers; `names` the file's own column names.
    """
    ordered = frame.sort_values(["Ticker", "Date"], kind="stable")
    for column in PRICE_COLUMNS:
        if column not in names:
            continue
        values = ordered[column]
        change = values / values.groupby(ordered["Ticker"], sort=False).shift(1)
        problems = (
            (values <= 0, "is not above zero; prices must be positive"),
            (values > MAX_PRICE, f"is above {MAX_PRICE:,.0f}; check the units"),
            (
                (change > MAX_DAY_CHANGE) | (change < 1 / MAX_DAY_CHANGE),
                f"changes more than {MAX_DAY_CHANGE:,.0f}-fold from the day before; check it",
            ),
        )
        for mask, reason in problems:
            flagged = mask.fillna(False).to_numpy()
            if flagged.any():
                row = ordered.index[flagged][0]
                raise DataError(
                    f"The {names[column]} price {values[row]:,.6g} on row {row} of {subject} "
                    f"{reason}."
                )


def _drop_missing_prices(
    frame: pd.DataFrame, subject: str, has_ticker_column: bool
) -> tuple[pd.DataFrame, int]:
    """Drop rows whose price is missing, refusing a ticker where more than 5% would go.

    A ticker's price is Adj Close if it has any, else Close; the two are never mixed within a
    ticker, and a missing price is never filled in (forward-filling would invent prices).
    """
    keep = pd.Series(True, index=frame.index)
    for ticker, rows in frame.groupby("Ticker", sort=False):
        adjusted = rows["Adj Close"]
        price = adjusted if adjusted.notna().any() else rows["Close"]
        missing = price.isna()
        for_ticker = f" {ticker}" if has_ticker_column else ""
        if missing.all():
            raise DataError(
                f"{capitalized(subject)} has no{for_ticker} prices at all; fill in the Close "
                "column."
            )
        if missing.sum() > MAX_MISSING_SHARE * len(rows):
            raise DataError(
                f"{capitalized(subject)} has {int(missing.sum()):,} of {len(rows):,}"
                f"{for_ticker} rows without a price; at most 5% may be missing, so fill them "
                "in or remove those rows."
            )
        keep[missing.index[missing.to_numpy()]] = False
    return frame[keep], int((~keep).sum())
