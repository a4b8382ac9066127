"""The cells of a person's CSV file: encoding, delimiter, header names, numbers and dates.

Every variant a spreadsheet or a broker's export produces is read here; csv_reader puts the
cells together into PriceData.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from lstm_core.data.prices import capitalized, shown_value
from lstm_core.errors import DataError

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


US_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


EURO_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")


NUMBER_CLUTTER = re.compile(r"[\s$€£¥\u00a0]")


def decode(raw: bytes, subject: str) -> str:
    """The text of an uploaded file, or DataError for spreadsheets and other binary files."""
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(
            f"{capitalized(subject)} looks like an Excel workbook; in Excel choose "
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
        f"{capitalized(subject)} is not a text file; upload prices saved as CSV "
        "(comma-separated text)."
    )


def split_lines(text: str, limit: int) -> list[str]:
    """Up to `limit` non-blank lines from the top of the text."""
    lines: list[str] = []
    for line in re.split(r"\r\n|\r|\n", text[:200_000]):
        if line.strip():
            lines.append(line)
            if len(lines) == limit:
                break
    return lines


def sniff_delimiter(text: str, subject: str) -> str:
    """The delimiter that splits the header into the most columns that the rows agree with."""
    sample = split_lines(text, 25)
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
            f"{capitalized(subject)} has only one column; save it as CSV with columns such "
            "as Date and Close separated by commas."
        )
    return chosen


def _header_key(name: str) -> str:
    """'Adj_Close', ' adj-close ', 'Adj. Close*' all become 'adj close'."""
    key = str(name).replace("\ufeff", "").strip().strip("\"'").lower()
    key = re.sub(r"[*.]", "", key)
    return " ".join(re.sub(r"[_\-]", " ", key).split())


def find_columns(header: list[str]) -> dict[str, int]:
    """Map each known role (Date, Close, ...) to the first header position spelled like it."""
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        key = _header_key(name)
        for role, spellings in HEADER_NAMES.items():
            if key in spellings and role not in found:
                found[role] = position
    return found


def missing_cells(values: pd.Series) -> pd.Series:
    """True where a cell is blank or a usual 'no value' marker such as NA or null."""
    return values.str.strip().str.lower().isin(MISSING_TOKENS)


def parse_numbers(values: pd.Series, decimal_comma_allowed: bool) -> tuple[np.ndarray, pd.Series]:
    """Numbers from text cells, and a mask of cells that hold text that is not a number.

    '$1,234.50' and '1,234.50' are 1234.5. In semicolon files a column whose numbers use a
    decimal comma ('1.234,50') is read that way, as European spreadsheets write it.
    """
    missing = missing_cells(values)
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


def parse_volume(values: pd.Series, decimal_comma_allowed: bool) -> np.ndarray:
    """Volumes, accepting '1.2M' style suffixes; anything unreadable is unknown (NaN).

    Volume is shown but never trained on, so an odd volume cell is no reason to refuse a file.
    """
    stripped = values.str.strip()
    multipliers = {"K": 1e3, "M": 1e6, "B": 1e9}
    suffix = stripped.str[-1:].str.upper()
    scale = suffix.map(multipliers).fillna(1.0).to_numpy(dtype=np.float64)
    without_suffix = stripped.where(~suffix.isin(list(multipliers)), stripped.str[:-1])
    numbers, _ = parse_numbers(without_suffix, decimal_comma_allowed)
    return numbers * scale


def parse_dates(values: pd.Series, subject: str) -> pd.Series:
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
        f"{capitalized(subject)} has {shown_value(values.iloc[position])} on row "
        f"{values.index[position]} where a date should be; use dates such as 2021-03-31 "
        "or 03/31/2021."
    )


def line_count(text: str) -> int:
    """Lines in the text, counting \\n, \\r\\n and lone \\r endings, without splitting it."""
    endings = text.count("\n") + text.count("\r") - text.count("\r\n")
    return endings + (0 if text.endswith(("\n", "\r")) else 1)


def read_table(text: str, delimiter: str, subject: str) -> pd.DataFrame:
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
            f"{capitalized(subject)} is empty; choose a CSV file with a Date column and a "
            "Close column."
        ) from error
    except pd.errors.ParserError as error:
        if "Expected" in str(error):
            raise DataError(
                f"{capitalized(subject)} has rows with more values than there are column "
                "names; put numbers such as 1,234.50 in quotes or remove the extra delimiters."
            ) from error
        raise DataError(
            f"{capitalized(subject)} could not be read as a table (check for an unclosed "
            "quote); save it again as CSV."
        ) from error
    except (ValueError, OverflowError, csv.Error) as error:
        raise DataError(
            f"{capitalized(subject)} could not be read as a table; save it again as CSV."
        ) from error
