"""Training on a real Dask cluster: a scheduler and 2 worker processes on free loopback ports.

One cluster for the module (each worker's TensorFlow import takes 10-40 s here); the test
that kills a worker runs last. In-process runs of the same configs are the reference.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from lstm_core import cli, data
from lstm_core.config import TrainConfig
from lstm_core.execution import cluster
from lstm_core.execution.cluster import connection
from lstm_core.execution.cluster.code_check import code_fingerprint, other_code_workers
from lstm_core.execution.jobs import CLOSED_TAB, TrainingJob
from lstm_core.experiments import sweeps as experiments
from lstm_core.experiments.store import RunStore
from tests.dask_cluster import local_cluster
from tests.streamlit_server import free_port
from tests.test_app_pages import click_train_and_wait, new_app, set_tiny_settings, texts

TINY = TrainConfig(lag=10, units=(8,), dense_units=0, epochs=1, batch_size=64)
GRID = {"lags": [10, 12], "batch_sizes": [64, 128]}
LONG = TrainConfig(lag=10, units=(8,), dense_units=0, epochs=40, batch_size=16)
"""Long enough (about 70 batches an epoch) that a stop lands mid-training."""


@pytest.fixture(scope="module")
def series():
    return data.load_snapshot().series("MSFT")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("dask")) as started:
        yield started


@pytest.fixture(scope="module")
def in_process(series):
    """The 4-config sweep trained here, one after another: the reference numbers."""
    configs = experiments.grid_configs(TINY, GRID["lags"], GRID["batch_sizes"])
    return experiments.run_configs(configs, series)


@pytest.fixture(scope="module")
def client(dask_cluster):
    connected = cluster.connect(dask_cluster.address)
    yield connected
    connected.close()


def _rmse_table(results) -> list[tuple[int, int, float, float]]:
    return [
        (
            result.config.lag,
            result.config.batch_size,
            result.metrics["lstm"]["rmse"],
            result.metrics["persistence"]["rmse"],
        )
        for result in results
    ]


def test_a_cli_sweep_on_the_cluster_gives_the_in_process_numbers(
    dask_cluster, in_process, tmp_path, capsys
) -> None:
    out = tmp_path / "sweep.json"
    status = cli.main(
        [
            "sweep",
            "--lags",
            *map(str, GRID["lags"]),
            "--batch-sizes",
            *map(str, GRID["batch_sizes"]),
            "--epochs",
            "1",
            "--units",
            "8",
            "--dense-units",
            "0",
            "--scheduler",
            dask_cluster.address,
            "--json",
            str(out),
        ]
    )
    assert status == 0, capsys.readouterr().err
    written = json.loads(out.read_text())
    assert written["seconds"] > 0
    remote = [
        (
            run["config"]["lag"],
            run["config"]["batch_size"],
            run["metrics"]["lstm"]["rmse"],
            run["metrics"]["persistence"]["rmse"],
        )
        for run in written["runs"]
    ]
    # Same configs in the same order, and the same numbers: same seed, same CPU, same code.
    np.testing.assert_allclose(remote, _rmse_table(in_process), rtol=1e-9)
    for run, reference in zip(written["runs"], in_process, strict=True):
        assert run["comparison"]["rmse_ratio"] == pytest.approx(
            reference.comparison["rmse_ratio"], rel=1e-9
        )
    assert "on the Dask cluster at" in capsys.readouterr().out


def _wait_for_epochs(job: TrainingJob, epochs: int, beat: bool) -> None:
    """Wait (as the page does, heartbeating when `beat`) until `epochs` epochs were reported."""
    while not job.finished:
        if beat:
            job.heartbeat()
        if job.progress is not None and len(job.progress.epoch_losses) >= epochs:
            return
        time.sleep(0.05)


def _check_kept_model(result, series) -> None:
    """The weights that came back are the trained ones: they reproduce the test predictions."""
    prepared = result.prepared
    scaled = result.model.predict(prepared.x_test, verbose=0).reshape(-1)
    predicted = prepared.to_dollars(scaled, prepared.test_last_known)
    np.testing.assert_allclose(predicted, result.predicted, rtol=1e-5)
    assert result.model_bytes[:2] == b"PK"  # a .keras file is a zip archive


def test_stop_reaches_the_worker_and_keeps_the_trained_model(client, series) -> None:
    job = TrainingJob(LONG, series, runner=cluster.ClusterRunner(client), heartbeat_timeout=None)
    job.start()
    _wait_for_epochs(job, 2, beat=False)
    asked = time.monotonic()
    job.request_stop()
    assert job.wait(timeout=300)
    print(f"stop to result: {time.monotonic() - asked:.2f} s")
    assert job.state == "stopped", job.error
    result = job.result
    assert result.stopped
    # Progress arrived live: at least the two epochs waited for, and training ended early.
    assert 2 <= result.epochs_completed < LONG.epochs
    # The loss list also holds the epoch the stop cut short.
    assert len(result.loss_history) in {result.epochs_completed, result.epochs_completed + 1}
    _check_kept_model(result, series)


def test_a_closed_tab_stops_the_remote_training(client, series) -> None:
    job = TrainingJob(LONG, series, runner=cluster.ClusterRunner(client), heartbeat_timeout=1.0)
    job.start()
    _wait_for_epochs(job, 1, beat=True)
    # The page stops heartbeating: its tab is gone.
    assert job.wait(timeout=300)
    assert job.state == "stopped", job.error
    assert job.stop_reason == CLOSED_TAB
    assert 1 <= job.result.epochs_completed < LONG.epochs


def test_two_sessions_trainings_run_at_once_one_per_worker(client, series) -> None:
    runner = cluster.ClusterRunner(client, restore_model=False)
    configs = [TINY.with_changes(seed=1), TINY.with_changes(seed=2)]
    with ThreadPoolExecutor(2) as sessions:
        results = list(sessions.map(lambda config: runner(config, series), configs))
    assert [result.config.seed for result in results] == [1, 2]
    assert results[0].cluster_worker != results[1].cluster_worker


def test_a_group_job_trains_its_configs_at_once_and_in_order(client, series, in_process):
    """As the Compare page starts a sweep: one TrainingJob, its configs spread over workers."""
    configs = experiments.grid_configs(TINY, GRID["lags"], GRID["batch_sizes"])
    runner = cluster.ClusterRunner(client, restore_model=False).group(configs, series)
    job = TrainingJob(configs, series, runner=runner, kind="sweep", heartbeat_timeout=None)
    assert job.start().wait(timeout=600)
    assert job.state == "done", job.error
    np.testing.assert_allclose(_rmse_table(job.results), _rmse_table(in_process), rtol=1e-9)
    assert len({result.cluster_worker for result in job.results}) == 2


def test_stopping_a_group_job_stops_the_runs_not_collected_yet(client, series) -> None:
    configs = [LONG.with_changes(seed=seed) for seed in (1, 2, 3)]
    runner = cluster.ClusterRunner(client, restore_model=False).group(configs, series)
    job = TrainingJob(configs, series, runner=runner, kind="seeds", heartbeat_timeout=None)
    job.start()
    _wait_for_epochs(job, 1, beat=False)
    others = [submission.stop_event for submission in runner.pending]
    job.request_stop()
    assert job.wait(timeout=300)
    assert job.state == "stopped" and len(job.results) == 1 and job.results[0].stopped
    assert len(others) == 2 and runner.pending == []
    # The other two runs were told to stop too, by the event their workers check.
    assert all(event.is_set() for event in others)


def test_a_sweep_without_a_scheduler_trains_here_seed_by_seed(
    series, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv(cluster.ENVIRONMENT_VARIABLE, raising=False)
    out = tmp_path / "sweep.json"
    arguments = ["sweep", "--lags", "10", "--batch-sizes", "64", "--seeds", "1", "2"]
    status = cli.main([*arguments, "--epochs", "1", "--units", "8", "--json", str(out)])
    assert status == 0, capsys.readouterr().err
    runs = json.loads(out.read_text())["runs"]
    assert [(run["config"]["lag"], run["config"]["seed"]) for run in runs] == [(10, 1), (10, 2)]
    # Persistence, by hand: each test day's forecast is the day before's price.
    prices = series.to_numpy()
    test_start = int(np.floor(0.8 * len(prices)))  # the first test day, whatever the lag
    errors = prices[test_start:] - prices[test_start - 1 : -1]
    for run in runs:
        assert run["metrics"]["persistence"]["rmse"] == pytest.approx(
            np.sqrt(np.mean(errors**2)), rel=1e-9
        )
    assert runs[0]["metrics"]["lstm"]["rmse"] != runs[1]["metrics"]["lstm"]["rmse"]
    assert "on the Dask cluster" not in capsys.readouterr().out


def test_an_unreachable_scheduler_is_one_sentence_and_cli_exit_2(capsys, monkeypatch) -> None:
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    status = cli.main(["sweep", "--lags", "10", "--batch-sizes", "64", "--scheduler", address])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == (
        f"error: Cannot reach the Dask scheduler at {address} within 1 s: start it "
        "(make cluster) or check the address and the network.\n"
    )
    assert cli.main(["train", "--scheduler", "localhost:8786"]) == 2
    assert capsys.readouterr().err == (
        "error: The Dask scheduler address must look like tcp://HOST:PORT (such as "
        "tcp://10.0.0.5:8786), got 'localhost:8786'.\n"
    )


def test_a_worker_or_scheduler_without_the_project_code_is_named(tmp_path) -> None:
    with local_cluster(tmp_path, workers=1, project_code=False) as bare_worker:
        with pytest.raises(cluster.ClusterError) as raised:
            cluster.connect(bare_worker.address)
    assert str(raised.value).startswith("The Dask worker(s) tcp://127.0.0.1:")
    assert str(raised.value).endswith(
        "cannot import LSTM Stock Lab's code: start each worker from a clone of the project "
        "with PYTHONPATH set to it (make worker does)."
    )
    with local_cluster(tmp_path, workers=0, scheduler_code=False) as bare_scheduler:
        with pytest.raises(cluster.ClusterError) as raised:
            cluster.connect(bare_scheduler.address)
    assert str(raised.value) == (
        f"The Dask scheduler at {bare_scheduler.address} cannot import LSTM Stock Lab's code: "
        "start it from a clone of the project with PYTHONPATH set to it (make cluster does)."
    )


def test_workers_whose_code_hashes_otherwise_or_that_failed_to_answer_are_named() -> None:
    ours = code_fingerprint()
    assert len(ours) == 12 and int(ours, 16) >= 0
    reports = {
        "tcp://a:1": ours,
        "tcp://c:3": "0123456789ab",
        "tcp://b:2": RuntimeError("no such function"),
    }
    assert other_code_workers(reports) == ["tcp://b:2", "tcp://c:3"]


def test_the_train_page_trains_on_the_cluster_and_links_its_dashboard(
    dask_cluster, monkeypatch
) -> None:
    monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, dask_cluster.address)
    monkeypatch.setattr(cluster, "SHARED_CLUSTER", cluster.SharedCluster())
    at = new_app()
    at.switch_page("pages/train.py").run()
    assert f"Training runs on the Dask cluster at {dask_cluster.address} (2 workers" in texts(at)
    assert "[dashboard](http://127.0.0.1:" in texts(at)
    # A seed no other test trains: a stored run of the same settings would be shown at once.
    set_tiny_settings(at, seed=4321)
    click_train_and_wait(at)
    result = at.session_state["training_job"].result
    assert result.cluster_worker.startswith("tcp://127.0.0.1:")
    # Stored with its weights, and shown as an in-process result would be.
    assert result.run_id is not None and result.model is not None
    assert (
        "On the held-out test period the LSTM's typical error is "
        f"{result.comparison['rmse_ratio']:.2f}x"
    ) in texts(at)


def test_an_unreachable_scheduler_is_said_on_the_page_and_training_stays_here(monkeypatch):
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, address)
    monkeypatch.setattr(cluster, "SHARED_CLUSTER", cluster.SharedCluster())
    at = new_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert (
        f"Cannot reach the Dask scheduler at {address} within 1 s: start it (make cluster) or "
        "check the address and the network. Training runs on this server instead."
    ) in texts(at)
    # The failure is remembered for a while: the next page run does not wait again.
    assert cluster.SHARED_CLUSTER.runner(address) is None


def test_a_worker_killed_mid_sweep_loses_no_result(dask_cluster, client, series, in_process):
    """Runs late: it leaves the module's cluster one worker short."""
    configs = experiments.grid_configs(TINY, GRID["lags"], GRID["batch_sizes"])
    results_iterator = cluster.cluster_executor(client).map(
        experiments.train_task, configs, [series] * len(configs)
    )
    # Kill a worker as soon as it runs a training (each task is busy for a second or more).
    while not any(client.processing().values()):
        time.sleep(0.02)
    busy = [worker for worker, tasks in client.processing().items() if tasks]
    worker_pids = client.run(os.getpid)
    victim = next(
        index
        for index, process in enumerate(dask_cluster.workers)
        if any(_is_child(pid, process.pid) for worker, pid in worker_pids.items() if worker in busy)
    )
    dask_cluster.kill_worker(victim)
    results = list(results_iterator)
    np.testing.assert_allclose(_rmse_table(results), _rmse_table(in_process), rtol=1e-9)


def _is_child(pid: int, ancestor: int) -> bool:
    """Whether process `pid` descends from `ancestor` (a worker runs under its nanny)."""
    while pid > 1:
        if pid == ancestor:
            return True
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return False


def _runs_started_on_workers(client) -> int:
    """How many training tasks have begun on the workers: each logs a start on its topic."""
    return sum(
        1
        for topic, events in client.get_events().items()
        if topic.startswith("lstm-lab-progress-")
        for _, event in events
        if event.get("kind") == "start"
    )


def test_backtest_and_tune_train_on_the_cluster_with_the_in_process_numbers(
    dask_cluster, client, tmp_path, capsys, monkeypatch
) -> None:
    """`backtest` and `tune` with --scheduler: folds and trials train on the workers."""
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    started_before = _runs_started_on_workers(client)
    tiny = ["--lag", "10", "--epochs", "1", "--units", "8", "--dense-units", "0"]
    outputs = {}
    for where, extra in (("here", []), ("cluster", ["--scheduler", dask_cluster.address])):
        backtest = tmp_path / f"backtest_{where}.json"
        arguments = ["backtest", *tiny, "--batch-size", "64", "--validation-fraction", "0.1"]
        status = cli.main(
            [*arguments, "--folds", "2", "--horizon", "2", *extra, "--json", str(backtest)]
        )
        assert status == 0, capsys.readouterr().err
        tune = tmp_path / f"tune_{where}.json"
        status = cli.main(
            ["tune", *tiny, "--trials", "2", "--search", "batch_size=32:64", "--seed", "5",
             "--study", f"study_{where}", *extra, "--json", str(tune)]
        )  # fmt: skip
        assert status == 0, capsys.readouterr().err
        outputs[where] = (json.loads(backtest.read_text()), json.loads(tune.read_text()))
    assert capsys.readouterr().out.count("on the Dask cluster at") == 2
    # Two folds and two trials, each trained on a worker, and nothing else.
    assert _runs_started_on_workers(client) - started_before == 4
    (backtest_here, tune_here), (backtest_remote, tune_remote) = outputs["here"], outputs["cluster"]
    assert [fold["comparison"]["rmse_ratio"] for fold in backtest_remote["folds"]] == pytest.approx(
        [fold["comparison"]["rmse_ratio"] for fold in backtest_here["folds"]], rel=1e-9
    )
    for forecaster in ("lstm", "persistence"):
        assert backtest_remote["by_horizon"][forecaster] == pytest.approx(
            backtest_here["by_horizon"][forecaster], rel=1e-9
        )
    assert [trial["value"] for trial in tune_remote["trials"]] == pytest.approx(
        [trial["value"] for trial in tune_here["trials"]], rel=1e-9
    )
    # No trial predicted the test period, on a worker or here; only the best, once, at the end.
    tuned = RunStore().table().query("group == 'tune'")
    assert len(tuned) == 4 and tuned["LSTM / baseline"].isna().all()
    assert tune_remote["best"]["test"]["comparison"]["rmse_ratio"] == pytest.approx(
        tune_here["best"]["test"]["comparison"]["rmse_ratio"], rel=1e-9
    )


def test_a_scheduler_lost_mid_training_falls_back_to_this_process_and_says_so(
    dask_cluster, client, series
) -> None:
    """Runs last: it kills the module's scheduler."""
    runner = cluster.ClusterRunner(client, restore_model=False, fall_back=cluster.train_here)
    job = TrainingJob(LONG, series, runner=runner, heartbeat_timeout=None).start()
    while job.progress is None:
        time.sleep(0.05)
    dask_cluster.kill_scheduler()
    # Once the run falls back here, stop it: training it to the end here proves nothing more.
    while not runner.notes:
        time.sleep(0.1)
    job.request_stop()
    assert job.wait(timeout=300)
    assert job.state == "stopped", job.error
    note = job.result.cluster_note
    assert note.startswith(
        f"The Dask scheduler at {dask_cluster.address} stopped answering during training "
        f"{LONG.label()} ("
    )
    assert note.endswith("). This run was trained here, on the app's own server, instead.")
    assert getattr(job.result, "cluster_worker", None) is None
