"""The lineup: one ticker and settings trained as each model kind (and, if asked, each input
set) over several seeds.

Every kind sees the same windows, split, scaler and target; each is judged by its RMSE ratio to
persistence ("tomorrow = today") on the validation period (what to choose on) and on the
held-out test period (reported only), with the Diebold-Mariano p-value against persistence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import MODEL_NAMES, MODELS, TrainConfig, parse_inputs
from lstm_core.evaluation.significance import format_pvalue
from lstm_core.experiments.controls import control_configs
from lstm_core.experiments.sweeps import ranking_period, rmse_ratio, seed_configs

SIMPLICITY = ("linear", "simple_rnn", "gru", "lstm")
"""Model kinds from the simplest to the most elaborate (fewest to most parameters a unit)."""
DEFAULT_LINEUP_SEEDS = (42, 7, 2024)


def parse_models(text: str) -> tuple[str, ...]:
    """'lstm,linear' as model kinds, or a ValueError naming the unknown one."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    if not names:
        raise ValueError(f"models must name at least one of {', '.join(MODELS)}")
    for name in names:
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")
    if len(set(names)) != len(names):
        raise ValueError("models must not repeat")
    return names


def parse_input_sets(texts: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Input sets such as ['close', 'close,volume'], each validated as a config's inputs."""
    if not texts:
        raise ValueError("inputs must name at least one input set, such as close,volume")
    sets = tuple(TrainConfig(inputs=parse_inputs(text)).inputs for text in texts)
    if len(set(sets)) != len(sets):
        raise ValueError("input sets must not repeat")
    return sets


def lineup_configs(
    config: TrainConfig,
    models: Sequence[str],
    seeds: Sequence[int],
    input_sets: Sequence[tuple[str, ...]] | None = None,
    with_controls: bool = False,
) -> list[TrainConfig]:
    """`config` as each model kind with each seed, model by model, for each input set (by
    default the config's own inputs); `with_controls` adds, for each run with extra inputs, its
    shuffled controls (lstm_core/experiments/controls.py) with the same seed."""
    chosen = parse_models(",".join(models))
    sets = list(input_sets) if input_sets else [config.inputs]
    configs = [
        seeded
        for inputs in sets
        for model in chosen
        for seeded in seed_configs(config.with_changes(model=model, inputs=inputs), seeds)
    ]
    if not with_controls:
        return configs
    if not any(run.extra_inputs for run in configs):
        raise ValueError(
            "the shuffled control needs an input set with an extra input (volume, range or "
            "market) to shuffle"
        )
    return configs + [
        control for run in configs if run.extra_inputs for control in control_configs(run)
    ]


def row_name(model: str, inputs: tuple[str, ...], shuffled: tuple[str, ...] = ()) -> str:
    """'LSTM', 'LSTM + volume+range' for a model that also sees extra inputs, and
    'LSTM + volume+range (volume shuffled)' for a shuffled control."""
    extras = [name for name in inputs if name != "close"]
    name = MODEL_NAMES[model] + (f" + {'+'.join(extras)}" if extras else "")
    return name + (f" ({'+'.join(shuffled)} shuffled)" if shuffled else "")


def group_name(config: TrainConfig, input_sets: Sequence[tuple[str, ...]] | None = None) -> str:
    """The run store's group for a lineup's runs: the settings every kind and seed shares."""
    text = (
        f"lineup {config.ticker} lag {config.lag}, batch {config.batch_size}, "
        f"{config.epochs} epochs, units {'/'.join(map(str, config.units))}, "
        f"target {config.target}"
    )
    if config.validation_fraction > 0:
        text += f", validation {config.validation_fraction:.0%}"
    sets = list(input_sets) if input_sets else [config.inputs]
    if sets != [("close",)]:
        text += f", inputs {' / '.join('+'.join(inputs) for inputs in sets)}"
    return text


def _complete(results: Sequence[Any]) -> list[Any]:
    """Runs that finished: a stopped run's figures are not the model's."""
    return [result for result in results if not getattr(result, "stopped", False)]


def _spread(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def _dm_pvalue(result: Any, period: str) -> float:
    figures = (
        result.validation["comparison"]
        if period == "validation" and result.validation
        else (result.comparison or {})
    )
    value = figures.get("dm_pvalue")
    return float("nan") if value is None else float(value)


def parameter_count(result: Any) -> int:
    """The run's trainable parameters, from its layer list."""
    return int(sum(count for _, _, count in result.layers))


def lineup_table(results: Sequence[Any]) -> pd.DataFrame:
    """One row per input set and model kind: runs, mean and spread of the ratio on each period,
    median DM p-value against persistence, mean training seconds and parameters. Complete runs
    only."""
    complete = _complete(results)
    if not complete:
        raise ValueError("a lineup needs at least one complete run")
    has_validation = ranking_period(complete) == "validation"
    rows = []
    kinds = dict.fromkeys((run.config.inputs, run.config.shuffled) for run in complete)
    for (inputs, shuffled), model in [(kind, model) for kind in kinds for model in MODELS]:
        members = [
            result
            for result in complete
            if (result.config.model, result.config.inputs, result.config.shuffled)
            == (model, inputs, shuffled)
        ]
        if not members:
            continue
        test = [rmse_ratio(result, "test") for result in members]
        row: dict[str, Any] = {
            "model": model,
            "name": row_name(model, inputs, shuffled),
            "inputs": "+".join(inputs),
            "shuffled": "+".join(shuffled),
            "runs": len(members),
        }
        if has_validation:
            validation = [rmse_ratio(result, "validation") for result in members]
            row["validation ratio"] = float(np.mean(validation))
            row["validation spread"] = _spread(validation)
            row["validation DM p"] = float(
                np.median([_dm_pvalue(result, "validation") for result in members])
            )
        row["test ratio"] = float(np.mean(test))
        row["test spread"] = _spread(test)
        row["test DM p"] = float(np.median([_dm_pvalue(result, "test") for result in members]))
        row["seconds"] = float(np.mean([result.seconds for result in members]))
        row["parameters"] = parameter_count(members[0])
        rows.append(row)
    return pd.DataFrame(rows)


def simplest_within_luck(table: pd.DataFrame) -> str:
    """'The simplest model within luck of the best is ...', computed from `table`.

    Ranked on the validation period when the runs have one, else on the test period. A model is
    within luck of the best when its mean ratio is no more than twice the larger of the two
    seed-to-seed spreads above the best's (the rule Compare's seed groups use).
    """
    # Shuffled controls are yardsticks, not candidates.
    table = table[table["shuffled"] == ""] if "shuffled" in table.columns else table
    period = "validation" if "validation ratio" in table.columns else "test"
    column, spread_column = f"{period} ratio", f"{period} spread"
    shown = "validation" if period == "validation" else "held-out test"
    best = table.loc[table[column].idxmin()]
    if table["runs"].min() < 2:
        return (
            f"On the {shown} period the best mean ratio to persistence is {best['name']}'s "
            f"({best[column]:.3f}). Train each model with at least 2 seeds to tell which "
            "simpler model is within luck of it."
        )
    within = []
    for _, row in table.iterrows():
        noise = max(row[spread_column], best[spread_column])
        if row[column] - best[column] <= 2 * noise:
            within.append(row)
    # Simpler kinds first; within a kind, fewer inputs.
    simplest = min(
        within, key=lambda row: (SIMPLICITY.index(row["model"]), row["inputs"].count("+"))
    )
    lead = (
        f"On the {shown} period the best mean ratio to persistence is {best['name']}'s "
        f"({best[column]:.3f}, {format_pvalue(best[f'{period} DM p'])} against persistence"
        # The best was picked on these very days (and early stopping may have watched them).
        + (", optimistic: this period chose it" if period == "validation" else "")
        + ")"
    )
    if simplest["name"] == best["name"]:
        return (
            lead + f"; no simpler model is within luck of it, so the simplest model within luck "
            f"of the best is {best['name']} itself ({int(best['parameters']):,} parameters)."
        )
    return (
        lead + f"; the simplest model within luck of the best is {simplest['name']} "
        f"({simplest[column]:.3f}, {int(simplest['parameters']):,} parameters against "
        f"{int(best['parameters']):,}): the gap is within twice the seed-to-seed spread."
    )
