"""The command line: its JSON checked against hand computations, and bad input as one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_core import cli, data
from tests.test_bad_files import CORPUS

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--lag", "10", "--batch-size", "64", "--epochs", "1", "--units", "8", "--dense-units", "0"]


def run_cli(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `python -m lstm_core` in this process; return (status, stdout, stderr).

    argparse's own refusals leave through SystemExit; the rest come back as the return value.
    """
    try:
        status = cli.main(arguments)
    except SystemExit as exited:
        status = exited.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_train_writes_the_documented_json(tmp_path, capsys) -> None:
    out = tmp_path / "out.json"
    status, stdout, stderr = run_cli(
        ["train", "--ticker", "MSFT", *TINY, "--seed", "3", "--json", str(out)], capsys
    )
    assert (status, stderr) == (0, "")
    result = json.loads(out.read_text())

    prices = data.load_snapshot().series("MSFT")
    # Split by days: the test days start at floor(0.8 x prices); training windows end there.
    assert result["n_train"] == math.floor(0.8 * len(prices)) - 10
    assert result["n_test"] == len(prices) - math.floor(0.8 * len(prices))
    assert result["config"]["lag"] == 10 and result["config"]["seed"] == 3
    assert len(result["history"]["loss"]) == 1

    test = result["test"]
    assert {len(test[key]) for key in ("dates", "actual", "predicted", "persistence")} == {
        result["n_test"]
    }
    # The test targets are the snapshot's last n_test prices, on their own dates.
    np.testing.assert_allclose(test["actual"], prices.to_numpy()[-result["n_test"] :])
    assert test["dates"][-1] == prices.index[-1].strftime("%Y-%m-%d")
    # Persistence repeats the day before: each forecast is the previous day's real price.
    np.testing.assert_allclose(test["persistence"][1:], test["actual"][:-1])

    actual = np.array(test["actual"])
    for model, predicted in (("lstm", test["predicted"]), ("persistence", test["persistence"])):
        errors = actual - np.array(predicted)
        metrics = result["metrics"][model]
        assert set(metrics) == {"mse_scaled", "rmse", "mae", "mape", "mase", "direction_accuracy"}
        assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-6)
        assert metrics["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-6)
        assert metrics["mape"] == pytest.approx(100 * np.mean(np.abs(errors) / actual), rel=1e-6)
    assert "persistence" in stdout and f"{result['metrics']['lstm']['rmse']:.4f}" in stdout
    # Persistence never predicts a move: null in the JSON and a dash in the printed table.
    assert result["metrics"]["persistence"]["direction_accuracy"] is None
    direction_row = next(line for line in stdout.splitlines() if line.startswith("Direction"))
    assert direction_row.endswith(" -")


def test_bad_input_exits_2_with_one_error_line_and_no_traceback(tmp_path) -> None:
    """As a shell sees it: a real process, its status and its stderr."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"When,Close\n2021-03-30,1.5\n")
    process = subprocess.run(
        [sys.executable, "-m", "lstm_core", "train", "--csv", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert process.returncode == 2
    assert process.stdout == ""
    lines = process.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The file bad.csv"), process.stderr


def test_a_command_loads_no_library_it_does_not_use_before_it_runs() -> None:
    """`train --help` as a real process: -X importtime lists every module it imported."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lstm_core", "train", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert process.returncode == 0, process.stderr
    assert "--batch-size" in process.stdout
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in process.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"lstm_core", "pandas"} <= imported  # the listing is there
    # Optuna is for `tune`, statsmodels for scoring (imported while training), TensorFlow for
    # training; parsing the command line needs none of them.
    assert not imported & {"optuna", "sqlalchemy", "statsmodels", "tensorflow", "keras"}


@pytest.mark.parametrize(
    ("content", "message"), [(case[1], case[3]) for case in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_every_bad_file_gets_the_readers_sentence(tmp_path, capsys, content, message) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    status, stdout, stderr = run_cli(["train", "--csv", str(bad), *TINY], capsys)
    assert (status, stdout) == (2, "")
    assert stderr.startswith("error: ") and stderr.count("\n") == 1
    assert message in stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--lag", "0"], "error: lag must be between 2 and 1000, got 0"),
        (["--epochs", "0"], "error: epochs must be between 1 and 1000, got 0"),
        (["--train-fraction", "1"], "error: train_fraction must be between 0 and 1"),
        (["--seed", "abc"], "error: argument --seed: invalid int value: 'abc'"),
        (["--ticker", "../etc"], "error: ticker '../etc' is not a valid symbol"),
        (["--ticker", "TSLA"], "TSLA"),
        (["--batch-size", "2000", "--lag", "10"], "The batch size 2000 is larger than"),
        (
            ["--csv", "no_such_file.csv"],
            "error: The file no_such_file.csv could not be opened (No such file or directory)",
        ),
        (["--target", "returns"], "error: argument --target: invalid choice: 'returns'"),
        (
            ["--validation-fraction", "0.6"],
            "error: validation_fraction must be at least 0 and below 0.5, got 0.6",
        ),
        (
            ["--patience", "3", "--epochs", "2", "--validation-fraction", "0.1"],
            "error: patience (3) must be at most the number of epochs (2)",
        ),
        (["--patience", "2"], "error: patience (early stopping) needs a validation period"),
        (
            ["--validation-fraction", "0.0001", "--lag", "10"],
            "leaves no validation day",
        ),
    ],
)
def test_impossible_settings_exit_2_with_one_sentence(capsys, arguments, message) -> None:
    status, stdout, stderr = run_cli(["train", *arguments], capsys)
    assert (status, stdout) == (2, "")
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert message in stderr


def test_a_lag_longer_than_the_file_exits_2_with_one_sentence(tmp_path, capsys) -> None:
    rows = "".join(f"2021-01-{day:02d},{100 + day}\n" for day in range(1, 31))
    short = tmp_path / "short.csv"
    short.write_text("Date,Close\n" + rows)
    status, stdout, stderr = run_cli(["train", "--csv", str(short), "--lag", "60"], capsys)
    assert (status, stdout) == (2, "")
    assert stderr == (
        # floor(0.8 x 77) = 61 is the first n whose test days leave one lag-60 window to train.
        "error: There are 30 prices; a lag of 60 days with a train share of 80% needs at least "
        "77. Choose a smaller lag or load a longer price history.\n"
    )


def test_change_target_with_validation_writes_both_periods(tmp_path, capsys) -> None:
    out = tmp_path / "out.json"
    arguments = ["train", *TINY, "--target", "change", "--validation-fraction", "0.1"]
    status, stdout, stderr = run_cli([*arguments, "--json", str(out)], capsys)
    assert (status, stderr) == (0, "")
    result = json.loads(out.read_text())
    assert result["config"]["target"] == "change"
    assert result["config"]["validation_fraction"] == 0.1 and result["config"]["patience"] == 0
    prices = data.load_snapshot().series("MSFT").to_numpy()
    windows = len(prices) - 10
    validation_count = math.floor(0.1 * len(prices))
    test_start = math.floor(0.8 * len(prices)) - 10  # first test window at lag 10
    assert result["n_train"] == test_start - validation_count
    assert result["n_test"] == windows - test_start
    # Persistence on the validation days, by hand: yesterday's price for each of them.
    real = prices[10 + test_start - validation_count : 10 + test_start]
    yesterday = prices[10 + test_start - validation_count - 1 : 10 + test_start - 1]
    validation = result["validation"]
    assert validation["n"] == validation_count
    assert validation["metrics"]["persistence"]["rmse"] == pytest.approx(
        np.sqrt(np.mean((real - yesterday) ** 2))
    )
    comparison = result["comparison"]
    assert comparison["rmse_ratio"] == pytest.approx(
        result["metrics"]["lstm"]["rmse"] / result["metrics"]["persistence"]["rmse"]
    )
    assert set(comparison) >= {"rmse_ratio", "dm_statistic", "dm_pvalue", "direction_pvalue"}
    assert len(result["history"]["val_loss"]) == 1
    assert "On the validation period" in stdout and "On the held-out test period" in stdout


def test_a_huge_sparse_file_and_a_device_are_refused_before_reading(tmp_path, capsys) -> None:
    """4 GB of sparse file and /dev/zero: one sentence each, and no memory spent reading them."""
    import resource

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:
        stream.truncate(4 * 1024**3)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, stdout, stderr = run_cli(["train", "--csv", str(huge), *TINY], capsys)
    assert (status, stdout) == (2, "")
    assert stderr == (
        "error: The file huge.csv is larger than 50 MB; upload a shorter price history.\n"
    )
    status, stdout, stderr = run_cli(["train", "--csv", "/dev/zero", *TINY], capsys)
    assert (status, stdout) == (2, "")
    assert stderr == (
        "error: The file zero is not a regular file (a device, a pipe or a folder); give the "
        "path of a CSV file.\n"
    )
    # ru_maxrss is in KiB on Linux: reading either would have raised the peak by 50 MB or more.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 40 * 1024
