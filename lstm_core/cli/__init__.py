"""`python -m lstm_core train|sweep|forecast|backtest|tune ...`: train on the snapshot or a CSV.

`train` prints LSTM against persistence; `sweep` does so for every lag x batch size (x seed);
`forecast` looks past the last date with calibrated bands; `backtest` retrains before each of
several origins and scores each block. Every command takes --scheduler (or
$LSTM_LAB_DASK) to train on a Dask cluster's workers. `tune` runs an Optuna study on the
validation period and judges its best trial once on test.

parser       the commands and main (the entry point)
options      what the commands share: options, loading prices, tables, JSON
training     train and sweep
forecasting  forecast and backtest
tuning       tune
"""

from lstm_core.cli.parser import main

__all__ = ["main"]
