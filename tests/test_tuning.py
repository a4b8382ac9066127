"""Optuna studies: tuned on validation only, pruned per epoch, resumable, refused when bad.

Tiny models (8 units, 1-2 epochs, lag 10) on the snapshot; the searched settings (epochs and
target) leave the compiled model reusable between trials, which keeps these tests short.
"""

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import cli, data
from lstm_core.config import TrainConfig
from lstm_core.execution import jobs
from lstm_core.experiments import tuning
from lstm_core.experiments.store import RunStore
from lstm_core.preprocessing import prepare

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = TrainConfig(
    ticker="MSFT",
    lag=10,
    batch_size=64,
    epochs=2,
    units=(8,),
    dense_units=4,
    target="change",
    validation_fraction=0.1,
)
SPACE = tuning.SearchSpace.of({"epochs": (1, 2), "target": None})

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def msft() -> pd.Series:
    return data.load_snapshot().series("MSFT")


def run_study(
    tmp_path: Path,
    series,
    name: str,
    trials: int,
    pruner: optuna.pruners.BasePruner | None = None,
    space: tuning.SearchSpace = SPACE,
    **options,
) -> tuple[optuna.Study, RunStore]:
    store = RunStore(tmp_path / "runs.sqlite")
    plan = tuning.StudyPlan(base=TINY, space=space, seed=5)
    study, plan = tuning.create_or_load_study(
        name, tuning.study_storage_url(store), plan, "fingerprint", pruner=pruner
    )
    tuning.optimize(study, plan, series, trials, store=store, **options)
    return study, store


def with_new_test_prices(series):
    """The same prices up to the test period, the test period's prices 30% higher."""
    prepared = prepare(series, TINY.lag, TINY.train_fraction, "change", TINY.validation_fraction)
    changed = series.copy()
    first_test_price = prepared.lag + prepared.test_start
    changed.iloc[first_test_price:] *= 1.3
    return changed


def tune_cli(tmp_path: Path, name: str, csv: Path | None = None) -> dict:
    """Three trials through the command line; its JSON."""
    out = tmp_path / f"{name}.json"
    study = ["tune", "--trials", "3", "--epochs", "2", "--search", "epochs=1:2,target"]
    model = ["--lag", "10", "--units", "8", "--dense-units", "4", "--batch-size", "64"]
    source = [] if csv is None else ["--csv", str(csv)]
    status = cli.main([*study, *model, *source, "--seed", "3", "--study", name, "--json", str(out)])
    assert status == 0
    return json.loads(out.read_text())


def trial_records(store: RunStore, name: str) -> list[dict]:
    """Every trial of study `name` with its stored run as saved (less its time and date)."""
    study = tuning.stored_study(name, tuning.study_storage_url(store))
    records = []
    for trial in study.trials:
        record = {"value": trial.value, "steps": dict(trial.intermediate_values)}
        if "run_id" in trial.user_attrs:
            run = store.load(trial.user_attrs["run_id"]).to_json()
            record["run"] = {
                key: value for key, value in run.items() if key not in ("seconds", "finished_at")
            }
        records.append(record)
    return records


def test_no_trial_sees_a_test_price_and_only_the_best_is_judged_once(tmp_path, msft) -> None:
    changed = tmp_path / "changed.csv"
    frame = with_new_test_prices(msft).rename("Close").rename_axis("Date").reset_index()
    frame.to_csv(changed, index=False)
    report, changed_report = tune_cli(tmp_path, "original"), tune_cli(tmp_path, "changed", changed)
    assert set(report) == {"study", "trials", "best", "seconds"}
    assert set(report["trials"][0]) == {
        "number",
        "params",
        "value",
        "state",
        "epochs_run",
        "failure",
    }
    rows = report["trials"]
    assert [row["state"] for row in rows] == ["COMPLETE"] * 3
    # The same seed gives the same trials, and test prices 30% higher change no trial's value
    # and no byte of any trial's stored run.
    assert changed_report["trials"] == rows
    store = RunStore()
    records = trial_records(store, "original")
    assert trial_records(store, "changed") == records
    # A trial's run carries no test figure at all: it never predicted the test period.
    for record in records:
        assert record["run"]["metrics"] == {}
        assert record["run"]["comparison"] is None
        assert record["run"]["test"] == {
            "dates": [],
            "actual": [],
            "predicted": [],
            "persistence": [],
        }
    tuned = store.table().query("group == 'tune'")
    assert len(tuned) == 6 and tuned["LSTM / baseline"].isna().all()
    # The best trial's test figures did change, so the test prices really were different.
    best, changed_best = report["best"], changed_report["best"]
    assert changed_best["test"]["metrics"]["lstm"]["rmse"] != pytest.approx(
        best["test"]["metrics"]["lstm"]["rmse"]
    )
    values = [row["value"] for row in rows]
    assert best["number"] == int(np.argmin(values))
    assert best["value"] == min(values)
    # The one test figure is the best trial's saved model on the test windows, in dollars.
    config = TrainConfig.from_dict(best["config"])
    prepared = prepare(msft, config.lag, config.train_fraction, "change", 0.1)
    model = store.load_model(best["run_id"])
    scaled = model.predict(prepared.x_test, verbose=0).reshape(-1)
    # The test period runs to the last price: its days and the days before them, from the series.
    prices = msft.to_numpy()
    actual, last = prices[-prepared.test_count :], prices[-prepared.test_count - 1 : -1]
    predicted = last * np.exp(scaled * prepared.change_scaler.scale)
    assert best["test"]["n"] == prepared.test_count
    assert best["test"]["metrics"]["lstm"]["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((predicted - actual) ** 2))), rel=1e-4
    )
    persistence_rmse = float(np.sqrt(np.mean((last - actual) ** 2)))
    assert best["test"]["metrics"]["persistence"]["rmse"] == pytest.approx(persistence_rmse)


def test_pruner_and_objective_read_one_figure_on_one_scale(tmp_path, msft) -> None:
    study, store = run_study(tmp_path, msft, "one scale", trials=2)
    for trial in tuning.complete_trials(study):
        # The value is what the pruner was told after the epoch whose weights were kept.
        kept = trial.user_attrs["kept_epoch"]
        assert kept == trial.user_attrs["epochs_run"]  # no early stopping in TINY
        assert trial.value == trial.intermediate_values[kept]
    # ...and that figure is the validation RMSE ratio to persistence on the model's scale,
    # recomputed here with numpy from the saved model's validation predictions.
    best = tuning.best_trial(study)
    config = TrainConfig.from_dict(best.user_attrs["config"])
    prepared = prepare(msft, config.lag, config.train_fraction, "change", 0.1)
    model = store.load_model(best.user_attrs["run_id"])
    scaled = model.predict(prepared.x_validation, verbose=0).reshape(-1).astype(np.float64)
    truth = prepared.y_validation.astype(np.float64)
    model_mse = np.mean((scaled - truth) ** 2)
    persistence_mse = np.mean(truth**2)  # persistence predicts no change: 0 on this scale
    assert best.value == pytest.approx(float(np.sqrt(model_mse / persistence_mse)), rel=1e-4)


def test_pruned_trials_stop_early_and_are_stored_as_pruned(tmp_path, msft) -> None:
    # Every validation ratio is above 0, so this pruner prunes each trial at its first report.
    study, store = run_study(
        tmp_path,
        msft,
        "pruned",
        trials=1,
        pruner=optuna.pruners.ThresholdPruner(upper=0.0),
        space=tuning.SearchSpace.of({"target": None}),
    )
    trials = study.get_trials()
    assert [trial.state for trial in trials] == [optuna.trial.TrialState.PRUNED]
    assert trials[0].user_attrs["epochs_run"] == 1  # of 2
    assert list(trials[0].intermediate_values) == [1]
    assert store.table().empty
    assert tuning.best_summary(study) is None


def test_the_best_trial_is_judged_on_test_once_and_never_without_its_model(tmp_path, msft):
    study, store = run_study(tmp_path, msft, "judged", trials=1)
    assert tuning.best_summary(study)["test"] is None  # nothing looked at the test period yet
    test = tuning.judge_best_on_test(study, msft, store)
    assert tuning.best_summary(study)["test"] == test and test["number"] == 0
    # Judged once: asking again reads the study and loads no model.
    loads = []
    original = store.load_model
    store.load_model = lambda run_id: loads.append(run_id) or original(run_id)
    assert tuning.judge_best_on_test(study, msft, store) == test
    assert loads == []
    # A study whose best run was deleted (from Compare) has no model to judge: no figure.
    other, other_store = run_study(tmp_path / "other", msft, "deleted", trials=1)
    other_store.delete([tuning.best_trial(other).user_attrs["run_id"]])
    assert tuning.judge_best_on_test(other, msft, other_store) is None
    assert tuning.best_summary(other)["test"] is None


def test_a_stop_keeps_the_finished_trials_and_a_continued_study_numbers_on(tmp_path, msft) -> None:
    started: list[int] = []

    def progress(number: int, state) -> None:
        started.append(number)

    study, store = run_study(
        tmp_path, msft, "resumed", trials=3, progress=progress, should_stop=lambda: 1 in started
    )
    first = tuning.trial_rows(study)
    assert [row["state"] for row in first] == ["COMPLETE", "FAIL"]
    assert study.get_trials()[1].user_attrs["failure"] == "stopped by you"
    # As after a restart: only the name and the storage are known.
    url = tuning.study_storage_url(store)
    again, plan = tuning.create_or_load_study("resumed", url, None, "fingerprint")
    assert plan.space == SPACE and plan.base == TINY
    tuning.optimize(again, plan, msft, 1, store=store)
    rows = tuning.trial_rows(again)
    assert [row["number"] for row in rows] == [0, 1, 2]
    assert rows[:2] == first
    with pytest.raises(tuning.StudyError, match="started on other prices"):
        tuning.create_or_load_study("resumed", url, None, "other fingerprint")


def test_the_time_budget_also_ends_the_running_trial(tmp_path, msft, monkeypatch) -> None:
    """Issue 22: a budget that ends during a trial stops it there; the finished ones stay."""
    from types import SimpleNamespace

    from lstm_core.experiments.tuning import objective
    from lstm_core.model.pipeline import run_training

    clock = [0.0]
    monkeypatch.setattr(objective, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    trainings: list[int] = []

    def runner(config, series, progress=None, should_stop=None, **options):
        trainings.append(len(trainings))
        if len(trainings) == 2:
            clock[0] += tuning.MIN_TIMEOUT_SECONDS + 1  # the budget runs out during trial 2
        return run_training(config, series, progress=progress, should_stop=should_stop, **options)

    study, _ = run_study(
        tmp_path, msft, "budget", trials=3, timeout=tuning.MIN_TIMEOUT_SECONDS, runner=runner
    )
    assert [row["state"] for row in tuning.trial_rows(study)] == ["COMPLETE", "FAIL"]
    assert study.get_trials()[1].user_attrs["failure"] == tuning.BUDGET_STOP
    assert study.get_trials()[1].user_attrs["epochs_run"] == 0
    assert len(trainings) == 2
    assert tuning.budget_note(study) == (
        "The time budget ran out during trial 2: that trial was stopped there and is not "
        "counted; the 1 complete trial(s) before it are kept."
    )


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["--search", ""], "Choose at least one setting to search"),
        (["--search", "lag=120:10"], "lag (days) range runs from 120 down to 10"),
        (["--search", "batch_size=300:400"], "No batch size the Train page offers"),
        (["--search", "colour"], "colour is not a setting a study can search"),
        (["--trials", "0"], "A study needs at least 1 trial, got 0."),
        (["--timeout", "3"], "A time budget of 3 s is shorter than one trial can take"),
        (["--validation-fraction", "0"], "A study needs a validation period"),
    ],
)
def test_bad_study_requests_end_with_one_sentence(capsys, arguments, sentence) -> None:
    base = ["tune", "--trials", "2", "--search", "lag"]
    assert cli.main([*base, *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and sentence in error
    assert error.count("\n") == 1


def test_a_damaged_or_foreign_study_file_is_refused(tmp_path, capsys) -> None:
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"not a database at all" * 100)
    url = f"sqlite:///{damaged}"
    assert cli.main(["tune", "--trials", "1", "--storage", url]) == 2
    assert (
        "cannot be used: it is damaged, unreachable or was written by another"
        in capsys.readouterr().err
    )
    assert damaged.read_bytes() == b"not a database at all" * 100
    foreign = f"sqlite:///{tmp_path / 'foreign.sqlite'}"
    optuna.create_study(study_name="theirs", storage=foreign)
    assert cli.main(["tune", "--trials", "1", "--storage", foreign, "--study", "theirs"]) == 2
    assert "was not made by this version of LSTM Stock Lab" in capsys.readouterr().err
    assert sqlite3.connect(tmp_path / "foreign.sqlite").execute(
        "SELECT study_name FROM studies"
    ).fetchall() == [("theirs",)]


def test_tune_page_runs_a_study_and_opens_the_winner_in_train(monkeypatch) -> None:
    monkeypatch.setattr(tuning, "DEFAULT_BASE", TINY)
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    for name in ("lag", "batch_size", "learning_rate"):
        at.checkbox(key=f"tune_search_{name}").uncheck()
    at.checkbox(key="tune_search_epochs").check()
    at.checkbox(key="tune_search_target").check()
    at.slider(key="tune_range_epochs").set_value((1, 2))
    at.number_input(key="tune_trials").set_value(3)
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    for _ in range(600):  # a bound so a broken job cannot hang the suite; no speed asserted
        if at.session_state["training_job"].finished:
            break
        time.sleep(0.5)
    at.run()
    assert not at.exception
    job = at.session_state["training_job"]
    assert job.state == "done"
    # A finished study leaves the server's queue, so later trainings do not wait for it.
    assert job not in jobs._UNFINISHED
    layouts = [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]
    titles = [layout["title"]["text"] for layout in layouts]
    assert any("validation period" in title for title in titles)
    # Trials and epochs are whole numbers, and their axes tick them one by one.
    counted = [
        layout["xaxis"].get("dtick")
        for layout in layouts
        if layout["title"]["text"].startswith(("Each trial's error", "Validation error after"))
    ]
    assert counted == [1, 1]
    assert any("Which settings mattered" in title for title in titles)
    assert any("two most important settings" in title for title in titles)
    metrics = {metric.label: metric.value for metric in at.metric}
    best = tuning.best_summary(job.study)
    ratio = best["test"]["comparison"]["rmse_ratio"]
    assert metrics["Held-out test: error relative to baseline"] == f"{ratio:.3f}x"
    at.button(key="tune_train_best").click().run()
    assert not at.exception
    assert at.session_state["train_settings"] == tuning.best_config(best)
    assert at.slider(key="form_lag").value == TINY.lag
    assert at.slider(key="form_epochs").value == best["config"]["epochs"]
    assert at.session_state["form_target"] == best["config"]["target"]
