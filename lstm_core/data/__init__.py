"""Daily stock prices: the bundled snapshot, a user's CSV file, or a refresh from Yahoo Finance.

Every loader returns the same tidy long frame (one row per ticker and trading day, columns
COLUMNS) wrapped in a PriceData, and every problem a person can fix is raised as a DataError
(or RefreshError) carrying one plain sentence, so the pages never show a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_core.config import normalize_ticker
from lstm_core.errors import DataError, NotEnoughDataError, RefreshError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_PATH: Path = PROJECT_ROOT / "data" / "prices_2015-04-01_2021-03-31.csv"
DEFAULT_CACHE_DIR: Path = PROJECT_ROOT / "data" / "cache"

TICKERS = ("AAPL", "GOOG", "MSFT", "AMZN")
COMPANY_NAMES = {
    "AAPL": "Apple",
    "GOOG": "Alphabet (Google)",
    "MSFT": "Microsoft",
    "AMZN": "Amazon",
}
COLUMNS = ("Date", "Ticker", "Open", "High", "Low", "Close", "Adj Close", "Volume")
PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Adj Close")
NUMBER_COLUMNS = (*PRICE_COLUMNS, "Volume")

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_MISSING_SHARE = 0.05
"""Rows without a price are dropped only while they are at most this share of a ticker's rows."""

DEFAULT_FILE_NAME = "your file"
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2100-12-31")

# Header spellings seen in exports from Yahoo, Nasdaq, Investing.com, brokers and spreadsheets,
# compared after _header_key() lower-cases them and turns '_', '-' and repeated spaces into one
# space.
HEADER_NAMES: dict[str, frozenset[str]] = {
    "Date": frozenset({"date", "datetime", "timestamp", "day", "trade date", "trading date"}),
    "Ticker": frozenset({"ticker", "symbol", "ticker symbol"}),
    "Adj Close": frozenset(
        {"adj close", "adjclose", "adjusted close", "adjusted", "adj close price"}
    ),
    "Close": frozenset({"close", "close/last", "last", "close price", "closing price", "price"}),
    "Open": frozenset({"open", "open price"}),
    "High": frozenset({"high", "high price"}),
    "Low": frozenset({"low", "low price"}),
    "Volume": frozenset({"volume", "vol"}),
}

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "-", "#n/a", "<na>", "nat", "--"}
)
DELIMITERS = (",", ";", "\t", "|")
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%Y%m%d",
    "%d-%m-%Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d-%b-%Y",
)
# A time of day (and zone) after the date is dropped: the app works on daily prices, and the
# local calendar date is the one the exchange traded on, whatever the offset says.
TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
US_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
EURO_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
NUMBER_CLUTTER = re.compile(r"[\s$€£¥\u00a0]")


@dataclass(frozen=True, eq=False)
class PriceData:
    """A tidy long price frame plus where it came from, ready for the pages.

    eq=False: comparing two frames has no single truth value, so identity equality is used.
    """

    frame: pd.DataFrame
    source: str  # "snapshot" | "yahoo" | "upload"
    description: str  # one line for the page

    def tickers(self) -> list[str]:
        """The tickers in the data, in the order they appear in the frame."""
        return [str(ticker) for ticker in dict.fromkeys(self.frame["Ticker"])]

    def series(self, ticker: str) -> pd.Series:
        """The daily price of `ticker`, dated and float64: Adj Close, or Close where it is missing.

        Rows with neither price are left out; the loaders never produce such rows.
        """
        wanted = ticker.strip().upper() if isinstance(ticker, str) else ticker
        available = self.tickers()
        if wanted not in available:
            raise DataError(
                f"There are no prices for {ticker!r} in this data; choose one of "
                f"{', '.join(available) or 'the loaded tickers'}."
            )
        rows = self.frame[self.frame["Ticker"] == wanted]
        adjusted = rows["Adj Close"].astype("float64")
        prices = adjusted.where(adjusted.notna(), rows["Close"].astype("float64"))
        series = pd.Series(
            prices.to_numpy(dtype=np.float64),
            index=pd.DatetimeIndex(rows["Date"], name="Date"),
            name=wanted,
        )
        return series.dropna().sort_index()


# ---------------------------------------------------------------------------------------------
# Tidy frames shared by every loader
# ---------------------------------------------------------------------------------------------


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly COLUMNS with fixed dtypes, sorted by Ticker then Date, on a fresh 0..n-1 index."""
    tidy = pd.DataFrame(
        {
            "Date": pd.DatetimeIndex(frame["Date"]).astype("datetime64[ns]"),
            "Ticker": frame["Ticker"].astype(str).to_numpy(),
        }
    )
    for column in NUMBER_COLUMNS:
        tidy[column] = frame[column].to_numpy(dtype=np.float64)
    return tidy.sort_values(["Ticker", "Date"], kind="stable").reset_index(drop=True)


def _first_duplicate(frame: pd.DataFrame) -> tuple[str, pd.Timestamp] | None:
    """The first (ticker, date) that appears twice, or None."""
    repeated = frame.duplicated(subset=["Ticker", "Date"], keep="first")
    if not repeated.any():
        return None
    row = frame[repeated].iloc[0]
    return str(row["Ticker"]), pd.Timestamp(row["Date"])


def _read_tidy_csv(path: Path) -> pd.DataFrame:
    """Read a long CSV this module wrote (snapshot or cache); DataError if it is not one."""
    try:
        raw = pd.read_csv(
            path,
            dtype={"Ticker": str, **dict.fromkeys(NUMBER_COLUMNS, "float64")},
            keep_default_na=False,
            na_values=[""],
        )
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise DataError(f"The price file {path.name} cannot be read.") from error
    if tuple(raw.columns) != COLUMNS:
        raise DataError(f"The price file {path.name} does not have the columns {COLUMNS}.")
    dates = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any() or raw["Ticker"].isna().any() or raw["Close"].isna().all():
        raise DataError(f"The price file {path.name} has missing dates, tickers or prices.")
    raw["Date"] = dates
    frame = _tidy(raw)
    if _first_duplicate(frame) is not None or frame.empty:
        raise DataError(f"The price file {path.name} is empty or repeats a date.")
    return frame


def load_snapshot(path: Path = SNAPSHOT_PATH) -> PriceData:
    """The bundled offline prices (AAPL, GOOG, MSFT, AMZN, 2015-04-01 to 2021-03-31)."""
    try:
        frame = _read_tidy_csv(path)
    except DataError as error:
        raise DataError(
            f"The bundled price snapshot {path.name} is missing or damaged; restore it from "
            "the project's repository."
        ) from error
    first, last = frame["Date"].min(), frame["Date"].max()
    return PriceData(
        frame=frame,
        source="snapshot",
        description=f"Bundled snapshot, {first:%Y-%m-%d} to {last:%Y-%m-%d}",
    )


# ---------------------------------------------------------------------------------------------
# A user's CSV file
# ---------------------------------------------------------------------------------------------


def _display_name(name: str) -> str:
    """The file name on one short line, or '' when the caller gave none."""
    cleaned = " ".join(str(name).split())[:80]
    return "" if cleaned == DEFAULT_FILE_NAME else cleaned


def _subject(name: str) -> str:
    """How sentences name the file: 'your file' or 'the file prices.csv'."""
    shown = _display_name(name)
    return f"the file {shown}" if shown else DEFAULT_FILE_NAME


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shown(value: str) -> str:
    """A cell value quoted and shortened so a message stays one readable line."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _decode(raw: bytes, subject: str) -> str:
    """The text of an uploaded file, or DataError for spreadsheets and other binary files."""
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(
            f"{_capitalized(subject)} looks like an Excel workbook; in Excel choose "
            "Save As > CSV and upload that file."
        )
    # Excel's "Unicode text" export is UTF-16 with a byte-order mark; it is text despite its NULs.
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw:
        # UTF-8 first; Windows-1252 is what older spreadsheet exports use outside UTF-8.
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise DataError(
        f"{_capitalized(subject)} is not a text file; upload prices saved as CSV "
        "(comma-separated text)."
    )


def _split_lines(text: str, limit: int) -> list[str]:
    """Up to `limit` non-blank lines from the top of the text."""
    lines: list[str] = []
    for line in re.split(r"\r\n|\r|\n", text[:200_000]):
        if line.strip():
            lines.append(line)
            if len(lines) == limit:
                break
    return lines


def _sniff_delimiter(text: str, subject: str) -> str:
    """The delimiter that splits the header into the most columns that the rows agree with."""
    sample = _split_lines(text, 25)
    best: tuple[float, int] = (0.0, 0)
    chosen = ""
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(count == counts[0] for count in counts) / len(counts)
        if (agreeing, counts[0]) > best:
            best, chosen = (agreeing, counts[0]), delimiter
    if not chosen:
        raise DataError(
            f"{_capitalized(subject)} has only one column; save it as CSV with columns such "
            "as Date and Close separated by commas."
        )
    return chosen


def _header_key(name: str) -> str:
    """'Adj_Close', ' adj-close ', 'Adj. Close*' all become 'adj close'."""
    key = str(name).replace("\ufeff", "").strip().strip("\"'").lower()
    key = re.sub(r"[*.]", "", key)
    return " ".join(re.sub(r"[_\-]", " ", key).split())


def _find_columns(header: list[str]) -> dict[str, int]:
    """Map each known role (Date, Close, ...) to the first header position spelled like it."""
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        key = _header_key(name)
        for role, spellings in HEADER_NAMES.items():
            if key in spellings and role not in found:
                found[role] = position
    return found


def _missing(values: pd.Series) -> pd.Series:
    """True where a cell is blank or a usual 'no value' marker such as NA or null."""
    return values.str.strip().str.lower().isin(MISSING_TOKENS)


def _parse_numbers(values: pd.Series, decimal_comma_allowed: bool) -> tuple[np.ndarray, pd.Series]:
    """Numbers from text cells, and a mask of cells that hold text that is not a number.

    '$1,234.50' and '1,234.50' are 1234.5. In semicolon files a column whose numbers use a
    decimal comma ('1.234,50') is read that way, as European spreadsheets write it.
    """
    missing = _missing(values)
    cleaned = values.str.replace(NUMBER_CLUTTER, "", regex=True)
    present = cleaned[~missing]
    uses_decimal_comma = (
        decimal_comma_allowed
        and bool(present.str.contains(",", regex=False).any())
        and not bool(present.str.contains(r",\d*\.", regex=True).any())
    )
    if uses_decimal_comma:
        euro = cleaned.str.match(EURO_NUMBER)
        converted = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        # A '2.25' among '1.234,5' cells is ambiguous, so it is refused rather than guessed.
        cleaned = converted.where(euro, "not a number")
    else:
        thousands = cleaned.str.match(US_THOUSANDS)
        cleaned = cleaned.where(~thousands, cleaned.str.replace(",", "", regex=False))
    text = cleaned.to_numpy(dtype=object)
    text[missing.to_numpy()] = None
    numbers = pd.to_numeric(text, errors="coerce").astype(np.float64)
    bad = pd.Series(~missing.to_numpy() & ~np.isfinite(numbers), index=values.index)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers, bad


def _parse_volume(values: pd.Series, decimal_comma_allowed: bool) -> np.ndarray:
    """Volumes, accepting '1.2M' style suffixes; anything unreadable is unknown (NaN).

    Volume is shown but never trained on, so an odd volume cell is no reason to refuse a file.
    """
    stripped = values.str.strip()
    multipliers = {"K": 1e3, "M": 1e6, "B": 1e9}
    suffix = stripped.str[-1:].str.upper()
    scale = suffix.map(multipliers).fillna(1.0).to_numpy(dtype=np.float64)
    without_suffix = stripped.where(~suffix.isin(list(multipliers)), stripped.str[:-1])
    numbers, _ = _parse_numbers(without_suffix, decimal_comma_allowed)
    return numbers * scale


def _parse_dates(values: pd.Series, subject: str) -> pd.Series:
    """Dates in the first of DATE_FORMATS that reads every cell; DataError naming a bad cell."""
    text = values.str.strip().str.replace(TIME_SUFFIX, "", regex=True)
    # The format that reads the most cells points at the cell most likely to be the mistake.
    most_read = -1
    first_unread = 0
    for date_format in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        parsed = parsed.where((parsed >= EARLIEST_DATE) & (parsed <= LATEST_DATE))
        unread = parsed.isna().to_numpy()
        if not unread.any():
            return parsed
        if int((~unread).sum()) > most_read:
            most_read = int((~unread).sum())
            first_unread = int(np.flatnonzero(unread)[0])
    position = first_unread
    raise DataError(
        f"{_capitalized(subject)} has {_shown(values.iloc[position])} on row "
        f"{values.index[position]} where a date should be; use dates such as 2021-03-31 "
        "or 03/31/2021."
    )


def _line_count(text: str) -> int:
    """Lines in the text, counting \\n, \\r\\n and lone \\r endings, without splitting it."""
    endings = text.count("\n") + text.count("\r") - text.count("\r\n")
    return endings + (0 if text.endswith(("\n", "\r")) else 1)


def _read_table(text: str, delimiter: str, subject: str) -> pd.DataFrame:
    """All cells as text; the first line becomes row 0, so no header guessing happens here."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.EmptyDataError as error:
        raise DataError(
            f"{_capitalized(subject)} is empty; choose a CSV file with a Date column and a "
            "Close column."
        ) from error
    except pd.errors.ParserError as error:
        if "Expected" in str(error):
            raise DataError(
                f"{_capitalized(subject)} has rows with more values than there are column "
                "names; put numbers such as 1,234.50 in quotes or remove the extra delimiters."
            ) from error
        raise DataError(
            f"{_capitalized(subject)} could not be read as a table (check for an unclosed "
            "quote); save it again as CSV."
        ) from error
    except (ValueError, OverflowError, csv.Error) as error:
        raise DataError(
            f"{_capitalized(subject)} could not be read as a table; save it again as CSV."
        ) from error


def _raw_bytes(source: bytes | str | Path, subject: str) -> bytes:
    """The file's bytes, refusing anything over MAX_UPLOAD_BYTES before reading or copying it."""
    too_big = DataError(
        f"{_capitalized(subject)} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
        "upload a shorter price history."
    )
    if isinstance(source, Path):
        try:
            if source.stat().st_size > MAX_UPLOAD_BYTES:
                raise too_big
            return source.read_bytes()
        except OSError as error:
            raise DataError(
                f"{_capitalized(subject)} could not be opened ({error.strerror}); check the path."
            ) from error
    if isinstance(source, str):
        # Characters are at least one byte each, so this refuses huge text before encoding it.
        if len(source) > MAX_UPLOAD_BYTES:
            raise too_big
        try:
            source = source.encode("utf-8")
        except UnicodeEncodeError as error:
            raise DataError(
                f"{_capitalized(subject)} holds characters that are not text; save it again "
                "as CSV (UTF-8)."
            ) from error
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if not isinstance(source, bytes):
        raise ValueError("source must be bytes, text or a pathlib.Path")
    if len(source) > MAX_UPLOAD_BYTES:
        raise too_big
    return source


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
    text = _decode(raw, subject).lstrip("\ufeff") if raw.strip() else ""
    if not text.strip():
        raise DataError(
            f"{_capitalized(subject)} is empty; choose a CSV file with a Date column and a "
            "Close column."
        )
    if CONTROL_CHARACTERS.search(text):
        raise DataError(
            f"{_capitalized(subject)} is not a text file; upload prices saved as CSV "
            "(comma-separated text)."
        )
    # Counted before parsing so a huge file costs a count, not a parse.
    too_many_rows = DataError(
        f"{_capitalized(subject)} has more than {MAX_ROWS:,} rows; upload a shorter price history."
    )
    if _line_count(text.strip()) - 1 > MAX_ROWS:
        raise too_many_rows
    delimiter = _sniff_delimiter(text, subject)
    table = _read_table(text, delimiter, subject)
    header = [str(cell) for cell in table.iloc[0]]
    # Row labels become the spreadsheet row numbers people see: header is row 1.
    cells = table.iloc[1:].reset_index(drop=True)
    cells.index = cells.index + 2
    cells = cells[~cells.apply(_missing).all(axis=1)]
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
    found = _find_columns(header)
    listed = ", ".join(_shown(cell) for cell in header[:6]) + (", ..." if len(header) > 6 else "")
    if "Date" not in found:
        raise DataError(
            f"{_capitalized(subject)} has no Date column (its first row reads {listed}); the "
            "first row must name the columns, for example Date,Close."
        )
    if "Close" not in found and "Adj Close" not in found:
        raise DataError(
            f"{_capitalized(subject)} has no Close or Adj Close column (its first row reads "
            f"{listed}); add a column of daily closing prices."
        )
    if cells.empty:
        raise NotEnoughDataError(
            f"{_capitalized(subject)} has no price rows under its header; it needs at least 2."
        )

    dates_text = cells.iloc[:, found["Date"]]
    no_date = _missing(dates_text)
    if no_date.any():
        raise DataError(
            f"Row {no_date.index[no_date.to_numpy()][0]} of {subject} has no date; fill in the "
            "date or delete the row."
        )
    frame = pd.DataFrame(index=cells.index)
    frame["Date"] = _parse_dates(dates_text, subject)
    frame["Ticker"] = _tickers(cells, found, subject, fallback_ticker)

    decimal_comma_allowed = delimiter == ";"
    for column in PRICE_COLUMNS:
        if column not in found:
            frame[column] = np.nan
            continue
        numbers, bad = _parse_numbers(cells.iloc[:, found[column]], decimal_comma_allowed)
        if bad.any():
            row = bad.index[bad.to_numpy()][0]
            value = cells.loc[row].iloc[found[column]]
            raise DataError(
                f"{_capitalized(subject)} has the text {_shown(value)} in the "
                f"{header[found[column]].strip()} column on row {row}; prices must be numbers "
                "such as 123.45."
            )
        frame[column] = numbers
    frame["Volume"] = (
        _parse_volume(cells.iloc[:, found["Volume"]], decimal_comma_allowed)
        if "Volume" in found
        else np.nan
    )

    frame, dropped = _drop_missing_prices(frame, subject, has_ticker_column="Ticker" in found)
    tidy = _tidy(frame)
    duplicate = _first_duplicate(tidy)
    if duplicate is not None:
        ticker, date = duplicate
        for_ticker = f" for {ticker}" if "Ticker" in found else ""
        raise DataError(
            f"{_capitalized(subject)} lists {date:%Y-%m-%d} more than once{for_ticker}; keep "
            "one row per trading day."
        )
    counts = tidy["Ticker"].value_counts()
    if (counts < 2).any():
        short = str(counts.idxmin())
        for_ticker = f" for {short}" if "Ticker" in found else ""
        raise NotEnoughDataError(
            f"{_capitalized(subject)} has only {int(counts.min())} dated price{for_ticker}; it "
            "needs at least 2, and training needs many more."
        )
    label = " ".join(("Your file", _display_name(name))).strip()
    note = f"; {dropped:,} rows without a price left out" if dropped else ""
    return PriceData(frame=tidy, source="upload", description=f"{label} ({len(tidy):,} rows{note})")


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
                f"Row {row} of {subject} has the ticker {_shown(value)}, which is not a valid "
                "symbol; use 1-15 letters, digits, '.', '-', '^' or '='."
            ) from error
    return raw.map(normalized)


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
                f"{_capitalized(subject)} has no{for_ticker} prices at all; fill in the Close "
                "column."
            )
        if missing.sum() > MAX_MISSING_SHARE * len(rows):
            raise DataError(
                f"{_capitalized(subject)} has {int(missing.sum()):,} of {len(rows):,}"
                f"{for_ticker} rows without a price; at most 5% may be missing, so fill them "
                "in or remove those rows."
            )
        keep[missing.index[missing.to_numpy()]] = False
    return frame[keep], int((~keep).sum())


def check_enough_rows(series_length: int, lag: int, train_fraction: float) -> None:
    """Raise NotEnoughDataError unless the series gives at least 1 training and 1 test window.

    With n prices there are n - lag windows; the first floor(train_fraction * windows) train.
    """
    if isinstance(series_length, bool) or not isinstance(series_length, int) or series_length < 0:
        raise ValueError(f"series_length must be a whole number >= 0, got {series_length!r}")
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be a whole number >= 1, got {lag!r}")
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, int | float)
        or not 0 < train_fraction < 1
    ):
        raise ValueError(
            f"train_fraction must be between 0 and 1 (exclusive), got {train_fraction!r}"
        )
    needed = lag + minimum_windows(train_fraction)
    if series_length < needed:
        raise NotEnoughDataError(
            f"The series has {series_length} prices; a lag of {lag} needs at least {needed}. "
            "Choose a smaller lag or a longer file."
        )


def minimum_windows(train_fraction: float) -> int:
    """Fewest windows w with floor(train_fraction * w) >= 1 and at least one window left over."""
    # floor(f * w) >= 1 first holds near 1/f; start just below it so the loop runs a few times
    # even for tiny fractions.
    windows = max(2, math.ceil(1 / train_fraction) - 2)
    while True:
        train = math.floor(train_fraction * windows)
        if train >= 1 and windows - train >= 1:
            return windows
        windows += 1


# ---------------------------------------------------------------------------------------------
# Yahoo Finance refresh and its cache
# ---------------------------------------------------------------------------------------------


def cache_path(tickers: Sequence[str], cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """cache_dir/yahoo_<sorted tickers joined by _>.csv; tickers must already be normalized."""
    return Path(cache_dir) / f"yahoo_{'_'.join(sorted(set(tickers)))}.csv"


def _checked_tickers(tickers: Sequence[str]) -> list[str]:
    """Normalized, de-duplicated tickers in the given order; RefreshError names a bad one."""
    if isinstance(tickers, str) or not isinstance(tickers, Sequence):
        raise ValueError("tickers must be a list of symbols such as ['MSFT'], not one string")
    checked: list[str] = []
    for ticker in tickers:
        try:
            symbol = normalize_ticker(ticker)
        except ValueError as error:
            raise RefreshError(
                f"{_shown(ticker)} is not a valid ticker; use 1-15 letters, digits, '.', '-', "
                "'^' or '=', such as MSFT."
            ) from error
        if symbol not in checked:
            checked.append(symbol)
    if not checked:
        raise RefreshError("Name at least one ticker to refresh, such as MSFT.")
    return checked


def _checked_date(value: str | None, argument: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{argument} must be a date such as 2015-04-01, got {value!r}") from error


def _download_failure(error: Exception) -> RefreshError:
    """One sentence for whatever the download raised, kept apart from the kind of error."""
    kind = type(error).__name__
    text = str(error).lower()
    if kind == "YFRateLimitError" or "rate limit" in text or "too many requests" in text:
        return RefreshError("Yahoo Finance is rate-limiting requests; try again in a minute.")
    if (
        isinstance(error, OSError | TimeoutError)
        or "timeout" in kind.lower()
        or "connection" in kind.lower()
    ):
        return RefreshError(
            "Yahoo Finance could not be reached (no network?); the prices already loaded stay "
            "in use."
        )
    return RefreshError(
        f"Yahoo Finance's download failed ({kind}); the prices already loaded stay in use."
    )


def _yahoo_to_long(downloaded: object, tickers: list[str]) -> pd.DataFrame:
    """Reshape yfinance's wide answer (columns Price x Ticker) into the tidy long frame."""
    if not isinstance(downloaded, pd.DataFrame) or downloaded.empty:
        raise RefreshError(
            "Yahoo Finance sent no prices (no network, or unknown tickers); the prices already "
            "loaded stay in use."
        )
    columns = downloaded.columns
    by_ticker: dict[str, pd.DataFrame] = {}
    if isinstance(columns, pd.MultiIndex) and columns.nlevels == 2:
        # group_by="column" puts the field (Close, ...) first; accept the other order too.
        first_level = set(map(str, columns.get_level_values(0)))
        field_level = 0 if {"Close", "Adj Close"} & first_level else 1
        ticker_level = 1 - field_level
        for ticker in set(map(str, columns.get_level_values(ticker_level))):
            by_ticker[ticker] = downloaded.xs(ticker, axis=1, level=ticker_level)
    elif not isinstance(columns, pd.MultiIndex) and len(tickers) == 1:
        by_ticker[tickers[0]] = downloaded
    else:
        raise RefreshError(
            "Yahoo Finance sent prices in an unexpected layout; the prices already loaded stay "
            "in use."
        )
    try:
        dates = pd.DatetimeIndex(downloaded.index)
    except (TypeError, ValueError) as error:
        raise RefreshError(
            "Yahoo Finance sent prices without readable dates; the prices already loaded stay "
            "in use."
        ) from error
    if dates.tz is not None:
        # The exchange's local calendar day is the trading day, whatever the offset.
        dates = dates.tz_localize(None)
    dates = dates.normalize()

    parts = []
    for ticker in tickers:
        fields = by_ticker.get(ticker)
        if fields is None:
            raise RefreshError(
                f"Yahoo Finance sent no prices for {ticker}; check the symbol or try again later."
            )
        fields = fields.loc[:, ~fields.columns.duplicated()]
        if "Adj Close" not in fields.columns or "Close" not in fields.columns:
            raise RefreshError(
                "Yahoo Finance's answer had no Adj Close or Close prices; the prices already "
                "loaded stay in use."
            )
        part = pd.DataFrame({"Date": dates, "Ticker": ticker})
        for column in NUMBER_COLUMNS:
            if column in fields.columns:
                values = pd.to_numeric(fields[column], errors="coerce")
                part[column] = values.to_numpy(dtype=np.float64)
            else:
                part[column] = np.nan
        # Tickers from different exchanges are aligned on the union of their trading days;
        # the gaps that leaves are days this ticker did not trade, so they are dropped.
        part = part[part["Adj Close"].notna() & np.isfinite(part["Adj Close"])]
        if len(part) < 2:
            raise RefreshError(
                f"Yahoo Finance sent no usable prices for {ticker}; check the symbol or try "
                "again later."
            )
        parts.append(part)
    frame = _tidy(pd.concat(parts, ignore_index=True))
    if _first_duplicate(frame) is not None:
        raise RefreshError(
            "Yahoo Finance sent the same day twice; the prices already loaded stay in use."
        )
    return frame


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write the CSV to a temporary file beside `path`, then rename it over `path`.

    A reader sees the old cache or the new one, never half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            frame.to_csv(stream, index=False, date_format="%Y-%m-%d")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def refresh_from_yahoo(
    tickers: Sequence[str] = TICKERS,
    start: str = "2015-04-01",
    end: str | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    download: Callable[..., object] | None = None,
) -> PriceData:
    """Download daily prices from Yahoo Finance, cache them, and return them.

    Tickers are checked before anything touches the network or a file name. Every failure
    raises RefreshError with one sentence; the cache is only replaced by a complete download.
    `download` stands in for yfinance.download (tests pass fakes).
    """
    symbols = _checked_tickers(tickers)
    start_date = _checked_date(start, "start")
    end_date = _checked_date(end, "end")
    if end_date is not None and start_date is not None and end_date <= start_date:
        raise ValueError(f"end must be after start, got start={start!r} and end={end!r}")
    if download is None:
        try:
            # Imported here: only a refresh needs it, and importing it is slow.
            import yfinance
        except ImportError as error:
            raise RefreshError(
                "The yfinance package is not installed, so prices cannot be refreshed; the "
                "prices already loaded stay in use."
            ) from error
        download = yfinance.download
    try:
        downloaded = download(
            symbols,
            start=start_date,
            end=end_date,
            auto_adjust=False,
            actions=False,
            progress=False,
            multi_level_index=True,
            group_by="column",
            threads=False,
            timeout=10,
        )
    except Exception as error:  # a network library can raise anything; all mean "no fresh data"
        raise _download_failure(error) from error
    frame = _yahoo_to_long(downloaded, symbols)
    now = dt.datetime.now(dt.UTC)
    description = f"Refreshed from Yahoo Finance on {now:%Y-%m-%d %H:%M} UTC"
    try:
        _write_atomically(frame, cache_path(symbols, cache_dir))
    except OSError as error:
        description += f" (not saved for next time: {error.strerror or error})"
    return PriceData(frame=frame, source="yahoo", description=description)


def load_cached(
    tickers: Sequence[str] = TICKERS, cache_dir: Path = DEFAULT_CACHE_DIR
) -> PriceData | None:
    """The last refresh of these tickers from the cache, or None if absent or unreadable."""
    try:
        symbols = _checked_tickers(tickers)
    except (ValueError, RefreshError):
        return None
    path = cache_path(symbols, cache_dir)
    try:
        frame = _read_tidy_csv(path)
        saved = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    except (DataError, OSError):
        return None
    if sorted(set(frame["Ticker"])) != sorted(symbols):
        return None
    return PriceData(
        frame=frame,
        source="yahoo",
        description=f"Refreshed from Yahoo Finance on {saved:%Y-%m-%d %H:%M} UTC",
    )


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def summary_table(data: PriceData) -> pd.DataFrame:
    """One row per ticker: company, ticker, first and last date, days, prices and change.

    Prices are the ones the model uses (Adj Close, else Close); Change (%) is last over first.
    """
    columns = [
        "Company",
        "Ticker",
        "First date",
        "Last date",
        "Days",
        "First price",
        "Last price",
        "Change (%)",
    ]
    rows = []
    for ticker in data.tickers():
        series = data.series(ticker)
        if series.empty:
            continue
        first, last = float(series.iloc[0]), float(series.iloc[-1])
        rows.append(
            {
                "Company": COMPANY_NAMES.get(ticker, ticker),
                "Ticker": ticker,
                "First date": f"{series.index[0]:%Y-%m-%d}",
                "Last date": f"{series.index[-1]:%Y-%m-%d}",
                "Days": len(series),
                "First price": first,
                "Last price": last,
                # A zero first price has no percentage change; NaN says so instead of inf.
                "Change (%)": (last / first - 1) * 100 if first else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def series_fingerprint(series: pd.Series) -> str:
    """A short hash of a price series' dates and values, to tell whether a result still applies."""
    digest = hashlib.sha256()
    digest.update(np.asarray(series.index.asi8 if hasattr(series.index, "asi8") else []).tobytes())
    digest.update(np.asarray(series.to_numpy(), dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
