"""The run store round-trips runs on SQLite and PostgreSQL and survives damage; seed spreads
match a hand computation."""

import contextlib
import copy
import json
import math
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy

from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.experiments import store_database
from lstm_core.experiments.store import RunStore, open_run_store
from lstm_core.experiments.store_database import RUNS, store_url
from lstm_core.experiments.sweeps import (
    SequentialExecutor,
    difference_verdict,
    grid_configs,
    group_verdict,
    heatmap_frame,
    ranking_period,
    seed_configs,
    spread_table,
)
from lstm_core.model.pipeline import run_training
from lstm_core.model.results import RunResult
from tests.postgres_server import free_port

TINY = TrainConfig(ticker="SYN", lag=10, batch_size=32, epochs=1, units=(8,), dense_units=0)


@pytest.fixture(scope="module")
def trained(request) -> object:
    generator = np.random.default_rng(3)
    values = 50 + np.cumsum(generator.normal(0, 0.5, 200))
    series = pd.Series(values, index=pd.bdate_range("2021-01-01", periods=200), name="SYN")
    return run_training(TINY, series)


def test_store_round_trips_a_run(store_location, trained) -> None:
    store = RunStore(store_location)
    run_id = store.save(trained, owner="alice", group="seeds")
    loaded = RunStore(store_location).load(run_id)
    assert loaded.config == trained.config
    assert loaded.metrics == trained.metrics
    assert loaded.loss_history == trained.loss_history
    assert np.array_equal(loaded.predicted, trained.predicted)
    assert np.array_equal(loaded.actual, trained.actual)
    assert list(loaded.test_dates) == list(trained.test_dates)
    assert (loaded.seconds, loaded.stopped) == (trained.seconds, trained.stopped)
    # The significance tests and validation figures come back through the extras column.
    assert trained.comparison is not None
    assert loaded.extras_json() == trained.extras_json()
    model = store.load_model(run_id)
    reloaded = model.predict(trained.prepared.x_test, verbose=0).reshape(-1)
    assert trained.prepared.scaler.inverse(reloaded) == pytest.approx(trained.predicted, rel=1e-5)
    table = store.table(owner="alice")
    assert table["id"].tolist() == [run_id]
    assert table["LSTM RMSE ($)"].iloc[0] == pytest.approx(trained.metrics["lstm"]["rmse"])
    assert table["group"].tolist() == ["seeds"]
    assert store.table(owner="bob").empty


def test_store_deletes_runs(store_location, trained) -> None:
    store = RunStore(store_location)
    first, second = store.save(trained), store.save(trained)
    assert store.delete([first]) == 1
    assert store.table()["id"].tolist() == [second]
    with pytest.raises(StoreError, match=f"There is no saved run number {first}"):
        store.load(first)
    # A deleted run's number is never given to a new run.
    assert store.save(trained) == second + 1
    assert store.delete([]) == 0


def test_private_runs_are_seen_and_deleted_only_by_their_owner(store_location, trained) -> None:
    store = RunStore(store_location)
    alice, bob = store.save(trained, owner="alice"), store.save(trained, owner="bob")
    assert store.table(owner="alice")["id"].tolist() == [alice]
    assert store.table()["id"].tolist() == [bob, alice]
    assert store.delete([alice, bob], owner="alice") == 1
    assert store.table()["id"].tolist() == [bob]


def test_sqlite_and_postgresql_give_identical_runs(tmp_path, postgres_server, trained) -> None:
    stores = [RunStore(tmp_path / "runs.sqlite"), RunStore(postgres_server.new_database())]
    for store in stores:
        store.save(trained, owner="alice", group="seeds")
        store.save(trained, owner="bob")
        store.save(trained, owner="alice")
        assert store.delete([1, 2], owner="alice") == 1
    sqlite, postgresql = stores
    pd.testing.assert_frame_equal(sqlite.table(), postgresql.table())
    assert sqlite.table()["id"].tolist() == [3, 2]
    assert sqlite.load(3).to_json() == postgresql.load(3).to_json()


def test_extras_are_saved_as_json_and_given_back(store_location, trained, monkeypatch) -> None:
    received = []
    monkeypatch.setattr(
        RunResult, "apply_extras", lambda self, extras: received.append(extras), raising=False
    )
    extras = {"diebold_mariano": {"statistic": -1.25, "pvalue": 0.21}, "note": "ünïcode"}
    with_extras = copy.copy(trained)
    with_extras.extras_json = lambda: extras
    without_extras = copy.copy(trained)
    without_extras.extras_json = None
    store = RunStore(store_location)
    first, second = store.save(with_extras), store.save(without_extras)
    store.load(first)
    store.load(second)
    assert received == [extras]
    stored = sqlalchemy.select(RUNS.c.extras).order_by(RUNS.c.id)
    with sqlalchemy.create_engine(store_url(store_location)).connect() as connection:
        assert connection.execute(stored).scalars().all() == [json.dumps(extras), None]


OLD_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, created_at TEXT NOT NULL,
    ticker TEXT NOT NULL, data_fingerprint TEXT NOT NULL, config TEXT NOT NULL,
    metrics TEXT NOT NULL, history TEXT NOT NULL, test TEXT NOT NULL, seconds REAL NOT NULL,
    stopped INTEGER NOT NULL, epochs_completed INTEGER NOT NULL, group_name TEXT, model BLOB
)
"""


def test_a_store_from_before_extras_gets_the_column_and_keeps_its_runs(tmp_path, trained) -> None:
    path = tmp_path / "runs.sqlite"
    payload = trained.to_json()
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(OLD_SCHEMA)
        connection.execute(
            "INSERT INTO runs (owner, created_at, ticker, data_fingerprint, config, metrics, "
            "history, test, seconds, stopped, epochs_completed) "
            "VALUES ('local', ?, 'SYN', '', ?, ?, ?, ?, 1.5, 0, 1)",
            [payload["finished_at"]]
            + [json.dumps(payload[key]) for key in ("config", "metrics", "history", "test")],
        )
    store = RunStore(path)
    assert store.notice is None
    assert store.load(1).metrics == trained.metrics
    assert store.save(trained) == 2
    with contextlib.closing(sqlite3.connect(path)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    assert columns[-1] == "extras"


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


def test_store_urls_for_sqlite_and_optuna(tmp_path, monkeypatch) -> None:
    root = Path(store_database.__file__).resolve().parents[2]
    monkeypatch.delenv("LSTM_LAB_STORE")
    assert store_url() == f"sqlite:///{root}/runs/runs.sqlite"
    assert store_url("sqlite:///elsewhere/runs.db") == f"sqlite:///{root}/elsewhere/runs.db"
    assert store_url(tmp_path / "a.sqlite") == f"sqlite:///{tmp_path}/a.sqlite"
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "b.sqlite"))
    assert RunStore().url == store_url() == f"sqlite:///{tmp_path}/b.sqlite"


def test_the_store_url_opens_the_same_database(store_location, trained) -> None:
    """What Optuna's study storage will be given reaches the runs the store saved."""
    store = RunStore(store_location)
    run_id = store.save(trained)
    with sqlalchemy.create_engine(store.url).connect() as connection:
        assert {"runs", "backtests"} <= set(sqlalchemy.inspect(connection).get_table_names())
        assert connection.execute(sqlalchemy.select(RUNS.c.id)).scalars().all() == [run_id]


def test_a_store_that_cannot_be_opened_is_replaced_by_the_default(tmp_path, monkeypatch) -> None:
    default = f"sqlite:///{tmp_path}/default.sqlite"
    monkeypatch.setattr(store_database, "DEFAULT_STORE_URL", default)
    monkeypatch.setenv("LSTM_LAB_STORE", "mysql://lab:s3cret@db/runs")
    store = open_run_store()
    assert store.url == default
    assert store.notice == (
        "The run store must be a SQLite file or a PostgreSQL database (a URL starting with "
        "sqlite:/// or postgresql+psycopg://), not mysql://. Until that is fixed, runs are saved "
        f"in this machine's own store ({default}), which only this app server sees."
    )
    # When the default itself cannot be opened, nothing safer is left: the error is raised.
    monkeypatch.setattr(store_database, "DEFAULT_STORE_URL", f"sqlite:///{tmp_path}")
    monkeypatch.delenv("LSTM_LAB_STORE")
    with pytest.raises(StoreError, match="could not be opened \\(unable to open database file\\)"):
        open_run_store()


def test_an_unreachable_database_is_one_sentence_without_its_password() -> None:
    url = f"postgresql+psycopg://lab:s3cret@127.0.0.1:{free_port()}/runs"
    with pytest.raises(StoreError) as raised:
        RunStore(url)
    message = str(raised.value)
    assert message == (
        f"The run store at {url.replace('s3cret', '***')} could not be opened "
        "(Connection refused); check LSTM_LAB_STORE."
    )


def test_a_wrong_database_or_user_is_named(postgres_server) -> None:
    with pytest.raises(
        StoreError, match='could not be opened \\(database "nowhere" does not exist'
    ):
        RunStore(postgres_server.url("nowhere"))
    url = f"postgresql+psycopg://stranger:pw@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(StoreError, match='\\(role "stranger" does not exist\\)') as raised:
        RunStore(url)
    assert ":pw@" not in str(raised.value)


@pytest.mark.parametrize(
    ("location", "sentence"),
    [
        ("mysql://lab:s3cret@db/runs", "not mysql://"),
        ("postgresql+psycopg2://lab@db/runs", "not postgresql+psycopg2://"),
        ("postgresql+psycopg://lab:s3cret@db:port/runs", "neither a file path nor a database URL"),
        ("sqlite://", "needs a file"),
    ],
)
def test_other_schemes_are_refused(location, sentence) -> None:
    with pytest.raises(StoreError, match=re.escape(sentence)) as raised:
        RunStore(location)
    assert "s3cret" not in str(raised.value)


def fake_run(rmse: float, baseline: float = 5.0, seed: int = 0) -> SimpleNamespace:
    metrics = {name: rmse for name in ("mse_scaled", "mae", "mape", "mase")}
    return SimpleNamespace(
        config=TINY.with_changes(seed=seed),
        metrics={
            "lstm": {**metrics, "rmse": rmse, "direction_accuracy": 50.0},
            "persistence": {**metrics, "rmse": baseline, "direction_accuracy": None},
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
    # Persistence has no direction score: its row carries no number, not a mean of zeros.
    direction = table[(table["forecast"] == "Tomorrow = today")]
    direction = direction[direction["metric"] == "direction_accuracy"].iloc[0]
    assert all(math.isnan(direction[column]) for column in ("mean", "std", "min", "max"))


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
