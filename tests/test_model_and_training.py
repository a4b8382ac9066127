"""The tutorial's model shape, deterministic training, the progress hook and the stop request."""

import random

import keras
import numpy as np
import pytest

from lstm_core.config import TrainConfig
from lstm_core.model.network import build_model, layer_parameter_counts
from lstm_core.model.pipeline import run_training
from lstm_core.model.training import Progress, train_model
from lstm_core.preprocessing import prepare

TINY = TrainConfig(ticker="SYN", lag=10, batch_size=16, epochs=2, units=(8, 8), dense_units=4)


def test_tutorial_model_has_the_published_parameter_counts() -> None:
    model = build_model(TrainConfig())
    counts = layer_parameter_counts(model)
    # The tutorial's model summary: 66,560 + 49,408 + 1,625 + 26 = 117,619 parameters.
    assert [count for _, _, count in counts] == [66_560, 49_408, 1_625, 26]
    assert model.count_params() == 117_619


def test_same_config_and_seed_give_the_same_loss_history(synthetic_series) -> None:
    prepared = prepare(synthetic_series, TINY.lag, TINY.train_fraction)
    first = train_model(TINY, prepared)
    second = train_model(TINY, prepared)
    assert len(first.loss_history) == 2
    assert first.loss_history == second.loss_history
    other_seed = train_model(TINY.with_changes(seed=7), prepared)
    assert other_seed.loss_history != first.loss_history


def test_another_thread_drawing_random_numbers_does_not_change_a_run(
    synthetic_series, monkeypatch
) -> None:
    """A server's other threads draw from Python's global `random` (websocket pings, ...).

    Once, with three people training, one got a different result than the same run alone:
    Keras seeded its initial weights from that shared `random` at the first weight draw.
    """
    prepared = prepare(synthetic_series, TINY.lag, TINY.train_fraction)
    alone = train_model(TINY, prepared)
    seed = keras.utils.set_random_seed

    def seed_then_another_thread_draws(value: int) -> None:
        seed(value)
        random.random()

    monkeypatch.setattr(keras.utils, "set_random_seed", seed_then_another_thread_draws)
    disturbed = train_model(TINY, prepared)
    assert disturbed.loss_history == alone.loss_history
    np.testing.assert_array_equal(disturbed.test_predictions, alone.test_predictions)


def test_progress_hook_reports_epochs_and_throttles_batches(synthetic_series) -> None:
    prepared = prepare(synthetic_series, TINY.lag, TINY.train_fraction)
    events: list[Progress] = []
    config = TINY.with_changes(batch_size=8)
    outcome = train_model(config, prepared, progress=events.append, min_interval=3600)
    epoch_events = [event for event in events if event.epoch_finished]
    assert [event.epoch for event in epoch_events] == [1, 2]
    assert [event.epoch_losses[-1] for event in epoch_events] == outcome.loss_history
    # With a one-hour interval only the start is reported between epochs.
    assert len(events) == 3
    assert epoch_events[-1].fraction == 1.0


def test_stop_request_ends_training_and_keeps_the_model(synthetic_series) -> None:
    prepared = prepare(synthetic_series, TINY.lag, TINY.train_fraction)
    calls = {"batches": 0}

    def stop_after_three_batches() -> bool:
        calls["batches"] += 1
        return calls["batches"] >= 3

    outcome = train_model(
        TINY.with_changes(epochs=5, batch_size=8), prepared, should_stop=stop_after_three_batches
    )
    assert outcome.stopped
    # 230 windows at batch 8 are 29 batches, run as one call per epoch. The stop request is
    # polled once before training, after each call and at each epoch's end: the third poll
    # (at the end of the first epoch) ends training after the first of five epochs.
    assert calls["batches"] == 3
    assert outcome.epochs_completed == 1
    assert len(outcome.loss_history) == 1
    prediction = outcome.model.predict(prepared.x_test[:2], verbose=0)
    assert prediction.shape == (2, 1) and np.all(np.isfinite(prediction))


def test_run_training_scores_model_and_baseline_in_dollars(synthetic_series) -> None:
    result = run_training(TINY, synthetic_series)
    # Test days from floor(0.8 x 300) = 240: 60 of them; 240 - 10 windows train.
    assert result.n_train == 230 and result.n_test == 60
    assert result.actual.tolist() == synthetic_series.to_numpy()[-60:].tolist()
    persistence = synthetic_series.to_numpy()[-61:-1]
    assert np.array_equal(result.persistence, persistence)
    # Repeating yesterday never predicts a move, so it has no direction score (not a false 0).
    assert result.metrics["persistence"]["direction_accuracy"] is None
    naive_rmse = float(np.sqrt(np.mean((persistence - result.actual) ** 2)))
    assert result.metrics["persistence"]["rmse"] == pytest.approx(naive_rmse)
    lstm_rmse = float(np.sqrt(np.mean((result.predicted - result.actual) ** 2)))
    assert result.metrics["lstm"]["rmse"] == pytest.approx(lstm_rmse)
    payload = result.to_json()
    assert payload["history"]["loss"] == result.loss_history
    assert len(payload["test"]["dates"]) == 60


def test_batch_larger_than_training_set_is_refused(synthetic_series) -> None:
    from lstm_core.errors import NotEnoughDataError

    with pytest.raises(NotEnoughDataError, match="larger than the 230 training windows"):
        run_training(TINY.with_changes(batch_size=500), synthetic_series)


def test_batch_size_one_uses_the_latency_levers() -> None:
    from lstm_core.model.training import fit_options

    assert fit_options(1, 1000) == {"jit_compile": True, "steps_per_execution": 50}
    assert fit_options(200, 1000) == {"jit_compile": False, "steps_per_execution": 1}
    assert fit_options(32, 1160) == {"jit_compile": False, "steps_per_execution": 37}
    keras.backend.clear_session()


def test_a_kept_model_is_not_changed_by_the_next_run(synthetic_series) -> None:
    prepared = prepare(synthetic_series, TINY.lag, TINY.train_fraction)
    first = train_model(TINY, prepared)
    weights = [array.copy() for array in first.model.get_weights()]
    second = train_model(TINY.with_changes(seed=11), prepared)
    assert second.model is not first.model
    after = first.model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(weights, after, strict=True))
    # The kept model predicts what training predicted for the test windows.
    kept = first.model.predict(prepared.x_test, verbose=0).reshape(-1)
    assert kept == pytest.approx(first.test_predictions, abs=1e-6)


def test_a_stop_inside_an_epoch_keeps_the_last_whole_epoch(synthetic_series) -> None:
    # Batch 3 on 200 training windows: 67 steps an epoch, run 50 at a time, so the batch hook
    # fires after step 50 (inside the epoch) and after step 67 (its end).
    config = TINY.with_changes(
        batch_size=3, epochs=3, units=(8,), dense_units=0, validation_fraction=0.1, patience=2
    )
    prepared = prepare(synthetic_series, 10, 0.8, validation_fraction=0.1, early_stopping=True)
    seen: list[tuple[int, int]] = []

    polls = {"count": 0}

    def stop_inside_the_second_epoch() -> bool:
        # Polled before training, after steps 50 and 67 and at the end of epoch 1: the fifth
        # poll comes after step 50 of epoch 2.
        polls["count"] += 1
        return polls["count"] >= 5

    keras.utils.set_random_seed(3)
    outcome = train_model(
        config,
        prepared,
        progress=lambda progress: seen.append((progress.epoch, progress.batch)),
        should_stop=stop_inside_the_second_epoch,
        min_interval=0.0,
    )
    assert prepared.train_count == 200
    assert seen[-1] == (2, 50)  # the last report: the stop really came inside epoch 2
    assert outcome.stopped
    assert outcome.epochs_completed == 1
    assert len(outcome.validation_loss_history) == len(outcome.loss_history) == 1
    assert outcome.best_epoch is not None and outcome.best_epoch <= outcome.epochs_completed
    # The kept weights are epoch 1's: their loss on the validation days early stopping
    # watches (the first 15 of 30) is the one recorded for it.
    kept_loss = outcome.model.evaluate(
        prepared.x_validation[:15], prepared.y_validation[:15], verbose=0, batch_size=1024
    )
    assert kept_loss == pytest.approx(outcome.validation_loss_history[0], rel=1e-4)
