"""A refresh of prices from Yahoo Finance through yfinance, kept in the cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_core.data.cache import DEFAULT_CACHE_DIR, cache_path, checked_tickers, write_atomically
from lstm_core.data.prices import NUMBER_COLUMNS, TICKERS, PriceData, first_duplicate, tidy_frame
from lstm_core.errors import RefreshError


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
    frame = tidy_frame(pd.concat(parts, ignore_index=True))
    if first_duplicate(frame) is not None:
        raise RefreshError(
            "Yahoo Finance sent the same day twice; the prices already loaded stay in use."
        )
    return frame


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
    symbols = checked_tickers(tickers)
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
        write_atomically(frame, cache_path(symbols, cache_dir))
    except OSError as error:
        description += f" (not saved for next time: {error.strerror or error})"
    return PriceData(frame=frame, source="yahoo", description=description)
