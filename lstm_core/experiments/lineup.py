"""The lineup: one ticker and settings trained as each model kind over several seeds.

Every kind sees the same windows, split, scaler and target; each is judged by its RMSE ratio to
persistence ("tomorrow = today") on the validation period (what to choose on) and on the
held-out test period (reported only), with the Diebold-Mariano p-value against persistence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import MODEL_NAMES, MODELS, TrainConfig
from lstm_core.evaluation.significance import format_pvalue
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


def lineup_configs(
    config: TrainConfig, models: Sequence[str], seeds: Sequence[int]
) -> list[TrainConfig]:
    """`config` as each model kind with each seed, model by model."""
    chosen = parse_models(",".join(models))
    return [
        seeded
        for model in chosen
        for seeded in seed_configs(config.with_changes(model=model), seeds)
    ]


def group_name(config: TrainConfig) -> str:
    """The run store's group for a lineup's runs: the settings every kind and seed shares."""
    text = (
        f"lineup {config.ticker} lag {config.lag}, batch {config.batch_size}, "
        f"{config.epochs} epochs, units {'/'.join(map(str, config.units))}, "
        f"target {config.target}"
    )
    if config.validation_fraction > 0:
        text += f", validation {config.validation_fraction:.0%}"
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
    """One row per model kind: runs, mean and spread of the ratio on each period, median DM
    p-value against persistence, mean training seconds and parameters. Complete runs only."""
    complete = _complete(results)
    if not complete:
        raise ValueError("a lineup needs at least one complete run")
    has_validation = ranking_period(complete) == "validation"
    rows = []
    for model in MODELS:
        members = [result for result in complete if result.config.model == model]
        if not members:
            continue
        test = [rmse_ratio(result, "test") for result in members]
        row: dict[str, Any] = {"model": model, "name": MODEL_NAMES[model], "runs": len(members)}
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
    simplest = min(within, key=lambda row: SIMPLICITY.index(row["model"]))
    lead = (
        f"On the {shown} period the best mean ratio to persistence is {best['name']}'s "
        f"({best[column]:.3f}, {format_pvalue(best[f'{period} DM p'])} against persistence)"
    )
    if simplest["model"] == best["model"]:
        return (
            lead + f"; no simpler model is within luck of it, so the simplest model within luck "
            f"of the best is {best['name']} itself ({int(best['parameters']):,} parameters)."
        )
    return (
        lead + f"; the simplest model within luck of the best is {simplest['name']} "
        f"({simplest[column]:.3f}, {int(simplest['parameters']):,} parameters against "
        f"{int(best['parameters']):,}): the gap is within twice the seed-to-seed spread."
    )
