"""The command line's JSON for one tiny run stays what it was when the package was reorganized.

tests/golden/train_tiny.json was written by this same command before lstm_core was split into
subpackages; the same config and seed must give the same numbers after any reorganization.
It was written again by the same command when early stopping came to watch only the validation
period's first half: of the figures, only `val_loss` and its no-skill line moved. Its config
gained `inputs` (["close"]) and `shuffled` ([]) when runs could see more than the close; every
figure stayed the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstm_core import cli

GOLDEN = Path(__file__).resolve().parent / "golden" / "train_tiny.json"
COMMAND = [
    "train", "--ticker", "MSFT", "--lag", "10", "--batch-size", "64", "--epochs", "2",
    "--units", "8", "--dense-units", "0", "--target", "change", "--validation-fraction", "0.1",
    "--patience", "1", "--seed", "3",
]  # fmt: skip
VARYING = {"seconds", "finished_at"}
"""Keys that depend on the clock, not on the run."""


def approx_tree(value: object) -> object:
    """`value` with every float wrapped in pytest.approx (1e-6 relative)."""
    if isinstance(value, dict):
        return {key: approx_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [approx_tree(item) for item in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-6, abs=1e-9)
    return value


def test_the_same_run_writes_the_same_json(tmp_path, capsys) -> None:
    out = tmp_path / "out.json"
    assert cli.main([*COMMAND, "--json", str(out)]) == 0
    capsys.readouterr()
    written = json.loads(out.read_text())
    golden = json.loads(GOLDEN.read_text())
    assert set(written) == set(golden)
    for key in sorted(set(golden) - VARYING):
        assert written[key] == approx_tree(golden[key]), key
