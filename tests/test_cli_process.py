"""The command line as a whole process: what a command imports, when, and how it ends.

bench/bench_cli_process.py times these processes; the tests here check the behaviours that
make them fast without losing anything: a command loads only its own modules, statsmodels is
imported while training runs (and a failed import is one sentence, not a hang), and the
process still prints and writes everything before it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lstm_core import cli
from lstm_core.errors import LabError
from lstm_core.evaluation import significance

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--lag", "10", "--batch-size", "64", "--epochs", "1", "--units", "8", "--dense-units", "0"]

NOT_FOR_TRAIN = {
    "optuna",  # tune
    "sqlalchemy",  # tune's studies and the run store
    "dask",  # --scheduler only
    "distributed",
    "plotly",  # pages' charts
    "statsmodels",  # scoring, imported while training runs
    "tensorflow",  # imported only after the cheap checks pass
    "keras",
    "sklearn",  # the linear model kind
    "scipy",
    "lstm_core.cli.tuning",  # the other commands' modules
    "lstm_core.cli.room",
    "lstm_core.cli.forecasting",
    "lstm_core.cli.lineup",
    "lstm_core.execution.room",
    "lstm_core.forecasting.backtest",
    "lstm_core.experiments.sweeps",
}
"""Modules a `train` that stops at its settings check must not have loaded."""


def run_python(code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter in the project folder."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def test_train_loads_no_other_commands_modules_before_it_trains() -> None:
    """Through main, up to the settings check (epochs 0 is refused before any data or model)."""
    process = run_python(
        "import json, sys\n"
        "from lstm_core.cli import main\n"
        "status = main(['train', '--epochs', '0'])\n"
        "print(json.dumps({'status': status, 'modules': sorted(sys.modules)}))\n"
    )
    report = json.loads(process.stdout)
    assert report["status"] == 2 and process.stderr.startswith("error: epochs must be")
    modules = set(report["modules"])
    assert {"lstm_core.cli.training", "pandas"} <= modules  # the listing is there
    assert not {name for name in modules if name.split(".")[0] in NOT_FOR_TRAIN}
    assert not modules & NOT_FOR_TRAIN


def test_every_command_still_parses_its_own_options() -> None:
    """The lazy registry leaves each command its options (a typo in a name would not)."""
    parser = cli.parser.build_parser()
    for command, option in [
        ("train", "--model"),
        ("sweep", "--lags"),
        ("forecast", "--horizon"),
        ("backtest", "--folds"),
        ("tune", "--search"),
        ("lineup", "--models"),
    ]:
        subparser = parser._subparsers._group_actions[0].choices[command]
        assert option in subparser._option_string_actions, (command, option)


def test_statsmodels_is_imported_in_a_thread_once_training_has_started() -> None:
    process = run_python(
        "import json, sys, threading\n"
        "from lstm_core.cli import main, training\n"
        "seen = []\n"
        "original = training.preload_statistics\n"
        "def spy():\n"
        "    seen.append({'statsmodels': 'statsmodels' in sys.modules,\n"
        "                 'keras': 'keras' in sys.modules})\n"
        "    return original()\n"
        "training.preload_statistics = spy\n"
        f"status = main(['train', *{TINY!r}])\n"
        "print(json.dumps({'status': status, 'seen': seen,\n"
        "                  'scored': 'statsmodels.tsa.stattools' in sys.modules}))\n"
    )
    report = json.loads(process.stdout.splitlines()[-1])
    assert report["status"] == 0, process.stderr
    # Started once, with training under way (Keras loaded) and statsmodels not yet loaded.
    assert report["seen"] == [{"statsmodels": False, "keras": True}]
    assert report["scored"]


def blocked_import(release: threading.Event):
    """An import_module stand-in that waits for `release` (a hung import)."""

    def import_module(name: str) -> None:
        release.wait(30)

    return import_module


def test_a_failed_background_import_is_one_sentence(monkeypatch) -> None:
    monkeypatch.setattr(significance, "STATISTICS_MODULES", ("no_such_statistics_module",))
    preload = significance.StatisticsImport().start()
    with pytest.raises(LabError, match=r"could not be imported \(ModuleNotFoundError: No module"):
        preload.wait(timeout=30)


def test_a_hung_background_import_is_a_sentence_after_the_time_limit(monkeypatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(significance.importlib, "import_module", blocked_import(release))
    preload = significance.StatisticsImport().start()
    try:
        with pytest.raises(LabError, match="did not finish importing within 1 s"):
            preload.wait(timeout=1)
    finally:
        release.set()
        preload.thread.join(30)
    preload.wait(timeout=30)  # finished now, without error


def test_train_reports_a_failed_background_import_as_one_error_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(significance, "STATISTICS_MODULES", ("no_such_statistics_module",))
    failed = significance.StatisticsImport().start()
    monkeypatch.setattr(significance, "_preload", failed)
    status = cli.main(["train", *TINY])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith("error: statsmodels, which the significance tests need")
    assert captured.err.count("\n") == 1


def test_the_process_prints_and_writes_everything_before_it_exits(tmp_path, capsys) -> None:
    """`python -m lstm_core` ends without the interpreter's slow teardown, losing nothing; and
    statsmodels imported in a thread during its training leaves the results as they are."""
    out = tmp_path / "run.json"
    process = subprocess.run(
        [sys.executable, "-m", "lstm_core", "train", *TINY, "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[0].startswith("MSFT lag 10, batch 64, 1 epochs")
    assert lines[-1] == f"wrote {out}"
    result = json.loads(out.read_text())
    assert len(result["test"]["predicted"]) == result["n_test"] > 0
    # The same run in this process, where statsmodels is loaded before training starts.
    import statsmodels.tsa.stattools  # noqa: F401

    here = tmp_path / "here.json"
    assert cli.main(["train", *TINY, "--json", str(here)]) == 0
    capsys.readouterr()
    expected = json.loads(here.read_text())
    assert result["history"] == expected["history"]
    assert result["test"]["predicted"] == expected["test"]["predicted"]
