"""The cache of Yahoo refreshes in data/cache: one CSV per set of tickers, written atomically."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lstm_core.config import normalize_ticker
from lstm_core.data.prices import PROJECT_ROOT, TICKERS, PriceData, shown_value
from lstm_core.data.snapshot import read_tidy_csv
from lstm_core.errors import DataError, RefreshError

DEFAULT_CACHE_DIR: Path = PROJECT_ROOT / "data" / "cache"


def cache_path(tickers: Sequence[str], cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """cache_dir/yahoo_<sorted tickers joined by _>.csv; tickers must already be normalized."""
    return Path(cache_dir) / f"yahoo_{'_'.join(sorted(set(tickers)))}.csv"


def checked_tickers(tickers: Sequence[str]) -> list[str]:
    """Normalized, de-duplicated tickers in the given order; RefreshError names a bad one."""
    if isinstance(tickers, str) or not isinstance(tickers, Sequence):
        raise ValueError("tickers must be a list of symbols such as ['MSFT'], not one string")
    checked: list[str] = []
    for ticker in tickers:
        try:
            symbol = normalize_ticker(ticker)
        except ValueError as error:
            raise RefreshError(
                f"{shown_value(ticker)} is not a valid ticker; use 1-15 letters, digits, '.', '-', "
                "'^' or '=', such as MSFT."
            ) from error
        if symbol not in checked:
            checked.append(symbol)
    if not checked:
        raise RefreshError("Name at least one ticker to refresh, such as MSFT.")
    return checked


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
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


def load_cached(
    tickers: Sequence[str] = TICKERS, cache_dir: Path = DEFAULT_CACHE_DIR
) -> PriceData | None:
    """The last refresh of these tickers from the cache, or None if absent or unreadable."""
    try:
        symbols = checked_tickers(tickers)
    except (ValueError, RefreshError):
        return None
    path = cache_path(symbols, cache_dir)
    try:
        frame = read_tidy_csv(path)
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
