"""`lineup`: the same settings trained as each model kind over several seeds, side by side."""

from __future__ import annotations

import argparse
import time

from lstm_core.cli.options import (
    add_inputs_option,
    add_scheduler_option,
    add_train_options,
    cluster_client,
    config_from_arguments,
    load_prices,
    write_json,
)
from lstm_core.config import MODELS, TrainConfig
from lstm_core.evaluation.significance import format_pvalue
from lstm_core.experiments import controls, lineup, sweeps
from lstm_core.features import check_inputs
from lstm_core.preprocessing import check_config_fits


def add_lineup_arguments(parser: argparse.ArgumentParser) -> None:
    """`lineup`: the train options plus --models and --seeds."""
    add_train_options(parser, single_run=False)
    defaults = TrainConfig()
    parser.add_argument("--lag", type=int, default=defaults.lag)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated model kinds, from {', '.join(MODELS)} (default: all)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(lineup.DEFAULT_LINEUP_SEEDS))
    add_inputs_option(parser, several=True)
    parser.add_argument(
        "--shuffled-control",
        action="store_true",
        help="also train, for each run with extra inputs, the same settings and seed with each "
        "extra input's training days shuffled, and say whether the input beat its copy",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not keep the runs in the run store"
    )
    add_scheduler_option(parser)


def _train(configs: list[TrainConfig], series, arguments: argparse.Namespace) -> list:
    client = cluster_client(arguments)
    if client is None:
        return sweeps.run_configs(configs, series)
    from lstm_core.execution import cluster

    print(f"training {len(configs)} runs on the Dask cluster at {client.scheduler.address}")
    try:
        with cluster.translated_errors(client, "the lineup"):
            return sweeps.run_configs(configs, series, cluster.cluster_executor(client))
    finally:
        client.close()


def _print_table(table) -> None:
    has_validation = "validation ratio" in table.columns
    width = max(16, *(len(name) + 2 for name in table["name"]))
    header = f"{'model':<{width}}{'runs':>5}"
    if has_validation:
        header += f"{'val ratio':>11}{'spread':>8}{'val DM p':>11}"
    header += f"{'test ratio':>11}{'spread':>8}{'test DM p':>11}{'fit s':>8}{'params':>10}"
    print(header)
    for _, row in table.iterrows():
        line = f"{row['name']:<{width}}{row['runs']:>5}"
        if has_validation:
            line += (
                f"{row['validation ratio']:>11.3f}{row['validation spread']:>8.3f}"
                f"{format_pvalue(row['validation DM p']):>11}"
            )
        line += (
            f"{row['test ratio']:>11.3f}{row['test spread']:>8.3f}"
            f"{format_pvalue(row['test DM p']):>11}{row['seconds']:>8.2f}"
            f"{int(row['parameters']):>10,}"
        )
        print(line)


def lineup_command(arguments: argparse.Namespace) -> int:
    input_sets = lineup.parse_input_sets(arguments.inputs)
    base = config_from_arguments(arguments).with_changes(inputs=input_sets[0])
    models = lineup.parse_models(arguments.models)
    configs = lineup.lineup_configs(
        base, models, arguments.seeds, input_sets, with_controls=arguments.shuffled_control
    )
    prices = load_prices(arguments, base.ticker)
    series = prices.series(base.ticker)
    for config in configs:
        check_config_fits(len(series), config)
        check_inputs(series, config)
    started = time.perf_counter()
    results = _train(configs, series, arguments)
    seconds = time.perf_counter() - started
    if not arguments.no_save:
        from lstm_core.experiments.store import RunStore

        store = RunStore()
        for result in results:
            store.save(result, group=lineup.group_name(base, input_sets))
    table = lineup.lineup_table(results)
    print(f"data: {prices.description}")
    print(f"{lineup.group_name(base, input_sets)}, seeds {', '.join(map(str, arguments.seeds))}")
    _print_table(table)
    print(
        "ratio = the model's RMSE / persistence's (tomorrow = today), mean and spread over "
        "seeds; DM p = median Diebold-Mariano p-value against persistence; fit s = mean "
        f"training seconds; {len(results)} runs in {seconds:.1f} s"
    )
    print(lineup.simplest_within_luck(table))
    control_sentences = controls.lineup_control_sentences(table)
    for sentence in control_sentences:
        print(sentence)
    write_json(
        arguments.json,
        {
            "config": base.to_dict(),
            "seeds": list(arguments.seeds),
            "input_sets": [list(inputs) for inputs in input_sets],
            "table": table.to_dict(orient="records"),
            "sentence": lineup.simplest_within_luck(table),
            "shuffled_controls": control_sentences,
        },
    )
    return 0
