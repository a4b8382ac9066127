"""Only finite numbers: absurd prices refused by row, constant prices refused before TensorFlow,
MAPE of a zero price not defined, and every JSON the lab writes strict."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lstm_core import cli, data, json_text
from lstm_core.errors import DataError
from lstm_core.evaluation.metrics import forecast_metrics
from tests.streamlit_server import ROOT

TINY = ["--lag", "10", "--batch-size", "64", "--epochs", "1", "--units", "8", "--dense-units", "0"]


def price_csv(prices: list[float]) -> bytes:
    """A Date,Close file of business days; the header is row 1, so prices[i] is on row i + 2."""
    dates = pd.bdate_range("2020-01-01", periods=len(prices))
    lines = [
        "Date,Close",
        *(f"{day:%Y-%m-%d},{price!r}" for day, price in zip(dates, prices, strict=True)),
    ]
    return ("\n".join(lines) + "\n").encode()


WAVY = [100 + 10 * np.sin(day / 7) for day in range(300)]


@pytest.mark.parametrize(
    ("row", "price", "reason"),
    [
        (50, 1e300, "is above 1,000,000,000; check the units."),
        (60, float(WAVY[58]) * 2000, "changes more than 1,000-fold from the day before; check it."),
        (70, 0.0, "is not above zero; prices must be positive."),
        (80, -5.0, "is not above zero; prices must be positive."),
    ],
)
def test_a_price_beyond_a_sane_range_is_refused_naming_its_row(row, price, reason) -> None:
    prices = [float(value) for value in WAVY]
    prices[row - 2] = price
    with pytest.raises(DataError) as raised:
        data.read_price_csv(price_csv(prices), name="odd.csv")
    assert str(raised.value) == (
        f"The Close price {price:,.6g} on row {row} of the file odd.csv {reason}"
    )


def test_a_thousand_fold_change_is_still_accepted_and_prices_near_the_limit_too() -> None:
    prices = [float(value) for value in WAVY]
    prices[100] = prices[99] * 999
    prices[101] = prices[100] / 999
    assert len(data.read_price_csv(price_csv(prices)).frame) == 300
    assert len(data.read_price_csv(price_csv([9e8, 9.5e8, 9.9e8])).frame) == 3


def test_constant_prices_are_refused_before_tensorflow_loads(tmp_path) -> None:
    flat = tmp_path / "flat.csv"
    flat.write_bytes(price_csv([12.5] * 300))
    script = (
        "import sys; from lstm_core import cli; "
        f"status = cli.main(['train', '--csv', {str(flat)!r}, *{TINY!r}]); "
        "print(status, 'tensorflow' in sys.modules)"
    )
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert process.stdout == "2 False\n"
    assert process.stderr == (
        "error: Every price in this series is 12.50: with prices that never change there is "
        "nothing to learn and no error to compare, so choose other prices.\n"
    )


def test_mape_of_a_zero_price_is_not_defined_and_other_metrics_stay() -> None:
    actual = np.array([0.0, 2.0, 4.0])
    predicted = np.array([1.0, 2.0, 3.0])
    metrics = forecast_metrics(actual, predicted, np.array([1.0, 1.0, 5.0]), 1.0, 1.0)
    assert metrics["mape"] is None
    # RMSE by hand: errors 1, 0, -1.
    assert metrics["rmse"] == pytest.approx(np.sqrt(2 / 3))
    assert cli.options.format_value(metrics["mape"], 8) == "       -"


def test_every_json_the_lab_writes_is_strict() -> None:
    content = {"loss": [0.5, float("nan")], "ratio": float("inf"), "nested": {"x": -np.inf}}
    text = json_text.dumps(content)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    assert json.loads(text, parse_constant=refuse) == {
        "loss": [0.5, None],
        "ratio": None,
        "nested": {"x": None},
    }


def test_json_into_a_missing_folder_is_one_sentence_before_training(tmp_path, capsys) -> None:
    target = tmp_path / "absent" / "result.json"
    status = cli.main(["train", *TINY, "--json", str(target)])
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == (
        f"error: The folder {target.parent} for --json does not exist; create it or choose "
        "another path.\n"
    )


@pytest.mark.parametrize("budget", ["nan", "inf"])
def test_a_time_budget_that_is_not_a_number_is_refused(capsys, budget) -> None:
    status = cli.main(["tune", *TINY, "--trials", "1", "--timeout", budget])
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == (
        "error: A time budget must be a number of seconds (or none at all), got "
        f"{float(budget)!r}.\n"
    )
