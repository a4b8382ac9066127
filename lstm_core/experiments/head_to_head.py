"""Which of several chosen runs is better, on which period, and whether by more than luck.

The sentence the Compare page shows under its charts, computed from the runs' own figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from lstm_core.evaluation.significance import (
    MIN_TESTED_DAYS,
    SIGNIFICANCE_LEVEL,
    diebold_mariano,
    format_pvalue,
)
from lstm_core.experiments.sweeps import complete_runs, rmse_ratio, stopped_text


def ratio_texts(first: float, second: float) -> tuple[str, str]:
    """Two ratios with 2 decimals, or 3 when 2 would print them alike ('0.997x', '1.002x')."""
    decimals = 2 if f"{first:.2f}" != f"{second:.2f}" else 3
    return f"{first:.{decimals}f}x", f"{second:.{decimals}f}x"


def test_gap_pvalue(better: Any, worse: Any) -> float | None:
    """Diebold-Mariano p-value of two runs' test errors on the days both predicted, or None
    when they cannot be compared day by day (different companies, too few common days)."""
    if better.config.ticker != worse.config.ticker:
        return None
    first = pd.Series(better.predicted, index=better.test_dates)
    second = pd.Series(worse.predicted, index=worse.test_dates)
    actual = pd.Series(better.actual, index=better.test_dates)
    common = first.index.intersection(second.index)
    if len(common) < MIN_TESTED_DAYS:
        return None
    _, pvalue = diebold_mariano(
        actual[common].to_numpy(), first[common].to_numpy(), second[common].to_numpy()
    )
    return pvalue


def period_sentence(runs: Sequence[Any], names: dict[int, str], period: str) -> str:
    """'On the held-out test period #5 is better than #4 (0.98x against 1.03x the baseline's
    error), by more than luck (p = 0.003).' Ranked by the error ratio to persistence."""
    ranked = sorted(runs, key=lambda run: rmse_ratio(run, period))
    best, runner = ranked[0], ranked[1]
    best_ratio, runner_ratio = ratio_texts(rmse_ratio(best, period), rmse_ratio(runner, period))
    shown = "validation" if period == "validation" else "held-out test"
    if best_ratio == runner_ratio:
        return (
            f"On the {shown} period {names[id(best)]} and {names[id(runner)]} are tied "
            f"({best_ratio} the baseline's error)."
        )
    text = (
        f"On the {shown} period {names[id(best)]} is better than {names[id(runner)]} "
        f"({best_ratio} against {runner_ratio} the baseline's error)"
    )
    if period == "validation":
        return text + " (whether by more than luck is tested on the held-out test period)."
    pvalue = test_gap_pvalue(best, runner)
    if pvalue is None:
        return text + ", but they were not tested on the same days, so luck cannot be ruled out."
    if pvalue < SIGNIFICANCE_LEVEL:
        return text + f", by more than luck ({format_pvalue(pvalue)})."
    return text + f", a gap within luck ({format_pvalue(pvalue)})."


def head_to_head(runs: Sequence[Any], names: Sequence[str]) -> str:
    """One sentence (or two) on which chosen run is better on which period, and whether the gap
    is more than luck. Stopped runs are named and left out; validation comes first when every
    complete run has one (the period to choose on), then the held-out test."""
    if len(runs) != len(names):
        raise ValueError("runs and names must have the same length")
    by_run = {id(run): name for run, name in zip(runs, names, strict=True)}
    complete = complete_runs(runs)
    kept = {id(run) for run in complete}
    left_out = [run for run in runs if id(run) not in kept]
    parts = []
    if len(complete) < 2:
        parts.append("Choose at least two complete runs to see which is better.")
    else:
        if all(getattr(run, "validation", None) for run in complete):
            parts.append(period_sentence(complete, by_run, "validation"))
        parts.append(period_sentence(complete, by_run, "test"))
    if left_out:
        parts.append(
            "Left out, since they did not train to the end: "
            + "; ".join(f"{by_run[id(run)]} ({stopped_text(run)})" for run in left_out)
            + "."
        )
    return " ".join(parts)
