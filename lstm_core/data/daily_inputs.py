"""The daily figures beside a ticker's price that extra inputs are made from.

`PriceData.series` returns a PriceSeries: the adjusted close as before, carrying
`daily_inputs`, a frame on the same dates with the ticker's volume, high, low and close and the
market's move (the mean log daily change of the file's other companies). A missing column stays
NaN here; lstm_core/features.py refuses an input whose figures are missing, in one sentence.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

DAILY_COLUMNS = ("volume", "high", "low", "close", "market", "companies")
"""What `daily_inputs` holds: the ticker's Volume, High, Low and Close, the other companies'
mean log daily change, and how many other companies that mean is over."""


class PriceSeries(pd.Series):
    """A price series that carries the same days' other figures as `daily_inputs`.

    A pandas subclass, so slicing, sorting and pickling (to a Dask worker) keep the figures with
    the prices they belong to; a plain pd.Series simply has none.
    """

    # pandas' own `_name` stays, or every copy and slice would lose the series' name.
    _metadata: ClassVar[list[str]] = [*pd.Series._metadata, "daily_inputs"]

    @property
    def _constructor(self) -> type[PriceSeries]:
        return PriceSeries


def wide_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """Every ticker's price (Adj Close, else Close) as one column, dates as rows."""
    adjusted = frame["Adj Close"].astype("float64")
    prices = adjusted.where(adjusted.notna(), frame["Close"].astype("float64"))
    long = pd.DataFrame(
        {"Date": pd.DatetimeIndex(frame["Date"]), "Ticker": frame["Ticker"], "Price": prices}
    ).dropna(subset=["Price"])
    return long.pivot(index="Date", columns="Ticker", values="Price").sort_index()


def market_changes(wide: pd.DataFrame, ticker: str, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The mean log change of the other companies between the ticker's consecutive days.

    Each other company's price is carried forward from its last earlier day (never from a
    later one), so a day it did not trade counts as no change. The first day has no earlier
    day and gets 0. A day no other company has a price for is NaN, and `companies` says how
    many companies each day's mean is over.
    """
    others = wide.drop(columns=[ticker], errors="ignore")
    if others.shape[1] == 0:
        return pd.DataFrame(
            {"market": np.full(len(dates), np.nan), "companies": np.zeros(len(dates))},
            index=dates,
        )
    carried = others.ffill().reindex(dates)
    logs = np.log(carried.where(carried > 0))
    changes = logs.diff()
    changes.iloc[:1] = 0.0
    return pd.DataFrame(
        {"market": changes.mean(axis=1, skipna=True), "companies": changes.notna().sum(axis=1)},
        index=dates,
    )


def daily_inputs(rows: pd.DataFrame, wide: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """One ticker's DAILY_COLUMNS on its own dates (`rows`: its rows of the tidy frame)."""
    dates = pd.DatetimeIndex(rows["Date"], name="Date")
    own = pd.DataFrame(
        {
            "volume": rows["Volume"].to_numpy(dtype=np.float64),
            "high": rows["High"].to_numpy(dtype=np.float64),
            "low": rows["Low"].to_numpy(dtype=np.float64),
            "close": rows["Close"].to_numpy(dtype=np.float64),
        },
        index=dates,
    )
    return own.join(market_changes(wide, ticker, dates))[list(DAILY_COLUMNS)]


def with_daily_inputs(series: pd.Series, daily: pd.DataFrame) -> PriceSeries:
    """`series` as a PriceSeries carrying `daily` on exactly its dates."""
    carried = PriceSeries(series.to_numpy(), index=series.index, name=series.name)
    carried.daily_inputs = daily.reindex(series.index)
    return carried
