"""Every wait on the cluster has a limit and a sentence: addresses that are not a Dask scheduler,
a scheduler without workers, and a scheduler lost during a study.

The listeners are real sockets on free ports served by threads here; the schedulers are real
`dask scheduler` processes (workers, when any, start without TensorFlow, so this file is cheap).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import optuna
import pytest

from lstm_core import cli
from lstm_core.execution import cluster
from lstm_core.execution.cluster import connection, runners
from tests.dask_cluster import local_cluster
from tests.test_app_pages import new_app, texts


@contextlib.contextmanager
def listener(greeting: bytes | None) -> Iterator[str]:
    """A TCP listener on a free port that accepts every connection and then either says
    nothing (`greeting` None) or sends `greeting`; yields its tcp:// address."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection_, _ = server.accept()
            except OSError:
                return
            accepted.append(connection_)
            if greeting is not None:
                with contextlib.suppress(OSError):
                    connection_.sendall(greeting)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for each in accepted:
            each.close()
        thread.join(timeout=5)


SILENT = None
GARBAGE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>" + b"\xff" * 64


def _silent_sentence(address: str, seconds: str) -> str:
    return (
        f"The program at {address} accepted the connection but did not answer as a Dask "
        f"scheduler within {seconds} s: check the address and port, or start the scheduler "
        "(make cluster)."
    )


def _garbage_sentence(address: str) -> str:
    return (
        f"The program at {address} is not a Dask scheduler (it answered with something else): "
        "check the address and port."
    )


def test_a_listener_that_never_answers_is_refused_in_one_sentence(capsys, monkeypatch):
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 1.0)
    with listener(SILENT) as address:
        with pytest.raises(cluster.ClusterError) as raised:
            cluster.connect(address)
        assert str(raised.value) == _silent_sentence(address, "1")
        assert cli.main(["train", "--scheduler", address]) == 2
    assert capsys.readouterr().err == f"error: {_silent_sentence(address, '1')}\n"


def test_a_listener_that_sends_garbage_is_refused_in_one_sentence(capsys):
    with listener(GARBAGE) as address:
        with pytest.raises(cluster.ClusterError) as raised:
            cluster.connect(address)
        assert str(raised.value) == _garbage_sentence(address)
        # The size Dask would read from these bytes is exabytes; a short greeting is refused too.
        assert cli.main(["sweep", "--lags", "10", "--batch-sizes", "64", "--scheduler", address])
    assert capsys.readouterr().err == f"error: {_garbage_sentence(address)}\n"
    with listener(b"\x05\x00\x00\x00\x00\x00\x00\x00hello") as address:
        with pytest.raises(cluster.ClusterError, match="is not a Dask scheduler"):
            cluster.connect(address)


def test_the_pages_keep_working_here_beside_a_silent_address(monkeypatch):
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(cluster, "SHARED_CLUSTER", cluster.SharedCluster())
    with listener(SILENT) as address:
        monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, address)
        at = new_app()
        at.switch_page("pages/train.py").run()
        assert not at.exception
        assert f"{_silent_sentence(address, '1')} Training runs on this server instead." in texts(
            at
        )
        # The Train button is there: the page was drawn, not left waiting.
        assert "Train" in [button.label for button in at.button]


def test_a_scheduler_without_workers_is_said_and_the_cli_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(connection, "WORKERS_TIMEOUT", 1.0)
    monkeypatch.setattr(cluster, "SHARED_CLUSTER", cluster.SharedCluster())
    with local_cluster(tmp_path, workers=0) as empty:
        assert cli.main(["train", "--scheduler", empty.address]) == 2
        assert capsys.readouterr().err == (
            f"error: The Dask scheduler at {empty.address} has had no workers for 1 s: start one "
            "(make worker), or train here instead (leave out --scheduler and unset "
            "LSTM_LAB_DASK).\n"
        )
        monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, empty.address)
        at = new_app()
        at.switch_page("pages/train.py").run()
        assert not at.exception
        assert (
            f"The Dask scheduler at {empty.address} has no workers, so training runs on this "
            "server until one joins (make worker)."
        ) in texts(at)


def test_a_scheduler_lost_during_a_study_ends_it_with_exit_2_and_keeps_its_trials(
    tmp_path, capsys, monkeypatch
):
    """A first trial trained here; the second goes to a scheduler that is killed at once."""
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    tiny = ["--lag", "10", "--epochs", "1", "--units", "8", "--dense-units", "0"]
    study = ["tune", *tiny, "--trials", "1", "--search", "batch_size=32:64", "--seed", "5",
             "--study", "lost", "--storage", storage]  # fmt: skip
    assert cli.main(study) == 0, capsys.readouterr().err
    capsys.readouterr()
    with local_cluster(tmp_path, workers=1, preload=False) as started:
        submit = runners.ClusterRunner._submit

        def submit_then_lose_the_scheduler(self, config, series, *options):
            submission = submit(self, config, series, *options)
            started.kill_scheduler()
            return submission

        monkeypatch.setattr(runners.ClusterRunner, "_submit", submit_then_lose_the_scheduler)
        status = cli.main([*study, "--scheduler", started.address])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith(
        f"error: The Dask scheduler at {started.address} stopped answering during training "
    )
    assert error.endswith("). Start it again and retry.\n")
    assert error.count("\n") == 1
    states = [trial.state for trial in optuna.load_study(study_name="lost", storage=storage).trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]


def test_workers_that_all_die_end_a_sweeps_wait_in_one_sentence(tmp_path, monkeypatch):
    """Dask's own executor would wait for ever for a worker to come back."""
    import time

    monkeypatch.setattr(connection, "WORKERS_TIMEOUT", 1.0)
    monkeypatch.setattr(runners, "WORKER_CHECK_INTERVAL", 0.2)
    with local_cluster(tmp_path, workers=1, preload=False) as started:
        client = cluster.connect(started.address)
        try:
            results = cluster.cluster_executor(client).map(time.sleep, [600, 600])
            while not any(client.processing().values()):
                time.sleep(0.05)
            started.kill_worker(0)
            with pytest.raises(cluster.NoWorkersError) as raised:
                next(results)
        finally:
            client.close()
    assert str(raised.value) == (
        f"The Dask scheduler at {started.address} has had no workers for 1 s: start one "
        "(make worker), or train here instead (leave out --scheduler and unset LSTM_LAB_DASK)."
    )


def test_a_page_run_whose_workers_all_die_is_trained_here_and_says_so(tmp_path, monkeypatch):
    """The app's runner (with a fall-back) trains here once the workers have been gone 1 s."""
    import time

    from lstm_core import data
    from lstm_core.config import TrainConfig
    from lstm_core.execution.jobs import TrainingJob

    monkeypatch.setattr(connection, "WORKERS_TIMEOUT", 1.0)
    monkeypatch.setattr(runners, "WORKER_CHECK_INTERVAL", 0.2)
    series = data.load_snapshot().series("MSFT")
    config = TrainConfig(lag=10, units=(8,), dense_units=0, epochs=40, batch_size=16)
    with local_cluster(tmp_path, workers=1, preload=False) as started:
        client = cluster.connect(started.address)
        try:
            runner = cluster.ClusterRunner(
                client, restore_model=False, fall_back=cluster.train_here
            )
            job = TrainingJob(config, series, runner=runner, heartbeat_timeout=None).start()
            while not any(client.processing().values()):
                time.sleep(0.05)
            started.kill_worker(0)
            while not runner.notes:
                time.sleep(0.1)
            # Trained here from now on; training it to the end proves nothing more.
            job.request_stop()
            assert job.wait(timeout=300)
        finally:
            client.close()
    assert job.state == "stopped", job.error
    assert job.result.cluster_note == (
        f"The Dask scheduler at {started.address} has had no workers for 1 s. This run was "
        "trained here, on the app's own server, instead."
    )


def test_a_scheduler_that_falls_silent_is_said_once_and_not_waited_for_again(tmp_path, monkeypatch):
    """A connected scheduler stopped with SIGSTOP: it keeps its connections and never answers."""
    import os
    import signal

    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 1.0)
    shared = cluster.SharedCluster()
    monkeypatch.setattr(cluster, "SHARED_CLUSTER", shared)
    with local_cluster(tmp_path, workers=1, preload=False) as started:
        monkeypatch.setenv(cluster.ENVIRONMENT_VARIABLE, started.address)
        assert shared.runner(started.address) is not None
        os.killpg(started.scheduler.pid, signal.SIGSTOP)
        try:
            at = new_app()
            at.switch_page("pages/train.py").run()
            assert not at.exception
            sentence = (
                f"The Dask scheduler at {started.address} did not say how many workers it has "
                "within 1 s. Training runs on this server instead."
            )
            assert sentence in texts(at)

            # The next page run says the same without asking the silent scheduler again.
            def no_second_try(*_arguments):
                raise AssertionError("the silent scheduler was asked again")

            monkeypatch.setattr("lstm_core.execution.cluster.shared.connect", no_second_try)
            assert shared.runner(started.address) is None
            assert shared.failure == sentence.removesuffix(" Training runs on this server instead.")
        finally:
            os.killpg(started.scheduler.pid, signal.SIGCONT)
