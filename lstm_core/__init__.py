"""LSTM Stock Lab's core: the pipeline from prices to a judged forecast, with no Streamlit.

One folder per stage, in the order the pipeline runs. A module imports its own stage and earlier
ones only, never a later one (tests/test_layout.py walks every import, lazy ones too):

    errors, config   the foundation: person-facing errors and the training settings
    data/            prices: the bundled snapshot, a person's CSV file, the Yahoo refresh
    preprocessing    windows of past days, the train/validation/test split, the scalers
    evaluation/      metrics, significance tests, the persistence baseline
    model/           the Keras network and its NumPy twin, training, one run's pipeline and result,
                     warm-up, internals
    forecasting/     the recursive look-ahead with conformal bands, the walk-forward backtest
    experiments/     seed repeats and sweeps, Optuna tuning, the run store
    execution/       where training runs: in-process background jobs and studies, the Dask cluster
    charts/          Plotly figures, one module per page
    cli/             `python -m lstm_core train|sweep|forecast|backtest|tune`

The run store sits in experiments (it keeps runs and backtests, so it comes after forecasting);
a tuning study's background job sits in execution (it is a TrainingJob), not in experiments.
Importing this package or its data package loads neither TensorFlow nor Keras; only the model
modules that build or run models do, so pages that only draw prices stay fast.
"""
