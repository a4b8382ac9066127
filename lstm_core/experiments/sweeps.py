"""Several runs at once: one config over several seeds, and a small grid of lag x batch size.

Runs go through an executor with `concurrent.futures`' `map(function, iterable)` interface.
The default runs them one after another in this process; a process pool or a remote executor
with the same interface could run them elsewhere, since each task is a picklable
(config, series) pair and `train_task` returns a result without its Keras model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.evaluation.metrics import METRIC_NAMES


class Executor(Protocol):
    """Anything with concurrent.futures.Executor's `map`."""

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Apply `function` to each item, yielding results in order."""
        ...


class SequentialExecutor:
    """Runs each task in turn, in this process (the default: two cores gain nothing more)."""

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Apply `function` to each item lazily, in order."""
        return map(function, *iterables)


def train_task(
    config: TrainConfig,
    series: pd.Series,
    progress: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    score_test: bool = True,
) -> Any:
    """`run_training`, with the Keras model replaced by its `.keras` bytes (`model_bytes`).

    What a task on another process or machine returns: bytes travel, a live model does not,
    and the run store saves exactly those bytes.
    """
    from lstm_core.model.network import model_to_bytes
    from lstm_core.model.pipeline import run_training

    result = run_training(
        config, series, progress=progress, should_stop=should_stop, score_test=score_test
    )
    result.model_bytes = model_to_bytes(result.model)
    result.model = None
    return result


def run_configs(
    configs: Sequence[TrainConfig], series: pd.Series, executor: Executor | None = None
) -> list[Any]:
    """Train every config through `executor` (one after another here when None), in order."""
    chosen = executor if executor is not None else SequentialExecutor()
    return list(chosen.map(train_task, list(configs), [series] * len(configs)))


def seed_configs(config: TrainConfig, seeds: Sequence[int]) -> list[TrainConfig]:
    """The same config with each seed."""
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must not repeat")
    return [config.with_changes(seed=int(seed)) for seed in seeds]


def grid_configs(
    config: TrainConfig, lags: Sequence[int], batch_sizes: Sequence[int]
) -> list[TrainConfig]:
    """Every (lag, batch size) pair, other settings from `config`."""
    if not lags or not batch_sizes:
        raise ValueError("lags and batch_sizes must each name at least one value")
    return [
        config.with_changes(lag=int(lag), batch_size=int(batch_size))
        for lag in lags
        for batch_size in batch_sizes
    ]


def is_complete(result: Any) -> bool:
    """Whether a run trained all its planned epochs (early stopping counts as complete)."""
    return not getattr(result, "stopped", False)


def complete_runs(results: Sequence[Any]) -> list[Any]:
    """The runs that trained to the end: aggregates count only these, never a stopped run."""
    return [result for result in results if is_complete(result)]


def stopped_text(result: Any) -> str:
    """'stopped at 7 of 10 epochs' for a run stopped early."""
    return f"stopped at {result.epochs_completed} of {result.config.epochs} epochs"


def spread_table(results: Sequence[Any]) -> pd.DataFrame:
    """Mean, sample standard deviation, min and max of each metric over runs, model and baseline.

    With one run the standard deviation is NaN: one seed says nothing about seed noise. A
    metric a forecaster has no value for (persistence's direction score, None) is NaN too.
    Stopped runs are left out.
    """
    results = complete_runs(results)
    if not results:
        raise ValueError("results must hold at least one complete (not stopped) run")
    rows = []
    for forecaster in ("lstm", "persistence"):
        for name in METRIC_NAMES:
            values = np.array(
                [result.metrics[forecaster][name] for result in results], dtype=np.float64
            )
            values = values[~np.isnan(values)]
            missing = len(values) == 0
            rows.append(
                {
                    "forecast": "LSTM" if forecaster == "lstm" else "Tomorrow = today",
                    "metric": name,
                    "mean": float("nan") if missing else float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                    "min": float("nan") if missing else float(values.min()),
                    "max": float("nan") if missing else float(values.max()),
                    "runs": len(results),
                }
            )
    return pd.DataFrame(rows)


def difference_verdict(first: Sequence[Any], second: Sequence[Any], names: tuple[str, str]) -> str:
    """Whether two configs' test RMSEs differ by more than their seed noise, in one sentence.

    The rule is deliberately simple for people who tune by eye: the difference of the means
    counts as real when it exceeds twice the larger of the two standard deviations. Stopped
    runs are left out.
    """
    first, second = complete_runs(first), complete_runs(second)
    first_rmse = np.array([result.metrics["lstm"]["rmse"] for result in first])
    second_rmse = np.array([result.metrics["lstm"]["rmse"] for result in second])
    if len(first_rmse) < 2 or len(second_rmse) < 2:
        return "Repeat each setting with at least 2 seeds to tell a real difference from luck."
    noise = max(first_rmse.std(ddof=1), second_rmse.std(ddof=1))
    gap = second_rmse.mean() - first_rmse.mean()
    better = names[0] if gap > 0 else names[1]
    if abs(gap) > 2 * noise:
        return (
            f"{better} is better: its mean test RMSE is ${abs(gap):,.2f} lower, more than twice "
            f"the seed-to-seed spread (${noise:,.2f})."
        )
    return (
        f"No clear winner: the mean test RMSEs differ by ${abs(gap):,.2f}, within twice the "
        f"seed-to-seed spread (${noise:,.2f})."
    )


def rmse_ratio(result: Any, period: str = "test") -> float:
    """A run's RMSE relative to persistence's on the validation or the held-out test period."""
    if period == "validation":
        if getattr(result, "validation", None) is None:
            raise ValueError("this run has no validation period")
        return float(result.validation["comparison"]["rmse_ratio"])
    if period != "test":
        raise ValueError(f"period must be 'validation' or 'test', got {period!r}")
    if not result.metrics.get("lstm"):
        # A tuning trial never predicted its test period: it has no test figure at all.
        return float("nan")
    return result.metrics["lstm"]["rmse"] / result.metrics["persistence"]["rmse"]


def ranking_period(results: Sequence[Any]) -> str:
    """The period to rank runs on: validation when every run has one, else the test period."""
    if results and all(getattr(result, "validation", None) for result in results):
        return "validation"
    return "test"


def group_verdict(groups: dict[str, Sequence[Any]]) -> str:
    """Which settings beat persistence on average over their seeds, ranked on validation.

    A group beats the baseline only when its mean ratio does, not its luckiest seed. With
    validation periods the ranking uses them, and the held-out test figure is only reported.
    Stopped runs are left out; a group with no complete run is not ranked.
    """
    groups = {label: complete_runs(group) for label, group in groups.items()}
    groups = {label: group for label, group in groups.items() if group}
    if not groups:
        return "No setting has a complete run yet, so none is ranked."
    members = [result for group in groups.values() for result in group]
    period = ranking_period(members)
    rows = []
    for label, group in groups.items():
        ranked = float(np.mean([rmse_ratio(result, period) for result in group]))
        held_out = float(np.mean([rmse_ratio(result, "test") for result in group]))
        rows.append((ranked, held_out, label))
    rows.sort()
    name = "validation" if period == "validation" else "held-out test"
    parts = []
    for ranked, held_out, label in rows:
        text = f"{label}: mean {name} ratio {ranked:.2f}"
        if period == "validation":
            text += f" (held-out test {held_out:.2f})"
        parts.append(text)
    beats = [label for ranked, _, label in rows if ranked < 1]
    lead = (
        "Beats 'tomorrow = today' on average over its seeds ("
        + name
        + " period): "
        + ", ".join(beats)
        + "."
        if beats
        else f"No setting beats 'tomorrow = today' on average over its seeds ({name} period)."
    )
    return lead + " Ranked by mean error ratio to the baseline: " + "; ".join(parts) + "."


def heatmap_frame(results: Sequence[Any], period: str = "test") -> pd.DataFrame:
    """RMSE relative to the baseline's on `period`, lag in rows, batch size in columns.

    Stopped runs are left out: a cell holds complete runs only.
    """
    records = [
        {
            "lag": result.config.lag,
            "batch size": result.config.batch_size,
            "ratio": rmse_ratio(result, period),
        }
        for result in complete_runs(results)
    ]
    frame = pd.DataFrame.from_records(records, columns=["lag", "batch size", "ratio"])
    return frame.pivot_table(index="lag", columns="batch size", values="ratio", aggfunc="mean")
