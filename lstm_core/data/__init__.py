"""Daily stock prices: the bundled snapshot, a user's CSV file, or a refresh from Yahoo Finance.

Every loader returns the same tidy long frame (one row per ticker and trading day, columns
COLUMNS) wrapped in a PriceData, and every problem a person can fix is raised as a DataError
(or RefreshError) carrying one plain sentence, so the pages never show a traceback.

prices      PriceData, tickers and columns, the lag check, the summary, a series' fingerprint
snapshot    the bundled snapshot
csv_cells   reading a CSV file's cells (encoding, delimiter, header, numbers, dates)
csv_reader  a person's CSV file into PriceData
cache       the cache of Yahoo refreshes
yahoo       the refresh from Yahoo Finance (yfinance is imported only when it runs)
"""

from lstm_core.data.cache import DEFAULT_CACHE_DIR, cache_path, load_cached
from lstm_core.data.csv_reader import MAX_ROWS, MAX_UPLOAD_BYTES, read_price_csv
from lstm_core.data.prices import (
    COLUMNS,
    COMPANY_NAMES,
    TICKERS,
    PriceData,
    series_fingerprint,
    summary_table,
)
from lstm_core.data.snapshot import SNAPSHOT_PATH, load_snapshot
from lstm_core.data.yahoo import refresh_from_yahoo

__all__ = [
    "COLUMNS",
    "COMPANY_NAMES",
    "DEFAULT_CACHE_DIR",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "SNAPSHOT_PATH",
    "TICKERS",
    "PriceData",
    "cache_path",
    "load_cached",
    "load_snapshot",
    "read_price_csv",
    "refresh_from_yahoo",
    "series_fingerprint",
    "summary_table",
]
