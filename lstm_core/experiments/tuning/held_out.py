"""The study's only look at the test period: the best trial's model predicts it once, at the end.

No trial predicts the test period while the study runs (their runs carry no test figures), so
the test prices cannot sway which trial wins. When the study ends, the best trial's saved model
predicts the test windows once; the figures are kept in the study's user attributes under
TEST_ATTR, with the trial's number, so showing them again never predicts again.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.errors import StoreError
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.tuning.summary import TEST_ATTR, best_trial
from lstm_core.preprocessing import prepare_config


def judge_best_on_test(
    study: optuna.Study, series: pd.Series, store: RunStore
) -> dict[str, Any] | None:
    """Score the best trial's model on the held-out test period, once; None without a best.

    A study continued later may find another best; that trial is then judged (once) in turn.
    """
    # Imported here: only the end of a study needs a model (TensorFlow's, without a cluster).
    from lstm_core.model.pipeline import score_period
    from lstm_core.model.progress import TRAINING_LOCK

    best = best_trial(study)
    run_id = None if best is None else best.user_attrs.get("run_id")
    if best is None or run_id is None:
        return None
    kept = study.user_attrs.get(TEST_ATTR)
    if kept is not None and kept.get("number") == best.number:
        return kept
    prepared = prepare_config(series, TrainConfig.from_dict(best.user_attrs["config"]))
    # Keras builds models through global state: one at a time with the trainings.
    with TRAINING_LOCK:
        try:
            model = store.load_model(run_id)
        except StoreError:
            # The trial's run was deleted from the store: there is no model left to judge.
            return None
        scaled = model.predict(prepared.x_test, batch_size=1024, verbose=0).reshape(-1)
    _, _, metrics, figures = score_period(
        prepared, scaled, prepared.test_start, prepared.test_count
    )
    test = {
        "number": best.number,
        "run_id": run_id,
        "metrics": metrics,
        "comparison": figures,
        "dates": [
            prepared.test_dates[0].strftime("%Y-%m-%d"),
            prepared.test_dates[-1].strftime("%Y-%m-%d"),
        ],
        "n": prepared.test_count,
    }
    # Optuna keeps user attributes as JSON: numpy floats become plain ones here.
    test = json.loads(json.dumps(test, default=float))
    study.set_user_attr(TEST_ATTR, test)
    return test
