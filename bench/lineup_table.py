"""Issue 19's lineup table: the recommended settings as each model kind on every snapshot ticker.

For each ticker, input set (by default the close alone, and close+volume+range+market) and
model kind (lstm, gru, simple_rnn, linear), over several seeds: the mean and spread of the
validation and held-out test RMSE ratio to persistence (below 1 beats it), the median
Diebold-Mariano p-value against persistence on the test period, the mean fit seconds and the
parameter count, and per ticker the computed "simplest model within luck of
the best" (ranked on validation; the test figures are reported, never chosen on). With
--shuffled-control each run with extra inputs is trained again once per extra input with that
input's training days shuffled (same seed), and a sentence says whether each input beat its
shuffled copy on validation.

    .venv/bin/python bench/lineup_table.py [--tickers AAPL GOOG MSFT AMZN] [--seeds 42 7 2024]
        [--inputs close close,volume,range,market] [--shuffled-control]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import MODELS, RECOMMENDED
from lstm_core.evaluation.significance import format_pvalue
from lstm_core.experiments import controls, lineup
from lstm_core.model.pipeline import run_training

TICKERS = ("AAPL", "GOOG", "MSFT", "AMZN")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickers", nargs="+", default=list(TICKERS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(lineup.DEFAULT_LINEUP_SEEDS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--inputs", nargs="+", default=["close", "close,volume,range,market"])
    parser.add_argument("--shuffled-control", action="store_true")
    arguments = parser.parse_args()
    input_sets = lineup.parse_input_sets(arguments.inputs)
    prices = data.load_snapshot()
    print(
        f"settings: {RECOMMENDED.label().replace(RECOMMENDED.ticker, 'each ticker', 1)} (seed "
        "replaced by each of "
        f"{', '.join(map(str, arguments.seeds))}); input sets: "
        f"{' / '.join('+'.join(inputs) for inputs in input_sets)}"
    )
    print(
        "| ticker | model | val ratio (mean ± sd) | test ratio (mean ± sd) | median test DM p "
        "| fit s | parameters |"
    )
    print("|---|---|---|---|---|---|---|")
    sentences = []
    for ticker in arguments.tickers:
        series = prices.series(ticker)
        base = RECOMMENDED.with_changes(ticker=ticker)
        configs = lineup.lineup_configs(
            base,
            lineup.parse_models(arguments.models),
            arguments.seeds,
            input_sets,
            with_controls=arguments.shuffled_control,
        )
        results = [run_training(config, series) for config in configs]
        table = lineup.lineup_table(results)
        for _, row in table.iterrows():
            print(
                f"| {ticker} | {row['name']} | {row['validation ratio']:.3f} ± "
                f"{row['validation spread']:.3f} | {row['test ratio']:.3f} ± "
                f"{row['test spread']:.3f} | {format_pvalue(row['test DM p'])} | "
                f"{row['seconds']:.2f} | {int(row['parameters']):,} |",
                flush=True,
            )
        sentences.append(f"{ticker}: {lineup.simplest_within_luck(table)}")
        sentences += [f"{ticker}: {text}" for text in controls.lineup_control_sentences(table)]
    print()
    for sentence in sentences:
        print(sentence)


if __name__ == "__main__":
    main()
