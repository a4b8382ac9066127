"""Nothing leaked, nothing lost: passwords masked everywhere, stores opened by racing processes,
foreign files refused untouched, storage errors in one sentence (issue 24)."""

import contextlib
import multiprocessing
import sqlite3
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from streamlit.testing.v1 import AppTest

from lstm_core import cli
from lstm_core.errors import StoreError
from lstm_core.execution import jobs
from lstm_core.experiments import tuning
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.store_database import connect_options, shown_url
from tests.test_store_and_experiments import OLD_SCHEMA
from tests.test_tuning import TINY

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-Pw-24"
optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_shown_url_masks_the_password_and_a_password_parameter() -> None:
    url = f"postgresql+psycopg://ann:{PASSWORD}@db:5432/lab?password={PASSWORD}&sslmode=require"
    shown = shown_url(url)
    assert PASSWORD not in shown
    assert shown.startswith("postgresql+psycopg://ann:***@db:5432/lab?")
    assert "sslmode=require" in shown
    assert connect_options("sqlite:///x.sqlite", 30) == {"timeout": 30}
    assert "timeout" not in connect_options(url, 30)


def _open_and_count(path: str, barrier, counts) -> None:
    barrier.wait()
    store = RunStore(path)
    with store.engine.connect() as connection:
        counted = connection.execute(sqlalchemy.text("SELECT count(*) FROM runs")).scalar()
    counts.put((store.notice, counted))


def _race(path: Path, processes: int) -> list:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    counts = context.Queue()
    workers = [
        context.Process(target=_open_and_count, args=(str(path), barrier, counts))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [counts.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


def _old_store(path: Path, runs: int) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(OLD_SCHEMA)
        for _ in range(runs):
            connection.execute(
                "INSERT INTO runs (owner, created_at, ticker, data_fingerprint, config, metrics, "
                "history, test, seconds, stopped, epochs_completed) "
                "VALUES ('local', '2026-01-01', 'SYN', '', '{}', '{}', '{}', '{}', 1.5, 0, 1)"
            )


def test_an_older_store_opened_by_four_processes_at_once_keeps_its_runs(tmp_path) -> None:
    for attempt in range(10):
        path = tmp_path / f"runs{attempt}.sqlite"
        _old_store(path, runs=3)
        assert _race(path, 4) == [(None, 3)] * 4
        assert not list(tmp_path.glob("*.damaged-*"))


def test_a_fresh_store_opened_by_six_processes_is_made_once(tmp_path) -> None:
    for attempt in range(3):
        path = tmp_path / f"fresh{attempt}.sqlite"
        assert _race(path, 6) == [(None, 0)] * 6
    assert not list(tmp_path.glob("*.damaged-*"))


def test_another_programs_database_is_refused_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "theirs.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, distance REAL)")
        connection.execute("INSERT INTO runs (distance) VALUES (42.195)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"has a runs table that is not LSTM Stock Lab.s"):
        RunStore(path)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_text_file_is_set_aside_and_the_cli_says_so(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my shopping list\n" * 50)
    monkeypatch.setenv("LSTM_LAB_STORE", str(path))
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    assert cli.main(["tune", "--trials", "1", "--storage", storage, "--study", "a\nb"]) == 2
    notice, refusal = capsys.readouterr().err.splitlines()
    assert "kept as notes.txt.damaged-" in notice
    assert refusal == "error: A study name must be one line of printable text, not 'a\\nb'."
    assert cli.main(["tune", "--trials", "1", "--storage", storage, "--timeout", "nan"]) == 2
    assert "must be a number of seconds (or none at all), got nan" in capsys.readouterr().err
    assert len(list(tmp_path.glob("notes.txt.damaged-*"))) == 1


@pytest.mark.parametrize(
    ("storage", "sentence"),
    [
        ("mysql://ann:pw@127.0.0.1/lab", "not mysql"),
        ("sqlite:///{tmp}/unrelated.sqlite", "cannot be read or written"),
    ],
)
def test_storage_problems_are_one_sentence(tmp_path, capsys, storage, sentence) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "unrelated.sqlite")) as connection:
        connection.execute("CREATE TABLE studies (colour TEXT)")
    storage = storage.format(tmp=tmp_path)
    assert cli.main(["tune", "--trials", "1", "--storage", storage, "--study", "x"]) == 2
    error = capsys.readouterr().err
    assert sentence in error and "Traceback" not in error and error.count("\n") == 1


def test_a_study_on_postgresql_never_shows_its_password(
    postgres_server, tmp_path, monkeypatch, capsys, caplog
) -> None:
    # Local connections are trusted, so the server accepts the URL with any password.
    url = postgres_server.new_database().replace("://", f"://{postgres_server.user}:{PASSWORD}@")
    url = url.replace(f"{postgres_server.user}@", "", 1) + f"?password={PASSWORD}"
    monkeypatch.setenv("LSTM_LAB_STORE", url)
    model = ["--lag", "10", "--units", "8", "--dense-units", "4", "--batch-size", "64"]
    status = cli.main(["tune", "--trials", "1", "--epochs", "1", "--search", "epochs=1:1", *model])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    monkeypatch.setattr(tuning, "DEFAULT_BASE", TINY)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/tune.py").run()
    for name in ("lag", "batch_size", "learning_rate", "target"):
        at.checkbox(key=f"tune_search_{name}").uncheck()
    at.checkbox(key="tune_search_epochs").check()
    at.slider(key="tune_range_epochs").set_value((1, 2))
    at.number_input(key="tune_trials").set_value(1)
    at.button[0].click().run()
    for _ in range(600):  # a bound so a broken job cannot hang the suite; no speed asserted
        if at.session_state["training_job"].finished:
            break
        time.sleep(0.5)
    at.run()
    assert not at.exception
    assert at.session_state["training_job"].state == "done"
    assert at.session_state["training_job"] not in jobs._UNFINISHED
    shown = " ".join(str(element.value) for element in at.main if hasattr(element, "value"))
    shown += " ".join(str(element.value) for element in at.sidebar if hasattr(element, "value"))
    everything = printed.out + printed.err + caplog.text + shown + capsys.readouterr().err
    assert len(tuning.study_names(RunStore().url)) == 2
    assert PASSWORD not in everything


def test_a_trial_left_running_by_a_killed_process_is_marked_abandoned(tmp_path, capsys) -> None:
    from lstm_core.cli.tuning import _print_trial
    from tests.test_tuning import SPACE

    url = tuning.study_storage_url(RunStore(tmp_path / "runs.sqlite"))
    plan = tuning.StudyPlan(base=TINY, space=SPACE, seed=5)
    study, _ = tuning.create_or_load_study("killed", url, plan, "fingerprint")
    study.ask()  # its process is killed with -9 before it tells the trial's end
    assert study.trials[0].state == optuna.trial.TrialState.RUNNING
    continued, _ = tuning.create_or_load_study("killed", url, None, "fingerprint")
    (trial,) = continued.trials
    assert trial.state == optuna.trial.TrialState.FAIL
    _print_trial(tuning.trial_row(trial))
    printed = capsys.readouterr().out
    assert "failed: abandoned: the process running it ended before it finished" in printed
    assert "None" not in printed


def _open_studies(url: str, barrier, results) -> None:
    barrier.wait()
    try:
        tuning.study_names(url)
        results.put("opened")
    except tuning.StudyError as error:
        results.put(str(error))


def test_four_first_tune_runs_at_once_open_one_study_file(tmp_path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'studies{attempt}.sqlite'}"
        barrier, results = context.Barrier(4), context.Queue()
        workers = [
            context.Process(target=_open_studies, args=(url, barrier, results)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        assert [results.get(timeout=120) for _ in workers] == ["opened"] * 4
        for worker in workers:
            worker.join(timeout=60)


def test_an_unreachable_database_never_shows_a_password_parameter(capsys) -> None:
    from tests.postgres_server import free_port

    url = f"postgresql+psycopg://ann@127.0.0.1:{free_port()}/lab?password={PASSWORD}"
    with pytest.raises(StoreError) as raised:
        RunStore(url)
    assert PASSWORD not in str(raised.value) and "***" in str(raised.value)
    assert cli.main(["tune", "--trials", "1", "--storage", url, "--study", "x"]) == 2
    error = capsys.readouterr().err
    assert PASSWORD not in error and "cannot be used" in error
