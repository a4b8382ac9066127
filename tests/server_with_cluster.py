"""A page server's work with a Dask cluster, in a process of its own, and what it imported.

Run by tests/test_no_tensorflow_with_a_cluster.py as
`python -m tests.server_with_cluster OUT.json` with LSTM_LAB_DASK naming a test cluster and
LSTM_LAB_STORE a fresh run store. Through AppTest, as a person would: a training, its look-ahead,
the Inside page (gates, saliency, the comparison SimpleRNN, a saved run reopened), a backtest
and a one-trial study; then the warm-up of the workers. It writes what each step showed, and
whether TensorFlow or Keras was ever imported here (with the stack of the first import).
"""

from __future__ import annotations

import importlib.abc
import json
import sys
import time
import traceback
from pathlib import Path

FIRST_IMPORT: list[str] = []


class ImportWitness(importlib.abc.MetaPathFinder):
    """Records the stack of the first import of tensorflow or keras, and finds nothing."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in ("tensorflow", "keras") and not FIRST_IMPORT:
            FIRST_IMPORT.append("".join(traceback.format_stack(limit=40)))


sys.meta_path.insert(0, ImportWitness())

import numpy as np  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from lstm_core import data  # noqa: E402
from lstm_core.config import TrainConfig  # noqa: E402
from lstm_core.execution import cluster  # noqa: E402
from lstm_core.experiments import tuning  # noqa: E402
from tests.plotly_json import values  # noqa: E402
from tests.test_app_pages import APP, texts  # noqa: E402

TINY = TrainConfig(lag=10, units=(8,), dense_units=0, epochs=1, batch_size=64, seed=11)
WAIT_ROUNDS = 600
"""A safety bound on the polling (0.5 s each), so a broken job cannot hang the suite."""


def wait_for(at: AppTest, key: str) -> None:
    """Rerun the page until the job under `key` is collected."""
    for _ in range(WAIT_ROUNDS):
        job = at.session_state[key] if key in at.session_state else None
        if job is None or job.collected or (key == "training_job" and job.finished):
            break
        time.sleep(0.5)
        at.run()
    at.run()
    assert not at.exception, at.exception


def charts(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def titled(at: AppTest, start: str) -> dict:
    return next(spec for spec in charts(at) if spec["layout"]["title"]["text"].startswith(start))


def train_and_look_ahead(at: AppTest) -> dict:
    """Train the tiny LSTM from the form, with a validation period for the bands."""
    at.switch_page("pages/train.py").run()
    at.slider(key="form_lag").set_value(TINY.lag)
    at.select_slider(key="form_batch").set_value(TINY.batch_size)
    at.slider(key="form_epochs").set_value(1)
    at.number_input(key="form_units1").set_value(8)
    at.number_input(key="form_units2").set_value(0)
    at.number_input(key="form_dense").set_value(0)
    at.number_input(key="form_seed").set_value(TINY.seed)
    at.slider(key="form_validation").set_value(0.1)
    next(button for button in at.button if button.label == "Train").click().run()
    wait_for(at, "training_job")
    result = at.session_state["training_job"].result
    fan = titled(at, "The next 10")
    forecast = next(trace for trace in fan["data"] if trace.get("name") == "LSTM forecast")
    return {
        "worker": getattr(result, "cluster_worker", None),
        "model": type(result.model).__name__,
        "run_id": result.run_id,
        "band_names": sorted(trace.get("name", "") for trace in fan["data"]),
        "forecast_days": len(values(forecast["y"])),
        "coverage_said": "the 80% band held the real price" in texts(at),
    }


def look_inside(at: AppTest) -> dict:
    """The Inside page on the session's run, its SimpleRNN comparison, then a saved run."""
    at.switch_page("pages/inside.py").run()
    assert not at.exception, at.exception
    result = at.session_state["training_job"].result
    window = titled(at, "")  # the first chart: the chosen day's window and predictions
    predicted = float(values(window["data"][2]["y"])[0])
    index = len(result.test_dates) // 2
    at.button(key="train_rnn").click().run()
    assert not at.exception, at.exception
    saliency = charts(at)[-1]
    heatmaps = sum(1 for spec in charts(at) for trace in spec["data"] if trace["type"] == "heatmap")
    # Another session (as after a restart) opens the saved run from the store.
    later = AppTest.from_file(APP, default_timeout=120)
    later.switch_page("pages/inside.py").run()
    later.selectbox(key="inside_run_id").set_value(result.run_id).run()
    assert not later.exception, later.exception
    loaded = later.session_state["inside_loaded_run"]
    return {
        "heatmaps": heatmaps,
        "saved_run_charts": len(charts(later)),
        "twin_price": predicted,
        "worker_price": float(result.predicted[index]),
        "saliency_lines": [trace.get("name") for trace in saliency["data"]],
        "reach_said": any("of the influence comes from" in block.value for block in at.markdown),
        "saved_model": type(loaded.model).__name__,
    }


def backtest(at: AppTest) -> dict:
    at.session_state["train_settings"] = TINY.with_changes(validation_fraction=0.1)
    at.switch_page("pages/backtest.py").run()
    at.selectbox(key="backtest_settings").set_value("Your last settings on Train & Predict")
    at.slider(key="backtest_folds").set_value(2)
    at.slider(key="backtest_horizon").set_value(3)
    at.button[0].click().run()
    wait_for(at, "backtest_job")
    result = at.session_state["backtest_result"]
    return {
        "folds": len(result.folds),
        "forecasts": [fold.forecasts.shape for fold in result.folds],
    }


def study(at: AppTest) -> dict:
    tuning.DEFAULT_BASE = TINY.with_changes(validation_fraction=0.1)
    at.switch_page("pages/tune.py").run()
    for name in ("lag", "batch_size", "learning_rate", "target"):
        at.checkbox(key=f"tune_search_{name}").uncheck()
    at.checkbox(key="tune_search_epochs").check()
    at.slider(key="tune_range_epochs").set_value((1, 1))
    at.number_input(key="tune_trials").set_value(1)
    at.button[0].click().run()
    wait_for(at, "training_job")
    job = at.session_state["training_job"]
    best = tuning.best_summary(job.study)
    judged = best is not None and best.get("test") is not None
    return {"state": job.state, "trials": len(job.study.trials), "judged": judged}


def main(out: Path) -> None:
    figures: dict = {}
    at = AppTest.from_file(APP, default_timeout=120)
    figures["train"] = train_and_look_ahead(at)
    figures["inside"] = look_inside(at)
    figures["backtest"] = backtest(at)
    figures["study"] = study(at)
    runner = cluster.SHARED_CLUSTER.runner(cluster.scheduler_address())
    series = data.load_snapshot().series("MSFT")
    figures["warmed"] = len(cluster.warm_workers(runner.client, TINY, series))
    figures["tensorflow"] = "tensorflow" in sys.modules
    figures["keras"] = "keras" in sys.modules
    figures["first_import"] = FIRST_IMPORT[0] if FIRST_IMPORT else None
    out.write_text(json.dumps(figures, default=lambda value: np.asarray(value).tolist()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
