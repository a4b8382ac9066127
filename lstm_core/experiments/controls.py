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
