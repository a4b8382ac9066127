"""`tune`: an Optuna study on the validation period, its best trial judged once on test."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from lstm_core import data
from lstm_core.cli.options import (
    add_scheduler_option,
    add_train_options,
    check_json_folder,
    cluster_runner,
    config_from_arguments,
    load_prices,
    write_json,
)
from lstm_core.config import MODEL_NAMES
from lstm_core.evaluation.significance import ratio_verdict
from lstm_core.preprocessing import check_config_fits, check_prices_vary


def add_tune_arguments(tune: argparse.ArgumentParser) -> None:
    """`tune`: an Optuna study over the settings, scored on the validation period."""
    from lstm_core.experiments.tuning import DEFAULT_BASE, SETTINGS

    add_train_options(tune, defaults=DEFAULT_BASE)
    tune.add_argument("--trials", type=int, required=True, help="how many trials to run")
    tune.add_argument(
        "--timeout", type=float, help="time budget in seconds: no trial starts after it"
    )
    tune.add_argument(
        "--search",
        default="lag,batch_size,learning_rate",
        help=f"settings to search, comma-separated, each optionally NAME=LOW:HIGH (a "
        f"choice: NAME=A/B, such as model=lstm/linear); from {', '.join(SETTINGS)}",
    )
    tune.add_argument(
        "--study", help="study name; an existing study's name continues it (default: a new one)"
    )
    tune.add_argument("--storage", help="SQLAlchemy URL of the study storage")
    tune.add_argument(
        "--no-pruning", action="store_true", help="train every trial to its last epoch"
    )
    add_scheduler_option(tune)


def _print_trial(row: dict[str, Any]) -> None:
    value = "-" if row["value"] is None else f"{row['value']:.4f}"
    if row["epochs_run"] is None:
        # A trial that failed before training says why instead of "after None epoch(s)".
        ending = f"failed: {row.get('failure') or 'no reason was recorded'}"
    else:
        ending = f"after {row['epochs_run']} epoch(s)"
    print(
        f"trial {row['number']:>3} {row['state']:<8} validation ratio {value:>7} "
        f"{ending}  {row['params']}",
        flush=True,
    )


def tune_command(arguments: argparse.Namespace) -> int:
    from lstm_core.experiments import tuning
    from lstm_core.experiments.store import RunStore

    tuning.check_study_request(arguments.trials, arguments.timeout)
    space = tuning.SearchSpace.parse(arguments.search)
    base = config_from_arguments(arguments)
    tuning.check_base(base)
    store = RunStore()
    if store.notice:
        print(store.notice, file=sys.stderr)
    storage_url = arguments.storage or tuning.study_storage_url(store)
    name = arguments.study or tuning.new_study_name(base.ticker, tuning.study_names(storage_url))
    plan = tuning.StudyPlan(
        base=base, space=space, seed=arguments.seed, pruning=not arguments.no_pruning
    )
    stored = tuning.stored_study(name, storage_url)
    if stored is not None:
        plan = tuning.StudyPlan.from_attrs(stored.user_attrs, name)
        print(f"continuing study {name!r} ({len(stored.trials)} trials so far)")
    series = load_prices(arguments, plan.base.ticker).series(plan.base.ticker)
    check_config_fits(len(series), plan.base)
    check_prices_vary(series)
    check_json_folder(arguments.json)
    study, plan = tuning.create_or_load_study(
        name, storage_url, plan, data.series_fingerprint(series)
    )
    print(f"study {name!r} on {plan.base.ticker}, searching {', '.join(plan.space.names())}")
    started = time.perf_counter()
    with cluster_runner(arguments, restore_model=False) as runner:
        tuning.optimize(
            study,
            plan,
            series,
            arguments.trials,
            timeout=arguments.timeout,
            store=store,
            on_trial_end=_print_trial,
            runner=runner,
        )
    # The study's one look at the test period, for its best trial only.
    tuning.judge_best_on_test(study, series, store)
    report = tuning.study_report(study, time.perf_counter() - started)
    budget = tuning.budget_note(study)
    if budget:
        print(budget)
    best = report["best"]
    if best is None:
        print("no trial completed, so there is no best trial and no test figure")
    else:
        print(
            f"best: trial {best['number']}, validation ratio {best['value']:.4f}, {best['params']}"
        )
        if best["test"] is not None:
            print(
                "the study's only test figure: "
                + ratio_verdict(
                    best["test"]["comparison"],
                    period="held-out test",
                    model_name=MODEL_NAMES[best["config"]["model"]],
                )
            )
    print(f"{report['seconds']:.1f} s")
    write_json(arguments.json, report)
    return 0
