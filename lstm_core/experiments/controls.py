"""The shuffled control: does an extra input help, or would any numbers of the same spread do?

Beside a run with extra inputs, each extra input gets a control run: the same config and seed,
with only that input's days permuted within the days the training windows see. The target, the
close and the other inputs stay as they are. An input beat its shuffled copy when the real run's
RMSE ratio to persistence on the validation period is below the control's; the test period is
never used to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.experiments.sweeps import complete_runs, rmse_ratio


def control_configs(config: TrainConfig) -> list[TrainConfig]:
    """One control per extra input of `config`, each shuffling that input alone.

    ValueError when there is nothing to control or no validation period to judge on.
    """
    if not config.extra_inputs:
        raise ValueError(
            "the shuffled control needs an extra input (volume, range or market) to shuffle"
        )
    if config.shuffled:
        raise ValueError("the shuffled control starts from a run with no input shuffled")
    if config.validation_fraction == 0:
        raise ValueError(
            "the shuffled control judges on the validation period: set a validation share above 0"
        )
    return [config.with_changes(shuffled=(name,)) for name in config.extra_inputs]


def control_rows(real: Any, controls: Sequence[Any]) -> list[dict[str, Any]]:
    """Per shuffled input: the real and the shuffled validation ratio and whether the real one
    is lower. Stopped runs are left out: their figures are not their configs'."""
    if not complete_runs([real]):
        raise ValueError("the real run was stopped, so there is nothing to compare")
    rows = []
    for control in complete_runs(controls):
        (name,) = control.config.shuffled
        real_ratio = rmse_ratio(real, "validation")
        shuffled_ratio = rmse_ratio(control, "validation")
        rows.append(
            {
                "input": name,
                "real ratio": real_ratio,
                "shuffled ratio": shuffled_ratio,
                "beat shuffled": bool(real_ratio < shuffled_ratio),
            }
        )
    return rows


def control_sentence(row: dict[str, Any], seed: int) -> str:
    """One sentence on one input's control, computed from its row."""
    name = row["input"].capitalize()
    figures = (
        f"validation RMSE ratio to persistence {row['real ratio']:.3f} with the real days "
        f"against {row['shuffled ratio']:.3f} with its training days shuffled (seed {seed})"
    )
    if row["beat shuffled"]:
        return (
            f"{name} beat its shuffled copy: {figures}. One seed can be lucky; a lineup over "
            "several seeds tells whether the gap is larger than luck."
        )
    return (
        f"{name} did not beat its shuffled copy: {figures}, so this run gives no sign that "
        f"the real {row['input']} helped."
    )


def _gap_text(gap: float, noise: float, runs: int) -> str:
    if runs < 2 or not np.isfinite(noise):
        return "with one seed, luck cannot be told apart from the gap"
    if gap > 2 * noise:
        return f"the gap, {gap:.3f}, is more than twice the seed spread ({noise:.3f})"
    return f"the gap, {gap:.3f}, is within twice the seed spread ({noise:.3f}): it may be luck"


def lineup_control_sentences(table: pd.DataFrame) -> list[str]:
    """One sentence per shuffled control in a lineup table (lineup.lineup_table's): did the
    input beat its shuffled copy on the validation period, over the same seeds."""
    if "validation ratio" not in table.columns or "shuffled" not in table.columns:
        return []
    sentences = []
    for _, control in table[table["shuffled"] != ""].iterrows():
        same = (table["model"] == control["model"]) & (table["inputs"] == control["inputs"])
        real_rows = table[same & (table["shuffled"] == "")]
        if real_rows.empty:
            continue
        real = real_rows.iloc[0]
        gap = float(control["validation ratio"] - real["validation ratio"])
        noise = max(float(real["validation spread"]), float(control["validation spread"]))
        runs = int(min(real["runs"], control["runs"]))
        # Compared as shown (three decimals), so "beat" never stands beside a gap of 0.000.
        shown_gap = round(gap, 3)
        verb = "beat" if shown_gap > 0 else "tied with" if shown_gap == 0 else "did not beat"
        verdict = (
            _gap_text(gap, noise, runs)
            if shown_gap > 0
            else f"these runs give no sign that the real {control['shuffled']} helped"
        )
        sentences.append(
            f"{real['name']}: {control['shuffled']} {verb} its shuffled copy on the validation "
            f"period (mean RMSE ratio to persistence {real['validation ratio']:.3f} against "
            f"{control['validation ratio']:.3f} shuffled, {runs} seed{'s' if runs > 1 else ''}"
            f"); {verdict}."
        )
    return sentences
