"""`train` (one model against persistence) and `sweep` (every lag x batch size x seed)."""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any

from lstm_core.cli.options import (
    add_inputs_option,
    add_scheduler_option,
    add_train_options,
    check_json_folder,
    cluster_client,
    cluster_runner,
    config_from_arguments,
    format_table,
    load_prices,
    write_json,
)
from lstm_core.config import MODEL_NAMES, TrainConfig
from lstm_core.evaluation.baselines import no_skill_sentence
from lstm_core.evaluation.metrics import move_sentence
from lstm_core.evaluation.significance import (
    StatisticsImport,
    format_pvalue,
    preload_statistics,
    ratio_verdict,
)
from lstm_core.features import check_inputs
from lstm_core.preprocessing import check_config_fits, check_prices_vary


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    """`train`: one model against persistence (and, if asked, its shuffled controls)."""
    add_train_options(train)
    add_inputs_option(train)
    train.add_argument(
        "--shuffled-control",
        action="store_true",
        help="also train the same settings and seed once per extra input with that input's "
        "training days shuffled, and say on the validation period whether the input beat it",
    )
    add_scheduler_option(train)


def add_sweep_arguments(sweep: argparse.ArgumentParser) -> None:
    """`sweep`: every lag x batch size (x seed), each against persistence."""
    add_train_options(sweep, single_run=False)
    add_scheduler_option(sweep)
    sweep.add_argument("--lags", type=int, nargs="+", required=True)
    sweep.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    sweep.add_argument("--seeds", type=int, nargs="+", default=[TrainConfig().seed])


class StatisticsPreload:
    """A progress hook that starts statsmodels' import once the first training step has run.

    Scoring needs statsmodels (0.3-0.8 s to import here). Imported while the model trains,
    that time can hide behind the epochs that run in TensorFlow's threads; starting after the
    first step keeps it off the building and tracing, which hold Python's GIL as the import
    does. On these 2-core machines TensorFlow keeps both cores busy, so the epochs slow by about
    what the import saves (bench/bench_cli_process.py); with more cores it is a gain. Scoring
    waits for the import with a time limit, and a failed import is one `error:` line there.
    """

    def __init__(self) -> None:
        self.preload: StatisticsImport | None = None

    def __call__(self, progress: Any) -> None:
        if self.preload is None and (progress.batch > 0 or progress.epoch_finished):
            self.preload = preload_statistics()


def _print_controls(config: TrainConfig, rows: list[dict[str, Any]]) -> None:
    """The shuffled controls' table and one sentence per input."""
    from lstm_core.experiments import controls

    print(f"{'input':<10}{'real val ratio':>16}{'shuffled val ratio':>20}{'beat shuffled':>15}")
    for row in rows:
        print(
            f"{row['input']:<10}{row['real ratio']:>16.3f}{row['shuffled ratio']:>20.3f}"
            f"{'yes' if row['beat shuffled'] else 'no':>15}"
        )
    for row in rows:
        print(controls.control_sentence(row, config.seed))


def train_command(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    # Imported after the settings check: a refused train loads no other command's modules.
    from lstm_core.experiments import controls

    prices = load_prices(arguments, config.ticker)
    series = prices.series(config.ticker)
    check_config_fits(len(series), config)
    check_prices_vary(series)
    check_inputs(series, config)
    control_configs = controls.control_configs(config) if arguments.shuffled_control else []
    check_json_folder(arguments.json)
    with cluster_runner(arguments, restore_model=False) as runner:
        if runner is None:
            # TensorFlow is imported only now, after the cheap checks have passed (and never
            # when the workers train).
            from lstm_core.model.pipeline import run_training

            runner = functools.partial(run_training, progress=StatisticsPreload())
        result = runner(config, series)
        control_results = [runner(control, series) for control in control_configs]
    print(f"{config.label()}: {result.n_train} training and {result.n_test} test windows")
    print(f"data: {prices.description}")
    print(format_table(result.metrics, result.config.model))
    name = MODEL_NAMES[result.config.model]
    if result.validation is not None:
        print(
            ratio_verdict(
                result.validation["comparison"],
                period="validation",
                chose_epoch=result.config.patience > 0,
                model_name=name,
            )
        )
    print(ratio_verdict(result.comparison, model_name=name))
    direction = result.comparison["direction_pvalue"]
    print(
        f"direction: the real price rose on {result.comparison['up_share']:.1%} of test days; "
        f"Pesaran-Timmermann {format_pvalue(direction)}"
    )
    moves = move_sentence(result.comparison)
    if moves:
        print(moves)
    if result.no_skill:
        print(
            no_skill_sentence(
                result.loss_history,
                result.validation_loss_history,
                result.no_skill,
                best_epoch=result.best_epoch,
            )
        )
    note = result.kept_weights_note()
    if note:
        print(note)
    print(f"trained in {result.seconds:.1f} s; final training loss {result.loss_history[-1]:.5f}")
    content = result.to_json()
    if control_configs:
        rows = controls.control_rows(result, control_results)
        _print_controls(config, rows)
        content["shuffled_controls"] = rows
    write_json(arguments.json, content)
    return 0


def sweep_command(arguments: argparse.Namespace) -> int:

    from lstm_core.experiments import sweeps

    base = config_from_arguments(arguments)
    configs = [
        config
        for seed in sweeps.seed_configs(base, arguments.seeds)
        for config in sweeps.grid_configs(seed, arguments.lags, arguments.batch_sizes)
    ]
    prices = load_prices(arguments, base.ticker)
    series = prices.series(base.ticker)
    for config in configs:
        check_config_fits(len(series), config)
    check_prices_vary(series)
    check_json_folder(arguments.json)
    client = cluster_client(arguments)
    started = time.perf_counter()
    if client is None:
        results = sweeps.run_configs(configs, series)
    else:
        from lstm_core.execution import cluster

        print(f"training {len(configs)} runs on the Dask cluster at {client.scheduler.address}")
        try:
            with cluster.translated_errors(client, "the sweep"):
                results = sweeps.run_configs(configs, series, cluster.cluster_executor(client))
        finally:
            client.close()
    seconds = time.perf_counter() - started
    print(f"data: {prices.description}")
    print(f"{'run':<60}{'test period':>24}{'LSTM RMSE':>12}{'persistence':>14}{'ratio':>8}")
    for result in results:
        lstm, persistence = result.metrics["lstm"]["rmse"], result.metrics["persistence"]["rmse"]
        period = f"{result.test_dates[0]:%Y-%m-%d}..{result.test_dates[-1]:%Y-%m-%d}"
        print(
            f"{result.config.label():<60}{period:>24}{lstm:>12.4f}{persistence:>14.4f}"
            f"{lstm / persistence:>8.3f}"
        )
    print(
        "RMSE in dollars on each run's test period; ratio = LSTM / persistence (tomorrow = "
        f"today), below 1 when the LSTM did better; {len(results)} runs in {seconds:.1f} s"
    )
    runs = [
        {
            "config": result.config.to_dict(),
            "metrics": result.metrics,
            "comparison": result.comparison,
        }
        for result in results
    ]
    write_json(arguments.json, {"runs": runs, "seconds": seconds})
    return 0
