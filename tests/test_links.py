"""Links open results: stored runs are found, reopened without training, and reused by groups.

Trainings are counted by wrapping lstm_core.model.pipeline.run_training, which every training
job calls; a fresh AppTest is a fresh session (a new browser on a shared link, or a reload).
"""

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import StoreError
from lstm_core.experiments.reuse import find_stored_runs, network_layers, reopen_run
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.store_database import RUNS
from lstm_core.model import pipeline
from lstm_core.model.results import RunResult

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = TrainConfig(ticker="MSFT", lag=10, batch_size=64, epochs=1, units=(8, 8), dense_units=4)


def fake_run(config: TrainConfig, fingerprint: str, rmse: float, stopped: bool = False) -> Any:
    """A stored-run stand-in with every field the store keeps; no training."""
    dates = pd.bdate_range("2021-01-04", periods=3)
    result = RunResult(
        config=config,
        n_train=10,
        n_test=3,
        metrics={
            forecaster: {
                "rmse": value,
                "mae": value,
                "mape": 1.0,
                "mase": 1.0,
                "mse_scaled": 1.0,
                "direction_accuracy": 50.0,
            }
            for forecaster, value in (("lstm", rmse), ("persistence", 2.0))
        },
        loss_history=[1.0],
        test_dates=dates,
        actual=np.array([1.0, 2.0, 3.0]),
        predicted=np.array([1.0, 2.0, 3.0]),
        persistence=np.array([1.0, 1.0, 2.0]),
        seconds=1.5,
        stopped=stopped,
        epochs_completed=config.epochs,
        finished_at="2026-01-01 10:00:00 UTC",
    )
    result.data_fingerprint = fingerprint
    return result


class TrainingCounter:
    """Wraps run_training: counts the trainings and still trains."""

    def __init__(self) -> None:
        self.configs: list[TrainConfig] = []
        self.real = pipeline.run_training

    def __call__(self, config, series, **options):
        self.configs.append(config)
        return self.real(config, series, **options)


@pytest.fixture
def counter(monkeypatch) -> TrainingCounter:
    counting = TrainingCounter()
    monkeypatch.setattr(pipeline, "run_training", counting)
    return counting


@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    return RunStore()


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "info", "warning", "error", "success", "caption"):
        parts.extend(str(element.value) for element in at.get(kind))
    return "\n".join(parts)


def wait_for_job(at: AppTest) -> None:
    # A safety bound only, so a broken job cannot hang the suite; no speed is asserted.
    for _ in range(600):
        job = at.session_state["training_job"] if "training_job" in at.session_state else None
        if job is None or job.collected:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception


def test_stored_runs_match_on_config_seed_and_data_only(store) -> None:
    other_seed = TINY.with_changes(seed=7)
    ids = {
        "match": store.save(fake_run(TINY, "abc", 1.0)),
        "other data": store.save(fake_run(TINY, "xyz", 1.0)),
        "stopped": store.save(fake_run(other_seed, "abc", 1.0, stopped=True)),
        "newer match": store.save(fake_run(TINY, "abc", 1.1)),
    }
    asked = [TINY, other_seed, TINY.with_changes(seed=99)]
    matches = find_stored_runs(store, asked, "abc")
    # The newest complete run of the first config; the stopped seed-7 run is not reused.
    assert matches.run_ids == {0: ids["newer match"]}
    assert matches.skipped == 0 and matches.skipped_sentence() is None


def test_a_stored_config_that_no_longer_validates_is_skipped_with_a_sentence(store) -> None:
    run_id = store.save(fake_run(TINY, "abc", 1.0))
    old = json.dumps(TINY.to_dict() | {"learning_rate": 5.0})
    with store.engine.begin() as connection:
        connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(config=old))
    matches = find_stored_runs(store, [TINY.with_changes(learning_rate=5.0 / 5000)], "abc")
    assert matches.run_ids == {}
    assert matches.skipped == 1
    assert matches.skipped_sentence() == (
        "1 saved run on these data came from an older version whose settings no longer "
        "validate (learning_rate must be above 0 and at most 1, got 5.0), so none of them "
        "was reused."
    )
    with pytest.raises(StoreError, match="older version whose settings no longer validate"):
        reopen_run(store, run_id, lambda ticker: pd.Series(dtype=float))


def test_network_layers_count_what_keras_counts() -> None:
    from lstm_core.model.network import build_model, layer_parameter_counts

    for model in ("lstm", "gru", "simple_rnn"):
        for config in (TINY, TINY.with_changes(units=(5,), dense_units=0)):
            config = config.with_changes(model=model)
            assert network_layers(config) == layer_parameter_counts(build_model(config))
    # A reopened ridge is one layer: a coefficient per day of the window, and the intercept.
    assert network_layers(TINY.with_changes(model="linear")) == [("ridge", "Ridge", TINY.lag + 1)]


def test_a_link_reopens_a_stored_run_in_a_fresh_session_without_training(store, counter) -> None:
    series = data.load_snapshot().series("MSFT")
    trained = pipeline.run_training(TINY, series)
    trained.data_fingerprint = series_fingerprint(series)
    run_id = store.save(trained)
    counter.configs.clear()

    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in TINY.to_query().items():
        at.query_params[name] = value
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert counter.configs == []
    shown = texts(at)
    assert (
        f"Saved run #{run_id}: trained {trained.finished_at} in {trained.seconds:,.1f} s" in shown
    )
    assert "Train again" in [button.label for button in at.button]
    assert f"Result: {TINY.label()}" in [header.value for header in at.subheader]
    shown_run = at.session_state["results"][at.session_state["current_result"]]
    assert shown_run.run_id == run_id
    np.testing.assert_allclose(shown_run.predicted, trained.predicted)
    assert shown_run.model is not None

    # Going to another page and back keeps the run in the address.
    at.switch_page("pages/market.py").run()
    at.switch_page("pages/train.py").run()
    assert at.query_params["seed"] in ("42", ["42"])
    assert at.query_params["lag"] in ("10", ["10"])
    assert counter.configs == []

    # Train again trains exactly once.
    next(button for button in at.button if button.label == "Train again").click().run()
    wait_for_job(at)
    assert counter.configs == [TINY]


def test_a_link_to_a_run_not_in_the_store_falls_back_to_its_settings(store, counter) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in TINY.with_changes(seed=5).to_query().items():
        at.query_params[name] = value
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "No saved run has this link's settings on these data" in texts(at)
    assert at.number_input(key="form_seed").value == 5
    assert at.slider(key="form_lag").value == 10
    assert counter.configs == []


def test_a_link_with_unusable_settings_is_not_looked_up(store, counter) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lag"] = "many"
    at.switch_page("pages/train.py").run()
    reason = "lag must be a whole number, got 'many'"
    assert [warning.value for warning in at.warning] == [
        f"The settings in this link could not be used ({reason}); showing the defaults."
    ]
    assert "No saved run has this link's settings" not in texts(at)
    assert counter.configs == []


def test_a_repeated_seed_group_in_a_fresh_session_trains_nothing(store, counter) -> None:
    def repeat_group() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["train_settings"] = TINY
        at.switch_page("pages/compare.py").run()
        at.slider(key="seed_count").set_value(2).run()
        next(b for b in at.button if b.label.startswith("Your last settings")).click().run()
        wait_for_job(at)
        return at

    repeat_group()
    assert counter.configs == [TINY, TINY.with_changes(seed=7)]
    assert len(store.table()) == 2
    counter.configs.clear()

    at = repeat_group()
    assert counter.configs == []
    assert "All 2 runs were already saved" in texts(at)
    assert len(store.table()) == 2
    assert "**MSFT lag 10, batch 64, 1 epochs**, 2 seeds" in texts(at)

    # A run deleted (here straight in the store, as another tab would) leaves the summary.
    store.delete([int(store.table()["id"].iloc[0])])
    at.run()
    assert "**MSFT lag 10, batch 64, 1 epochs**, only 1 of 2 seeds complete" in texts(at)
    assert "1 run of this group was deleted from the saved runs" in texts(at)


def test_inside_opens_a_saved_run_and_day_from_a_link(store, counter) -> None:
    series = data.load_snapshot().series("MSFT")
    trained = pipeline.run_training(TINY, series)
    trained.data_fingerprint = series_fingerprint(series)
    run_id = store.save(trained)
    day = trained.test_dates[5].strftime("%Y-%m-%d")
    counter.configs.clear()

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = str(run_id)
    at.query_params["day"] = day
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert at.select_slider(key="inside_day").value == day
    assert f"The model: {TINY.label()}" in [header.value for header in at.subheader]
    # The page's NumPy forward pass on the stored model gives Keras' stored prediction.
    assert f"${trained.predicted[5]:,.2f}" in texts(at)
    assert at.query_params["run"] in (str(run_id), [str(run_id)])
    assert counter.configs == []

    wrong_day = AppTest.from_file(APP, default_timeout=120)
    wrong_day.query_params.update({"run": str(run_id), "day": "1999-01-01"})
    wrong_day.switch_page("pages/inside.py").run()
    assert "This link's day is not a test day of this run" in texts(wrong_day)
    middle = trained.test_dates[len(trained.test_dates) // 2].strftime("%Y-%m-%d")
    assert wrong_day.select_slider(key="inside_day").value == middle

    gone = AppTest.from_file(APP, default_timeout=120)
    gone.query_params["run"] = str(run_id + 1)
    gone.switch_page("pages/inside.py").run()
    assert not gone.exception
    assert f"Run {run_id + 1} from this link is not among the saved runs" in texts(gone)


def fake_backtest(ratio: float, finished_at: str) -> Any:
    """A one-fold backtest with a chosen one-day ratio; nothing trains."""
    from lstm_core.forecasting.backtest_results import BacktestResult, FoldResult
    from lstm_core.forecasting.folds import FoldPlan

    dates = pd.bdate_range("2021-01-04", periods=3)
    fold = FoldResult(
        number=1,
        plan=FoldPlan(100, 103, 0),
        origin_date=pd.Timestamp("2020-12-31"),
        n_train=100,
        n_validation=0,
        test_dates=dates,
        actual=np.array([1.0, 2.0, 3.0]),
        predicted=np.array([1.0, 2.0, 3.0]),
        persistence=np.array([1.0, 1.0, 2.0]),
        metrics={"lstm": {"rmse": ratio}, "persistence": {"rmse": 1.0}},
        comparison={"rmse_ratio": ratio, "dm_pvalue": 0.5},
        forecasts=np.empty((0, 2)),
        fit_seconds=1.0,
        epochs_completed=1,
    )
    return BacktestResult(
        config=TINY,
        folds_planned=1,
        horizon=2,
        folds=[fold],
        by_horizon={"days": [1, 2], "lstm": [ratio, ratio], "persistence": [1.0, 1.0]},
        seconds=2.0,
        stopped=False,
        finished_at=finished_at,
    )


def test_saved_backtests_are_listed_newest_first_and_reopen_from_the_list_and_links(
    store, counter
) -> None:
    first = store.save_backtest(fake_backtest(0.5, "2026-01-01 10:00:00 UTC"))
    second = store.save_backtest(fake_backtest(0.75, "2026-01-02 10:00:00 UTC"))

    def shown_ratios(at: AppTest) -> list[float]:
        table = next(frame.value for frame in at.dataframe if "ratio" in frame.value.columns)
        return table["ratio"].tolist()

    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/backtest.py").run()
    assert not at.exception
    assert shown_ratios(at) == [0.75]
    picker = at.selectbox(key="saved_backtest_picker")
    assert picker.options == [
        f"#{second} MSFT, 2026-01-02 10:00:00 UTC",
        f"#{first} MSFT, 2026-01-01 10:00:00 UTC",
    ]
    assert picker.value == second
    picker.set_value(first).run()
    assert shown_ratios(at) == [0.5]
    assert at.query_params["backtest"] in (str(first), [str(first)])

    linked = AppTest.from_file(APP, default_timeout=120)
    linked.query_params.update({"backtest": str(first), "folds": "3", "horizon": "2"})
    linked.switch_page("pages/backtest.py").run()
    assert shown_ratios(linked) == [0.5]
    assert linked.slider(key="backtest_folds").value == 3
    assert linked.slider(key="backtest_horizon").value == 2
    # Another page and back: the form and the backtest shown stay.
    linked.switch_page("pages/market.py").run()
    linked.switch_page("pages/backtest.py").run()
    assert shown_ratios(linked) == [0.5]
    assert linked.slider(key="backtest_folds").value == 3

    gone = AppTest.from_file(APP, default_timeout=120)
    gone.query_params["backtest"] = "99"
    gone.switch_page("pages/backtest.py").run()
    assert "Backtest 99 from this link is not among the saved backtests" in texts(gone)
    assert shown_ratios(gone) == [0.75]
    assert counter.configs == []


def test_compare_charts_the_runs_a_link_names_and_keeps_them_in_the_address(store) -> None:
    ids = [store.save(fake_run(TINY.with_changes(seed=seed), "abc", 1.0)) for seed in (1, 2, 3)]

    def charted(at: AppTest) -> list[str]:
        losses = next(
            json.loads(chart.proto.spec)
            for chart in at.get("plotly_chart")
            if "compare_losses" in chart.proto.id
        )
        # Each run's curve is named "#ID batch ..., seed ..."; its no-skill line follows it.
        return [
            trace["name"].split()[0]
            for trace in losses["data"]
            if not trace["name"].endswith(": no skill")
        ]

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["runs"] = f"{ids[0]}-{ids[2]}-77"
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert sorted(charted(at)) == sorted([f"#{ids[0]}", f"#{ids[2]}"])
    assert "Run 77 from this link is not saved any more" in texts(at)
    at.switch_page("pages/market.py").run()
    at.switch_page("pages/compare.py").run()
    assert at.query_params["runs"] in (f"{ids[0]}-{ids[2]}", [f"{ids[0]}-{ids[2]}"])

    plain = AppTest.from_file(APP, default_timeout=120)
    plain.switch_page("pages/compare.py").run()
    assert sorted(charted(plain)) == sorted([f"#{ids[2]}", f"#{ids[1]}"])


def test_tune_shows_the_study_a_link_names(store) -> None:
    import optuna

    from lstm_core.experiments.tuning import study_storage_url

    optuna.create_study(study_name="MSFT linked", storage=study_storage_url(store))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["study"] = "MSFT linked"
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    assert "Study MSFT linked" in [header.value for header in at.header]
    at.switch_page("pages/market.py").run()
    at.switch_page("pages/tune.py").run()
    assert at.query_params["study"] in ("MSFT linked", ["MSFT linked"])

    gone = AppTest.from_file(APP, default_timeout=120)
    gone.query_params["study"] = "MSFT deleted"
    gone.switch_page("pages/tune.py").run()
    assert "The study this link names is not in the study file" in texts(gone)
    assert "Study MSFT deleted" not in [header.value for header in gone.header]
