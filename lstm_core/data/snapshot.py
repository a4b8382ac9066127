"""The bundled price snapshot (data/prices_2015-04-01_2021-03-31.csv), read offline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_core.data.prices import (
    COLUMNS,
    NUMBER_COLUMNS,
    PROJECT_ROOT,
    PriceData,
    first_duplicate,
    tidy_frame,
)
from lstm_core.errors import DataError

SNAPSHOT_PATH: Path = PROJECT_ROOT / "data" / "prices_2015-04-01_2021-03-31.csv"


def read_tidy_csv(path: Path) -> pd.DataFrame:
    """Read a long CSV the app wrote (snapshot or cache); DataError if it is not one."""
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
    frame = tidy_frame(raw)
    if first_duplicate(frame) is not None or frame.empty:
        raise DataError(f"The price file {path.name} is empty or repeats a date.")
    return frame


def load_snapshot(path: Path = SNAPSHOT_PATH) -> PriceData:
    """The bundled offline prices (AAPL, GOOG, MSFT, AMZN, 2015-04-01 to 2021-03-31)."""
    try:
        frame = read_tidy_csv(path)
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
