"""The model kind as a searchable setting: a study tries LSTM, GRU, SimpleRNN and the ridge.

Tiny models (8 units, 1-2 epochs, lag 10) on the snapshot, seeds fixed. A ridge has no
epochs: it reports its one validation figure and is never pruned after it (there is nothing
left to save by pruning); the recurrent kinds are still pruned between epochs.
"""

import json
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import cli, data
from lstm_core.config import TrainConfig
from lstm_core.experiments import tuning
from lstm_core.experiments.store import RunStore
from lstm_core.model.linear import RidgeWindowModel
from lstm_core.preprocessing import prepare_config

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = TrainConfig(
    ticker="MSFT",
    lag=10,
    batch_size=64,
    epochs=1,
    units=(8,),
    dense_units=4,
    target="change",
    validation_fraction=0.1,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def msft() -> pd.Series:
    return data.load_snapshot().series("MSFT")


def run_study(
    tmp_path: Path,
    series: pd.Series,
    space: tuning.SearchSpace,
    trials: int,
    base: TrainConfig = TINY,
    seed: int = 5,
    pruner: optuna.pruners.BasePruner | None = None,
    enqueued: tuple[dict, ...] = (),
) -> tuple[optuna.Study, RunStore]:
    store = RunStore(tmp_path / "runs.sqlite")
    plan = tuning.StudyPlan(base=base, space=space, seed=seed)
    study, plan = tuning.create_or_load_study(
        "models", tuning.study_storage_url(store), plan, "fingerprint", pruner=pruner
    )
    for params in enqueued:
        study.enqueue_trial(params)
    tuning.optimize(study, plan, series, trials, store=store)
    return study, store


def validation_ratio_by_hand(model, config: TrainConfig, series: pd.Series) -> float:
    """The validation RMSE ratio to persistence on the model's scale, with numpy."""
    prepared = prepare_config(series, config)
    scaled = np.asarray(model.predict(prepared.x_validation, verbose=0)).reshape(-1)
    truth = prepared.y_validation.astype(np.float64)
    # Persistence predicts today: a window's last input on the model's scale (0 for changes).
    today = prepared.x_validation[:, -1, 0].astype(np.float64)
    model_mse = np.mean((scaled.astype(np.float64) - truth) ** 2)
    persistence_mse = np.mean((truth - today) ** 2)
    return float(np.sqrt(model_mse / persistence_mse))


def test_a_study_searching_the_model_trains_several_kinds_and_keeps_each(tmp_path, msft):
    space = tuning.SearchSpace.of({"model": ("lstm", "gru", "linear"), "target": None})
    study, store = run_study(tmp_path, msft, space, trials=3, seed=1)
    complete = tuning.complete_trials(study)
    assert len(complete) == 3
    kinds = {trial.params["model"] for trial in complete}
    assert len(kinds) >= 2, f"seed 1 drew only {kinds}; the study should try several kinds"
    for trial in complete:
        kind = trial.params["model"]
        run = store.load(trial.user_attrs["run_id"])
        assert run.config.model == kind == trial.user_attrs["config"]["model"]
        model = store.load_model(trial.user_attrs["run_id"])
        if kind == "linear":
            assert isinstance(model, RidgeWindowModel)
            assert trial.user_attrs["epochs_run"] == 1
        else:
            # The saved network is the kind the trial drew: its layers are named after it.
            prefix = {"lstm": "lstm_", "gru": "gru_"}[kind]
            names = [layer.name for layer in model.layers if layer.weights]
            assert names[0] == f"{prefix}1"
        # The trial's value is the saved model's validation ratio, recomputed here.
        assert trial.value == pytest.approx(
            validation_ratio_by_hand(model, run.config, msft), rel=1e-4
        )
        assert trial.intermediate_values == {1: trial.value}
    row = tuning.trial_rows(study)[0]
    assert "model" in row["params"]


def test_the_ridge_reports_once_and_is_not_pruned_while_networks_are(tmp_path, msft):
    # Every ratio is above 0, so this pruner prunes at the first report it may act on.
    space = tuning.SearchSpace.of({"model": ("lstm", "linear")})
    study, store = run_study(
        tmp_path,
        msft,
        space,
        trials=2,
        base=TINY.with_changes(epochs=2),
        pruner=optuna.pruners.ThresholdPruner(upper=0.0),
        enqueued=({"model": "linear"}, {"model": "lstm"}),
    )
    ridge, network = study.get_trials()
    assert ridge.params == {"model": "linear"} and network.params == {"model": "lstm"}
    assert ridge.state == optuna.trial.TrialState.COMPLETE
    assert list(ridge.intermediate_values) == [1] and ridge.value == ridge.intermediate_values[1]
    assert network.state == optuna.trial.TrialState.PRUNED
    assert network.user_attrs["epochs_run"] == 1  # of 2
    assert len(store.table()) == 1  # only the complete trial became a run


def test_the_analysis_charts_show_the_model_as_a_categorical_axis(tmp_path, msft):
    space = tuning.SearchSpace.of({"model": ("lstm", "linear"), "target": None})
    study, _ = run_study(
        tmp_path,
        msft,
        space,
        trials=3,
        enqueued=(
            {"model": "linear", "target": "change"},
            {"model": "lstm", "target": "change"},
            {"model": "linear", "target": "level"},
        ),
    )
    figures = tuning.analysis_figures(study)
    assert set(figures) == {"importances", "parallel", "contour"}
    importances = figures["importances"].data[0]
    assert set(importances.y) == {"model", "target"}
    # Optuna draws parallel coordinates as lines between labelled axes; a categorical axis
    # names its values in annotations.
    parallel = figures["parallel"].to_plotly_json()["layout"]
    assert parallel["xaxis"]["ticktext"] == ["validation RMSE ratio", "model", "target"]
    labels = {annotation["text"] for annotation in parallel["annotations"]}
    assert {"lstm", "linear", "change", "level"} <= labels
    contour = figures["contour"].to_plotly_json()["layout"]
    axes = {contour["xaxis"]["title"]["text"], contour["yaxis"]["title"]["text"]}
    assert axes == {"model", "target"}
    assert contour["xaxis"]["type"] == contour["yaxis"]["type"] == "category"


@pytest.mark.parametrize(
    ("search", "sentence"),
    [
        ("model=lstm/transformer", "transformer is not a model kind a study can try"),
        ("model=lstm:gru", "lstm:gru is not a model kind a study can try"),
        ("modle", "modle is not a setting a study can search"),
    ],
)
def test_an_unknown_model_in_search_ends_with_one_error_line(capsys, search, sentence) -> None:
    assert cli.main(["tune", "--trials", "2", "--search", search]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and sentence in error
    assert error.count("\n") == 1


def test_cli_tune_searches_the_model_and_names_the_winners_kind(
    tmp_path, capsys, monkeypatch
) -> None:
    # Its trials' runs go to a store of its own, not the session's shared one.
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    out = tmp_path / "study.json"
    arguments = ["tune", "--trials", "2", "--search", "model=linear", "--lag", "10"]
    arguments += ["--seed", "3", "--storage", f"sqlite:///{tmp_path / 'studies.sqlite'}"]
    assert cli.main([*arguments, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert [trial["params"] for trial in report["trials"]] == [{"model": "linear"}] * 2
    assert [trial["epochs_run"] for trial in report["trials"]] == [1, 1]
    assert report["best"]["config"]["model"] == "linear"
    assert "searching model" in printed
    assert "the study's only test figure: On the held-out test period the Ridge (linear)'s" in (
        printed
    )


def test_the_model_choices_are_read_in_one_order() -> None:
    """ "linear/lstm" and "lstm/linear/lstm" are one search, so one study; none is all four."""
    assert tuning.SearchSpace.parse("model=linear/lstm") == tuning.SearchSpace.parse(
        "model=lstm/linear/lstm"
    )
    assert tuning.SearchSpace.parse("model").to_dict() == {
        "model": ["lstm", "gru", "simple_rnn", "linear"]
    }
    plan = tuning.StudyPlan(base=TINY, space=tuning.SearchSpace.parse("model=gru/linear"), seed=1)
    assert tuning.StudyPlan.from_attrs(plan.to_attrs("prints"), "again").space == plan.space


def test_tune_page_offers_the_model_and_train_this_carries_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tuning, "DEFAULT_BASE", TINY)
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    kinds = at.multiselect(key="tune_range_model")
    assert kinds.options == ["LSTM", "GRU", "SimpleRNN", "Ridge (linear)"]
    for name in ("lag", "batch_size", "learning_rate"):
        at.checkbox(key=f"tune_search_{name}").uncheck()
    at.checkbox(key="tune_search_model").check()
    kinds.set_value(["linear"])
    at.number_input(key="tune_trials").set_value(2)
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
    best = tuning.best_summary(job.study)
    assert best["params"] == {"model": "linear"}
    # The held-out figures name the winner's kind.
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Held-out test: Ridge (linear) RMSE"] == (
        f"${best['test']['metrics']['lstm']['rmse']:,.2f}"
    )
    assert any("the Ridge (linear)'s" in info.value for info in at.info)
    at.button(key="tune_train_best").click().run()
    assert not at.exception
    assert at.session_state["train_settings"].model == "linear"
    # The Train form opens on the ridge, not on its default LSTM.
    assert at.session_state["form_model"] == "linear"
