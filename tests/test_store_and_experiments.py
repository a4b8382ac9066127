"""The run store round-trips runs and survives damage; seed spreads match a hand computation."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.experiments import (
    SequentialExecutor,
    difference_verdict,
    grid_configs,
    group_verdict,
    heatmap_frame,
    ranking_period,
    seed_configs,
    spread_table,
)
from lstm_core.pipeline import run_training
from lstm_core.store import RunStore

TINY = TrainConfig(ticker="SYN", lag=10, batch_size=32, epochs=1, units=(8,), dense_units=0)


@pytest.fixture(scope="module")
def trained(request) -> object:
    generator = np.random.default_rng(3)
    values = 50 + np.cumsum(generator.normal(0, 0.5, 200))
    series = pd.Series(values, index=pd.bdate_range("2021-01-01", periods=200), name="SYN")
    return run_training(TINY, series)


def test_store_round_trips_a_run(tmp_path, trained) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.save(trained, owner="alice", group="seeds")
    loaded = RunStore(tmp_path / "runs.sqlite").load(run_id)
    assert loaded.config == trained.config
    assert loaded.metrics == trained.metrics
    assert loaded.loss_history == trained.loss_history
    assert np.array_equal(loaded.predicted, trained.predicted)
    assert np.array_equal(loaded.actual, trained.actual)
    assert list(loaded.test_dates) == list(trained.test_dates)
    model = store.load_model(run_id)
    reloaded = model.predict(trained.prepared.x_test, verbose=0).reshape(-1)
    assert trained.prepared.scaler.inverse(reloaded) == pytest.approx(trained.predicted, rel=1e-5)
    table = store.table(owner="alice")
    assert table["id"].tolist() == [run_id]
    assert table["LSTM RMSE ($)"].iloc[0] == pytest.approx(trained.metrics["lstm"]["rmse"])
    assert store.table(owner="bob").empty


def test_store_deletes_runs(tmp_path, trained) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    first, second = store.save(trained), store.save(trained)
    assert store.delete([first]) == 1
    assert store.table()["id"].tolist() == [second]
    with pytest.raises(StoreError, match=f"There is no saved run number {first}"):
        store.load(first)


def test_a_damaged_store_is_set_aside_and_recreated(tmp_path, trained) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = RunStore(path)
    assert store.notice is not None and "damaged" in store.notice
    assert store.table().empty
    assert store.save(trained) == 1
    assert len(list(tmp_path.glob("runs.sqlite.damaged-*"))) == 1


def test_a_missing_store_folder_is_created(tmp_path) -> None:
    store = RunStore(tmp_path / "new" / "deeper" / "runs.sqlite")
    assert store.table().empty and store.notice is None


def fake_run(rmse: float, baseline: float = 5.0, seed: int = 0) -> SimpleNamespace:
    metrics = {name: rmse for name in ("mse_scaled", "mae", "mape", "mase")}
    return SimpleNamespace(
        config=TINY.with_changes(seed=seed),
        metrics={
            "lstm": {**metrics, "rmse": rmse, "direction_accuracy": 50.0},
            "persistence": {**metrics, "rmse": baseline, "direction_accuracy": 0.0},
        },
    )


def test_spread_matches_a_hand_computation() -> None:
    table = spread_table([fake_run(4.0), fake_run(6.0), fake_run(8.0)])
    row = table[(table["forecast"] == "LSTM") & (table["metric"] == "rmse")].iloc[0]
    assert row["mean"] == pytest.approx(6.0)
    # Sample standard deviation by hand: sqrt(((4-6)^2 + 0 + (8-6)^2) / 2) = 2.
    assert row["std"] == pytest.approx(2.0)
    assert (row["min"], row["max"], row["runs"]) == (4.0, 8.0, 3)
    baseline = table[(table["forecast"] == "Tomorrow = today") & (table["metric"] == "rmse")]
    assert baseline["std"].iloc[0] == 0.0
    single = spread_table([fake_run(4.0)])
    assert math.isnan(single["std"].iloc[0])


def test_difference_verdict_separates_signal_from_seed_noise() -> None:
    clear = difference_verdict(
        [fake_run(10.0), fake_run(10.2)], [fake_run(5.0), fake_run(5.2)], ("batch 200", "batch 1")
    )
    assert clear.startswith("batch 1 is better: its mean test RMSE is $5.00 lower")
    unclear = difference_verdict(
        [fake_run(5.0), fake_run(9.0)], [fake_run(6.0), fake_run(7.0)], ("a", "b")
    )
    assert unclear.startswith("No clear winner")


def test_configs_for_seeds_and_grid() -> None:
    assert [config.seed for config in seed_configs(TINY, [1, 2, 3])] == [1, 2, 3]
    with pytest.raises(ValueError, match="seeds must not repeat"):
        seed_configs(TINY, [1, 1])
    grid = grid_configs(TINY, [10, 20], [8, 16])
    assert [(config.lag, config.batch_size) for config in grid] == [
        (10, 8), (10, 16), (20, 8), (20, 16)
    ]  # fmt: skip
    assert list(SequentialExecutor().map(lambda config: config.lag, grid)) == [10, 10, 20, 20]


def test_heatmap_is_rmse_over_baseline() -> None:
    runs = [fake_run(2.5), fake_run(10.0)]
    runs[1].config = TINY.with_changes(lag=20)
    frame = heatmap_frame(runs)
    assert frame.loc[10, 32] == pytest.approx(0.5)
    assert frame.loc[20, 32] == pytest.approx(2.0)


def with_validation(run: SimpleNamespace, ratio: float) -> SimpleNamespace:
    run.validation = {"comparison": {"rmse_ratio": ratio}}
    return run


def test_a_group_beats_the_baseline_only_when_its_mean_does() -> None:
    # Test ratios 0.9 and 1.3: the luckiest seed beats persistence, the mean (1.1) does not.
    lucky = [fake_run(4.5, seed=1), fake_run(6.5, seed=2)]
    verdict = group_verdict({"lag 10": lucky})
    assert verdict.startswith(
        "No setting beats 'tomorrow = today' on average over its seeds (held-out test period)."
    )
    assert "lag 10: mean held-out test ratio 1.10" in verdict


def test_groups_with_validation_are_ranked_on_it_not_on_test() -> None:
    # On test, "b" looks better (0.8 against 1.2); on validation "a" is (0.95 against 1.05).
    groups = {
        "a": [with_validation(fake_run(6.0, seed=1), 0.95)],
        "b": [with_validation(fake_run(4.0, seed=1), 1.05)],
    }
    verdict = group_verdict(groups)
    assert verdict.startswith(
        "Beats 'tomorrow = today' on average over its seeds (validation period): a."
    )
    assert verdict.index("a: mean validation ratio 0.95 (held-out test 1.20)") < verdict.index(
        "b: mean validation ratio 1.05 (held-out test 0.80)"
    )
    frame = heatmap_frame([groups["a"][0]], period=ranking_period(groups["a"]))
    assert frame.loc[10, 32] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="this run has no validation period"):
        heatmap_frame([fake_run(4.0)], period="validation")
