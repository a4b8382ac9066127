"""What a teacher saw (issue 25): stopped runs left out, verdicts that say what the test says,
sentences computed from their figures, estimates from the epochs measured so far."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstm_core.charts.forecast import fold_ratio_chart, ratio_axis_range
from lstm_core.config import TrainConfig
from lstm_core.evaluation.significance import luck_answer, luck_verdict
from lstm_core.experiments import sweeps
from lstm_core.forecasting.backtest_results import BacktestResult
from lstm_core.model.internals import memory_reach, reach_sentence
from pages.sections.backtest_view import summary_sentence


def fake_run(rmse: float, baseline: float, seed: int, stopped: bool = False, done: int = 10):
    """A run with only what the aggregates read: its config, test metrics and whether it stopped."""
    metrics = {
        "lstm": {"rmse": rmse, "mae": rmse, "mse_scaled": 1.0, "direction_accuracy": 50.0},
        "persistence": {"rmse": baseline, "mae": baseline, "mse_scaled": 1.0},
    }
    for forecaster in metrics.values():
        for name in ("mape", "mase", "direction_accuracy"):
            forecaster.setdefault(name, None)
    return SimpleNamespace(
        config=TrainConfig(epochs=10, seed=seed, batch_size=1),
        metrics=metrics,
        stopped=stopped,
        epochs_completed=done if stopped else 10,
        validation=None,
    )


def test_a_stopped_seed_is_left_out_of_its_groups_mean_and_verdict() -> None:
    # The case: complete seeds at $6.44 and $7.03, a seed stopped at 7 of 10 with $21.26.
    batch_1 = [
        fake_run(6.44, 4.57, 42),
        fake_run(7.03, 4.57, 7),
        fake_run(21.26, 4.57, 2024, stopped=True, done=7),
    ]
    batch_200 = [fake_run(24.13, 4.57, seed) for seed in (42, 7, 2024)]
    batch_200[1].metrics["lstm"]["rmse"] = 23.13
    batch_200[2].metrics["lstm"]["rmse"] = 25.13
    table = sweeps.spread_table(batch_1)
    rmse = table[(table["forecast"] == "LSTM") & (table["metric"] == "rmse")].iloc[0]
    # By hand: (6.44 + 7.03) / 2 = 6.735; sample sd = |6.44 - 7.03| / sqrt(2) = 0.41719.
    assert rmse["mean"] == pytest.approx(6.735)
    assert rmse["std"] == pytest.approx(0.59 / np.sqrt(2))
    assert rmse["runs"] == 2
    # Batch 200: mean 24.13, sd 1.00. Gap 24.13 - 6.735 = 17.395 > 2 x 1.00: batch 1 is better.
    verdict = sweeps.difference_verdict(batch_1, batch_200, ("batch 1", "batch 200"))
    assert verdict.startswith("batch 1 is better: its mean test RMSE is $17.39 lower")
    assert "($1.00)" in verdict
    # Ratios by hand: (6.44 / 4.57 + 7.03 / 4.57) / 2 = 1.4737, not 2.53 with the stopped seed.
    ranking = sweeps.group_verdict({"batch 1": batch_1, "batch 200": batch_200})
    assert "batch 1: mean held-out test ratio 1.47" in ranking
    assert sweeps.stopped_text(batch_1[2]) == "stopped at 7 of 10 epochs"
    # All seeds stopped: nothing to rank.
    only_stopped = {"batch 1": [batch_1[2]]}
    assert sweeps.group_verdict(only_stopped) == (
        "No setting has a complete run yet, so none is ranked."
    )


def test_sweep_cells_hold_complete_runs_only() -> None:
    complete = fake_run(5.0, 4.0, 42)
    stopped = fake_run(40.0, 4.0, 7, stopped=True, done=1)
    frame = sweeps.heatmap_frame([complete, stopped])
    assert frame.to_numpy().ravel().tolist() == [pytest.approx(1.25)]


@pytest.mark.parametrize(
    ("ratio", "pvalue", "verdict", "answer"),
    [
        (0.98, 0.006, "better, more than luck", "yes, better"),
        (5.28, 0.001, "worse, more than luck", "yes, worse"),
        (0.98, 0.72, "within luck", "no"),
        (1.02, 0.05, "within luck", "no"),
        (0.98, None, "within luck", "no"),
    ],
)
def test_more_than_luck_says_the_side(ratio, pvalue, verdict, answer) -> None:
    assert luck_verdict(ratio, pvalue) == verdict
    assert luck_answer(ratio, pvalue) == answer


def backtest_with(ratios: list[float], pvalues: list[float]) -> BacktestResult:
    folds = [
        SimpleNamespace(ratio=ratio, comparison={"rmse_ratio": ratio, "dm_pvalue": pvalue})
        for ratio, pvalue in zip(ratios, pvalues, strict=True)
    ]
    return BacktestResult(
        config=TrainConfig(),
        folds_planned=len(folds),
        horizon=1,
        folds=folds,
        by_horizon={},
        seconds=1.0,
        stopped=False,
        finished_at="2026-12-02T00:00:00",
    )


def test_backtest_headline_counts_blocks_by_the_test() -> None:
    # The MSFT backtest: all five ratios below 1, two of them more than luck... one of
    # which is set worse here, so each verdict appears.
    ratios = [0.998, 0.973, 0.999, 1.027, 0.997]
    pvalues = [0.72, 0.006, 0.83, 0.014, 0.73]
    sentence = summary_sentence(backtest_with(ratios, pvalues))
    assert sentence.endswith(
        "Of the 5 blocks: 1 better, more than luck; 3 within luck; 1 worse, more than luck."
    )
    assert "beat" not in sentence
    figure = fold_ratio_chart(
        [str(n) for n in range(5)],
        ratios,
        [luck_verdict(ratio, pvalue) for ratio, pvalue in zip(ratios, pvalues, strict=True)],
    )
    colours = list(figure.data[0].marker.color)
    assert colours[1] == "#2ca02c" and colours[3] == "#d62728"
    assert colours[0] == colours[2] == colours[4] == "#9ca3af"
    low, high = figure.layout.yaxis.range
    assert low <= 0.9 and high >= 1.1


def test_ratio_axis_always_shows_one_and_a_tenth_either_side() -> None:
    assert ratio_axis_range([0.99, 1.001]) == pytest.approx([0.89, 1.11])
    low, high = ratio_axis_range([5.28])
    assert low < 0.9 and high > 5.28


def test_the_influence_sentence_follows_the_figures() -> None:
    """Two opposite synthetic cases: the network drawing on more days reaches further back."""
    lag = 60
    short = np.zeros(lag)
    short[-3:] = 1.0  # all influence in the last 3 days
    long = np.zeros(lag)
    long[-8:] = 1.0  # spread over the last 8 days
    lstm_short, rnn_long = memory_reach(short), memory_reach(long)
    assert (lstm_short, rnn_long) == (3, 8)
    flipped = reach_sentence(lstm_short, lag, rnn_long)
    assert "For the LSTM, 90% of the influence comes from the last 3 of 60 days" in flipped
    assert "here the SimpleRNN reaches further back than the LSTM" in flipped
    assert "fades faster, as the tutorial" not in flipped
    as_told = reach_sentence(memory_reach(long), lag, memory_reach(short))
    assert "here the LSTM reaches further back, as the tutorial describes" in as_told
    assert "Both lean on the most recent days" in flipped and "Both lean" in as_told
    wide = np.ones(lag)
    assert "Both lean" not in reach_sentence(memory_reach(wide), lag, memory_reach(short))


def test_the_seed_summary_leaves_a_stopped_seed_out_and_says_how_many_it_has() -> None:
    """The page: 2 of 3 seeds complete, the stopped one listed apart, the mean without it."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    runs = {
        "a": fake_run(6.44, 4.57, 42),
        "b": fake_run(7.03, 4.57, 7),
        "c": fake_run(21.26, 4.57, 2024, stopped=True, done=7),
    }
    label = "MSFT lag 60, batch 1, 10 epochs"
    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=60)
    at.session_state["results"] = runs
    at.session_state["last_group"] = {"kind": "seeds", "keys": ["a", "b", "c"]}
    at.session_state["group_plan"] = {"kind": "seeds", "planned": {label: 3}}
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert any(
        f"**{label}**, only 2 of 3 seeds complete" == markdown.value for markdown in at.markdown
    )
    spread = next(frame.value for frame in at.dataframe if "mean" in frame.value.columns)
    lstm = spread[spread["forecast"] == "LSTM"].set_index("metric")
    assert lstm.loc["RMSE ($)", "mean"] == "$6.74"  # (6.44 + 7.03) / 2 = 6.735
    assert (lstm["runs"] == 2).all()
    left_out = next(caption.value for caption in at.caption if "Left out" in caption.value)
    assert f"{label}, seed 2024, stopped at 7 of 10 epochs" in left_out
    verdict = next(info.value for info in at.info if "Ranked by" in info.value)
    assert "mean held-out test ratio 1.47" in verdict


def epoch_done(epoch: int, elapsed: float, seconds_left: float | None = None):
    """A training progress report at the end of an epoch."""
    return SimpleNamespace(
        epoch=epoch,
        epochs=10,
        batch=5,
        batches=5,
        epoch_finished=True,
        elapsed=elapsed,
        seconds_left=seconds_left,
    )


def test_time_left_counts_every_run_from_what_was_measured() -> None:
    """Both tutorial models, 2 seeds: batch 1 is never guessed from batch 200's pace."""
    from lstm_core.execution.estimates import TimeLeft, settings_key

    fast = TrainConfig(batch_size=200, epochs=10)
    slow = TrainConfig(batch_size=1, epochs=10)
    fast_key, slow_key = settings_key(fast), settings_key(slow)
    assert settings_key(fast.with_changes(seed=7)) == fast_key != slow_key
    clock = TimeLeft()
    # Run 1 (batch 200): ten 1-second epochs; run 2 starts 12 s after run 1 did.
    clock.observe(0, fast_key, None, now=0.0)
    for epoch in range(1, 11):
        clock.observe(0, fast_key, epoch_done(epoch, float(epoch)), now=float(epoch))
    clock.observe(1, fast_key, None, now=12.0)
    assert clock.unit_seconds[fast_key] == [12.0]
    assert clock.epoch_seconds[fast_key] == [1.0] * 10
    # In run 2, 5 s left; the two batch-1 runs have no measure yet: a floor, said as such.
    estimate = clock.estimate(
        epoch_done(5, 5.0, 5.0), 10, [(slow_key, 10), (slow_key, 10)], now=19.0
    )
    assert (estimate.seconds, estimate.unmeasured) == (5.0, 2)
    assert estimate.text(4, "runs").startswith("at least 5 s left for all 4 runs (2 not timed")
    # Run 3 (batch 1) starts at 24 s; its first epoch takes 9 s, and 81 s are left in it.
    clock.observe(2, slow_key, None, now=24.0)
    clock.observe(2, slow_key, epoch_done(1, 9.0, 81.0), now=33.0)
    assert clock.unit_seconds[fast_key] == [12.0, 12.0]
    estimate = clock.estimate(epoch_done(1, 9.0, 81.0), 10, [(slow_key, 10)], now=33.0)
    # By hand: 81 s left in run 3, and run 4 is 10 epochs of 9 s: 81 + 90 = 171.
    assert (estimate.seconds, estimate.unmeasured) == (171.0, 0)
    assert estimate.text(4, "runs") == "about 171 s left for all 4 runs"


def test_a_backtest_estimates_every_fold_left() -> None:
    """Fold 2 of 5: this fold's rest plus three folds as long as fold 1 took."""
    from lstm_core.execution.jobs import TrainingJob
    from lstm_core.forecasting.backtest import FoldProgress

    job = TrainingJob(TrainConfig(epochs=4), pd.Series([1.0] * 100))
    job._on_progress(FoldProgress(fold=1, folds=5, inner=None))
    first_started = job.clock._unit_started
    job._on_progress(FoldProgress(fold=2, folds=5, inner=None))
    [fold_one] = job.clock.unit_seconds["fold"]
    assert fold_one == pytest.approx(job.clock._unit_started - first_started)
    job._on_progress(FoldProgress(fold=2, folds=5, inner=epoch_done(1, 2.0, 6.0)))
    estimate = job.time_left()
    assert estimate.seconds == pytest.approx(6.0 + 3 * fold_one)
    assert job.progress.describe(estimate.text(5, "folds")).endswith("left for all 5 folds")


def test_preset_times_come_from_runs_measured_here_or_are_not_given() -> None:
    from lstm_core.config import TUTORIAL_MODEL_1, TUTORIAL_MODEL_2
    from lstm_core.execution.estimates import measured_run_seconds, measured_text

    def row(config: TrainConfig, seconds: float, stopped: bool = False) -> dict:
        return {
            "lag": config.lag,
            "batch": config.batch_size,
            "epochs": config.epochs,
            "units": "/".join(str(size) for size in config.units),
            "learning rate": config.learning_rate,
            "target": config.target,
            "validation share": config.validation_fraction,
            "train share": config.train_fraction,
            "stopped": stopped,
            "seconds": seconds,
        }

    table = pd.DataFrame(
        [
            row(TUTORIAL_MODEL_1, 11.0),
            row(TUTORIAL_MODEL_1.with_changes(seed=7), 14.0),
            row(TUTORIAL_MODEL_1, 13.0),
            row(TUTORIAL_MODEL_1, 2.0, stopped=True),
        ]
    )
    measured = measured_run_seconds(table, TUTORIAL_MODEL_1)
    assert measured == (13.0, 3)  # the median of 11, 14 and 13; the stopped run is left out
    assert measured_text(measured) == "Measured here: about 13 s a run (median of 3 saved runs)."
    assert measured_run_seconds(table, TUTORIAL_MODEL_2) is None
    assert measured_text(None) == ""


def test_help_names_no_file() -> None:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=60)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    preset = at.selectbox(key="preset")
    assert preset.help and "bench" not in preset.help and ".py" not in preset.help
    at.switch_page("pages/compare.py").run()
    helps = [button.help or "" for button in at.button]
    assert not [text for text in helps if ".py" in text or "a minute per seed" in text]


def chosen_run(errors: np.ndarray, run_id: int, validation_ratio: float | None = None, **extra):
    """A loaded run whose test predictions miss a straight-line price by `errors`."""
    days = len(errors)
    actual = 100.0 + np.arange(days, dtype=np.float64)
    persistence = actual - 1.0  # yesterday's price: always $1 off, RMSE exactly 1
    predicted = actual + errors
    rmse = float(np.sqrt(np.mean(errors**2)))
    return SimpleNamespace(
        run_id=run_id,
        config=TrainConfig(epochs=10),
        test_dates=pd.bdate_range("2021-01-04", periods=days),
        actual=actual,
        predicted=predicted,
        persistence=persistence,
        metrics={"lstm": {"rmse": rmse}, "persistence": {"rmse": 1.0}},
        validation=None
        if validation_ratio is None
        else {"comparison": {"rmse_ratio": validation_ratio}},
        stopped=extra.get("stopped", False),
        epochs_completed=extra.get("done", 10),
    )


def test_the_compare_sentence_names_the_winner_the_period_and_luck() -> None:
    from statsmodels.tsa.stattools import diebold_mariano_test

    from lstm_core.evaluation.significance import format_pvalue
    from lstm_core.experiments.head_to_head import head_to_head, ratio_texts

    generator = np.random.default_rng(3)
    small, large = generator.normal(0, 0.5, 60), generator.normal(0, 2.0, 60)
    sharp, rough = chosen_run(small, 1), chosen_run(large, 2)
    reference = diebold_mariano_test(
        sharp.actual, sharp.predicted, rough.predicted, criterion="mse", harvey_adj=True
    ).pvalue
    assert reference < 0.05
    first, second = ratio_texts(sharp.metrics["lstm"]["rmse"], rough.metrics["lstm"]["rmse"])
    sentence = head_to_head([rough, sharp], ["#2", "#1"])
    assert sentence == (
        f"On the held-out test period #1 is better than #2 ({first} against {second} the "
        f"baseline's error), by more than luck ({format_pvalue(reference)})."
    )
    # Nearly alike: the same words say the gap is within luck.
    twin = chosen_run(small + generator.normal(0, 0.05, 60), 3)
    close = head_to_head([sharp, twin], ["#1", "#3"])
    assert "a gap within luck (p = " in close
    # With validation periods on both, validation comes first, and may pick the other run.
    sharp.validation = {"comparison": {"rmse_ratio": 1.02}}
    rough.validation = {"comparison": {"rmse_ratio": 0.97}}
    both = head_to_head([sharp, rough], ["#1", "#2"])
    assert both.startswith(
        "On the validation period #2 is better than #1 (0.97x against 1.02x the baseline's error)"
    )
    assert "On the held-out test period #1 is better than #2" in both
    # A stopped run is named and left out, never ranked.
    stopped = chosen_run(small * 0.1, 4, stopped=True, done=3)
    sentence = head_to_head([rough, stopped], ["#2", "#4"])
    assert sentence == (
        "Choose at least two complete runs to see which is better. Left out, since they did "
        "not train to the end: #4 (stopped at 3 of 10 epochs)."
    )
    assert ratio_texts(0.997, 1.001) == ("0.997x", "1.001x")


def saved_run(errors: np.ndarray, batch: int, stopped: bool = False):
    """A RunResult made by hand (no training): a straight-line price missed by `errors`."""
    from lstm_core.evaluation.significance import comparison
    from lstm_core.model.results import RunResult

    run = chosen_run(errors, 0)
    rmse = run.metrics["lstm"]["rmse"]
    metrics = {
        "lstm": {"rmse": rmse, "mse_scaled": rmse**2, "direction_accuracy": 50.0},
        "persistence": {"rmse": 1.0, "mse_scaled": 1.0, "direction_accuracy": None},
    }
    figures = comparison(run.actual, run.predicted, run.persistence, run.actual - 1.0)
    figures["dm_pvalue"] = None if batch == 64 else figures["dm_pvalue"]
    return RunResult(
        config=TrainConfig(batch_size=batch, epochs=10),
        n_train=100,
        n_test=len(errors),
        metrics=metrics,
        loss_history=[1.0, 0.9, 0.8],
        test_dates=run.test_dates,
        actual=run.actual,
        predicted=run.predicted,
        persistence=run.persistence,
        seconds=3.0,
        stopped=stopped,
        epochs_completed=3 if stopped else 10,
        finished_at="2026-12-02 18:00:00 UTC",
        comparison=figures,
    )


def test_compare_reads_on_a_projector(tmp_path, monkeypatch) -> None:
    """Ratio first after the name, periods in headers, dashes, one colour per run, a sentence."""
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from lstm_core.experiments.store import RunStore
    from pages.sections.compare_runs import runs_display, styled

    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    store = RunStore()
    generator = np.random.default_rng(5)
    store.save(saved_run(generator.normal(0, 0.5, 40), 32))
    store.save(saved_run(generator.normal(0, 2.0, 40), 64))
    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=60)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    table = at.dataframe[0]
    order = list(table.proto.column_order)
    assert order[:4] == ["run", "LSTM / baseline", "validation ratio", "more than luck"]
    headers = json.loads(table.proto.columns)
    assert headers["LSTM / baseline"]["label"] == "LSTM / baseline (held-out test)"
    assert headers["LSTM RMSE ($)"]["label"] == "LSTM RMSE ($, held-out test)"
    shown = runs_display(store.table())
    assert shown["run"].tolist()[0] == "#2 MSFT lag 60, batch 64, seed 42"
    assert shown["more than luck"].tolist()[0] == "\N{EN DASH}"  # no test stored for run 2
    text = styled(shown).to_string()
    assert "None" not in text and "nan" not in text
    sentence = next(info.value for info in at.info if "held-out test period" in info.value)
    assert sentence.startswith("On the held-out test period #1 batch 32, seed 42 is better")
    assert "by more than luck" in sentence
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    overlay, losses = charts[0], charts[1]
    overlay_colours = {
        trace["name"]: trace["line"]["color"] for trace in overlay["data"] if "#" in trace["name"]
    }
    loss_colours = {trace["name"]: trace["line"]["color"] for trace in losses["data"]}
    assert overlay_colours == loss_colours and len(set(loss_colours.values())) == 2


def test_tune_counts_trials_from_one_and_keeps_its_decimals() -> None:
    import optuna

    from lstm_core.evaluation.significance import ratio_verdict
    from lstm_core.experiments.tuning import history_figure

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(lambda trial: trial.suggest_float("x", 0.9, 1.1), n_trials=3)
    figure = history_figure(study)
    assert list(figure.data[0].x) == [1, 2, 3]  # Optuna's trials 0, 1, 2
    assert figure.layout.xaxis.tick0 == 1
    verdict = ratio_verdict({"rmse_ratio": 0.9971, "dm_pvalue": 0.4}, decimals=3)
    assert "0.997x the baseline's" in verdict


def test_one_colour_per_company_on_the_market_page() -> None:
    from lstm_core import charts

    dates = pd.bdate_range("2021-01-04", periods=5)
    frame = pd.DataFrame(
        {
            "Date": list(dates) * 2,
            "Ticker": ["AAPL"] * 5 + ["MSFT"] * 5,
            "Adj Close": np.arange(10, dtype=float) + 1,
            "Close": np.arange(10, dtype=float) + 1,
        }
    )
    facet = charts.facet_chart(frame, {}, order=("AAPL", "GOOG", "MSFT", "AMZN"))
    facet_colours = {trace.name: trace.line.color for trace in facet.data}
    detail = charts.detail_chart(pd.Series(np.arange(5.0), index=dates, name="MSFT"), "MSFT")
    assert detail.data[0].line.color == facet_colours["MSFT"] != facet_colours["AAPL"]


def test_the_forms_sentence_names_the_periods_training_uses(monkeypatch) -> None:
    import streamlit as st

    from lstm_core import data
    from lstm_core.preprocessing import prepare_config
    from pages.sections import train_settings

    prices = data.load_snapshot().series("MSFT")
    config = TrainConfig(ticker="MSFT", lag=60, train_fraction=0.8, validation_fraction=0.1)
    monkeypatch.setattr(
        st,
        "session_state",
        {"form_lag": 60, "form_share": 0.8, "form_validation": 0.1},
    )
    sentence = train_settings.split_sentence(prices)
    prepared = prepare_config(prices, config)  # what run_training splits
    validation, test = prepared.validation_dates, prepared.test_dates
    assert (
        f"is checked on the {len(validation):,} validation days after them "
        f"({validation[0]:%Y-%m-%d} to {validation[-1]:%Y-%m-%d}" in sentence
    )
    assert f"learns to predict {prepared.train_count:,} days" in sentence
    last_training_day = prepared.dates[prepared.lag + prepared.train_count - 1]
    assert last_training_day < validation[0] and f"to {last_training_day:%Y-%m-%d}," in sentence
    assert f"tested on the {len(test):,} days after ({test[0]:%Y-%m-%d}" in sentence


def test_the_validation_period_is_shaded_and_labelled_not_a_gap() -> None:
    from lstm_core import charts

    days = pd.bdate_range("2021-01-04", periods=30)
    prices = np.arange(30.0) + 100
    validation = pd.Series(prices[20:25], index=days[20:25])
    figure = charts.prediction_chart(
        days[:20], prices[:20], days[25:], prices[25:], {"LSTM": prices[25:]}, validation=validation
    )
    drawn = {trace.name: trace for trace in figure.data}
    assert list(drawn["validation prices"].y) == list(prices[20:25])
    [band] = figure.layout.shapes
    assert (pd.Timestamp(band.x0), pd.Timestamp(band.x1)) == (days[20], days[24])
    assert [note.text for note in figure.layout.annotations] == ["validation"]
