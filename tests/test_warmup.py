"""The background warm-up: the first training reuses its traced model and gives the same numbers."""

import numpy as np

from lstm_core.config import TrainConfig
from lstm_core.model import training as train
from lstm_core.model import warmup
from lstm_core.model.pipeline import run_training

CONFIG = TrainConfig(ticker="SYN", lag=10, batch_size=32, epochs=2, units=(8,), dense_units=4)


def test_warm_up_leaves_a_traced_model_and_changes_no_result(synthetic_series) -> None:
    train._MODEL_CACHE.clear()
    cold = run_training(CONFIG, synthetic_series)
    train._MODEL_CACHE.clear()

    warmup.warm_up(CONFIG, synthetic_series)
    # The architecture is cached with its training step already traced, so the first click
    # does not pay for tracing (nor for importing TensorFlow).
    (cached,) = train._MODEL_CACHE.values()
    assert cached.train_function is not None
    warm = run_training(CONFIG, synthetic_series)
    assert next(iter(train._MODEL_CACHE.values())) is cached
    assert warm.loss_history == cold.loss_history
    np.testing.assert_array_equal(warm.predicted, cold.predicted)


def test_the_warm_up_thread_starts_once_per_process(synthetic_series, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda config, series: calls.append(config))
    monkeypatch.setattr(warmup, "_THREAD", None)
    thread = warmup.start_warm_up(CONFIG, synthetic_series)
    assert thread is not None
    thread.join(60)
    assert warmup.start_warm_up(CONFIG, synthetic_series) is None
    assert calls == [CONFIG] and not warmup.warming_up()
