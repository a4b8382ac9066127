"""Wall time in this process against a local Dask cluster of 2 single-threaded workers.

Two measurements, each in process first and then on the cluster:

1. an 8-config sweep of the quick demo (lags 20/30/40/60 x batch sizes 32/64), through
   lstm_core.experiments.sweeps.run_configs: one after another here, one per free worker there.
   Both start cold (a fresh process, fresh workers; TensorFlow imported in each), so every
   config's model is built and traced once in both;
2. 4 trainings started at once, as 4 sessions would (quick demo, seeds 1-4), each a
   TrainingJob: here they queue behind one lock, there they share the workers. Both are warm,
   as a server that has trained before: the quick demo was trained once in this process and
   once on each worker first (not timed).

Prints each wall time, the ratio cluster / in process (the issue's goal: <= 0.65) and the
largest difference in test RMSE between the two (0 when the numbers are the same). On a
2-core machine both workers share the cores with each other and with the scheduler, and
TensorFlow already spreads one fit over both cores, so the ratio may not reach the goal.

    .venv/bin/python bench/bench_cluster.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import QUICK_DEMO
from lstm_core.execution import cluster
from lstm_core.execution.jobs import TrainingJob
from lstm_core.experiments import sweeps as experiments
from tests.dask_cluster import local_cluster

LAGS = [20, 30, 40, 60]
BATCH_SIZES = [32, 64]
SEEDS = [1, 2, 3, 4]


def simultaneous(configs, series, runner) -> tuple[float, list]:
    """Start one job per config at once (as separate sessions would); wall time to the last."""
    started = time.perf_counter()
    jobs = [
        TrainingJob(config, series, runner=runner, heartbeat_timeout=None).start()
        for config in configs
    ]
    for job in jobs:
        job.wait()
        if job.error:
            raise RuntimeError(job.error)
    return time.perf_counter() - started, [job.result for job in jobs]


def largest_rmse_difference(first: list, second: list) -> float:
    return max(
        abs(a.metrics["lstm"]["rmse"] - b.metrics["lstm"]["rmse"])
        for a, b in zip(first, second, strict=True)
    )


def main() -> None:
    import tensorflow  # noqa: F401  (imported before timing, as the workers preload it)

    series = data.load_snapshot().series("MSFT")
    sweep = experiments.grid_configs(QUICK_DEMO, LAGS, BATCH_SIZES)
    sessions = experiments.seed_configs(QUICK_DEMO, SEEDS)
    print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")

    started = time.perf_counter()
    sweep_here = experiments.run_configs(sweep, series)
    sweep_here_seconds = time.perf_counter() - started
    warm_up = QUICK_DEMO.with_changes(seed=0)
    experiments.train_task(warm_up, series)
    sessions_here_seconds, sessions_here = simultaneous(sessions, series, None)

    threads = os.environ.get("BENCH_WORKER_TF_THREADS")
    # TensorFlow's own thread pools per worker; unset, each worker uses every core.
    worker_environment = (
        {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads} if threads else {}
    )
    print(f"TensorFlow threads per worker: {threads or 'default (all cores)'}")
    with (
        tempfile.TemporaryDirectory() as folder,
        local_cluster(Path(folder), workers=2, environment=worker_environment) as dask,
    ):
        client = cluster.connect(dask.address)
        try:
            started = time.perf_counter()
            sweep_there = experiments.run_configs(sweep, series, cluster.cluster_executor(client))
            sweep_there_seconds = time.perf_counter() - started
            client.gather(
                [
                    client.submit(
                        experiments.train_task, warm_up, series, workers=[worker], pure=False
                    )
                    for worker in client.scheduler_info()["workers"]
                ]
            )
            runner = cluster.ClusterRunner(client, restore_model=False)
            sessions_there_seconds, sessions_there = simultaneous(sessions, series, runner)
        finally:
            client.close()

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{'what':<48}{'in process':>12}{'2 workers':>12}{'ratio':>8}{'max RMSE diff':>16}")
    for name, here, there, results_here, results_there in (
        ("8-config quick-demo sweep", sweep_here_seconds, sweep_there_seconds, sweep_here,
         sweep_there),
        ("4 quick-demo trainings started at once", sessions_here_seconds,
         sessions_there_seconds, sessions_here, sessions_there),
    ):  # fmt: skip
        difference = largest_rmse_difference(results_here, results_there)
        print(f"{name:<48}{here:>11.1f}s{there:>11.1f}s{there / here:>8.2f}{difference:>15.2g}$")


if __name__ == "__main__":
    main()
