"""PriceData, the tidy long price frame every loader returns, and what is shared about prices.

The tickers and company names, the column names, the lag check, the summary table and a
series' fingerprint; plus the one-sentence helpers the loaders' messages share.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_core.data.daily_inputs import daily_inputs, wide_prices, with_daily_inputs
from lstm_core.errors import DataError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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

    @functools.cached_property
    def wide_prices(self) -> pd.DataFrame:
        """Every ticker's price as a column (computed once: the market input reads it)."""
        return wide_prices(self.frame)

    def series(self, ticker: str) -> pd.Series:
        """The daily price of `ticker`, dated and float64: Adj Close, or Close where it is missing.

        Rows with neither price are left out; the loaders never produce such rows. The series
        carries the same days' volume, high, low, close and market move as `daily_inputs`
        (lstm_core/data/daily_inputs.py), which the extra inputs are made from.
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
        series = series.dropna().sort_index()
        daily = daily_inputs(rows, self.wide_prices, wanted)
        return with_daily_inputs(series, daily[~daily.index.duplicated()])


def tidy_frame(frame: pd.DataFrame) -> pd.DataFrame:
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


def first_duplicate(frame: pd.DataFrame) -> tuple[str, pd.Timestamp] | None:
    """The first (ticker, date) that appears twice, or None."""
    repeated = frame.duplicated(subset=["Ticker", "Date"], keep="first")
    if not repeated.any():
        return None
    row = frame[repeated].iloc[0]
    return str(row["Ticker"]), pd.Timestamp(row["Date"])


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def shown_value(value: str) -> str:
    """A cell value quoted and shortened so a message stays one readable line."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= 30 else text[:27] + "...")


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
    frame = data.frame
    adjusted = frame["Adj Close"].astype("float64")
    prices = pd.DataFrame(
        {
            "Ticker": frame["Ticker"].astype(str),
            "Date": pd.DatetimeIndex(frame["Date"]),
            "Price": adjusted.where(adjusted.notna(), frame["Close"].astype("float64")),
        }
    ).dropna(subset=["Price"])
    # One sort and one pass over the rows for every ticker at once (a loop of data.series
    # rescanned a million rows once per ticker).
    grouped = prices.sort_values(["Ticker", "Date"], kind="stable").groupby("Ticker", sort=False)
    firsts, lasts, days = grouped.first(), grouped.last(), grouped.size()
    rows = []
    for ticker in data.tickers():
        if ticker not in days.index:
            continue
        first, last = float(firsts.at[ticker, "Price"]), float(lasts.at[ticker, "Price"])
        rows.append(
            {
                "Company": COMPANY_NAMES.get(ticker, ticker),
                "Ticker": ticker,
                "First date": f"{firsts.at[ticker, 'Date']:%Y-%m-%d}",
                "Last date": f"{lasts.at[ticker, 'Date']:%Y-%m-%d}",
                "Days": int(days[ticker]),
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
