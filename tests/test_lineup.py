"""The lineup's table and sentence, on hand-made runs whose figures are known."""

from types import SimpleNamespace

import numpy as np
import pytest

from lstm_core.config import TrainConfig
from lstm_core.experiments import lineup


def fake_run(model: str, seed: int, validation: float, test: float, stopped: bool = False):
    """A run with validation ratio `validation` and test RMSE ratio `test` (persistence 2.0)."""
    return SimpleNamespace(
        config=TrainConfig(model=model, seed=seed, validation_fraction=0.1),
        metrics={"lstm": {"rmse": 2.0 * test}, "persistence": {"rmse": 2.0}},
        validation={"comparison": {"rmse_ratio": validation, "dm_pvalue": 0.5}},
        comparison={"rmse_ratio": test, "dm_pvalue": 0.2 + seed / 100},
        seconds=float(seed),
        layers=[("x", "X", 10 if model == "linear" else 1000)],
        stopped=stopped,
    )


def test_the_table_averages_complete_runs_only_and_the_sentence_follows_the_numbers() -> None:
    runs = [
        fake_run("lstm", 1, 0.96, 0.99),
        fake_run("lstm", 2, 0.98, 1.01),
        fake_run("lstm", 3, 0.50, 0.50, stopped=True),  # left out: not the model's figures
        fake_run("linear", 1, 0.99, 1.00),
        fake_run("linear", 2, 0.99, 1.00),
    ]
    table = lineup.lineup_table(runs).set_index("model")
    assert table.loc["lstm", "runs"] == 2
    assert table.loc["lstm", "validation ratio"] == pytest.approx(0.97)
    assert table.loc["lstm", "validation spread"] == pytest.approx(np.std([0.96, 0.98], ddof=1))
    assert table.loc["lstm", "test ratio"] == pytest.approx(1.00)
    assert table.loc["lstm", "test DM p"] == pytest.approx(0.215)
    assert table.loc["linear", "parameters"] == 10
    # Ridge 0.99 vs LSTM 0.97: a gap of 0.02, within twice the LSTM's spread (2 x 0.0141).
    sentence = lineup.simplest_within_luck(lineup.lineup_table(runs))
    assert "best mean ratio to persistence is LSTM's (0.970" in sentence
    # The winner's p-value on the days that picked it says so.
    assert "against persistence, optimistic: this period chose it)" in sentence
    assert "the simplest model within luck of the best is Ridge (linear) (0.990" in sentence

    tight = [fake_run("lstm", 1, 0.969, 1.0), fake_run("lstm", 2, 0.971, 1.0), *runs[3:]]
    sentence = lineup.simplest_within_luck(lineup.lineup_table(tight))
    assert "the simplest model within luck of the best is LSTM itself" in sentence


def test_one_seed_asks_for_more_and_bad_model_lists_are_refused() -> None:
    table = lineup.lineup_table([fake_run("lstm", 1, 0.97, 1.0), fake_run("gru", 1, 0.98, 1.0)])
    assert "at least 2 seeds" in lineup.simplest_within_luck(table)
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        lineup.parse_models("lstm,rnn")
    with pytest.raises(ValueError, match="a lineup needs at least one complete run"):
        lineup.lineup_table([fake_run("lstm", 1, 0.9, 0.9, stopped=True)])
    configs = lineup.lineup_configs(TrainConfig(), ["gru", "linear"], [1, 2])
    assert [(config.model, config.seed) for config in configs] == [
        ("gru", 1),
        ("gru", 2),
        ("linear", 1),
        ("linear", 2),
    ]
