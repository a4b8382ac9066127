"""Training through `model.fit` with a progress hook and a stop request."""

from __future__ import annotations

import gc
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from keras.src.random import seed_generator

from lstm_core.config import TrainConfig
from lstm_core.model.network import build_model
from lstm_core.model.progress import TRAINING_LOCK, Progress, ProgressHook, StopRequest
from lstm_core.preprocessing import PreparedData

LARGE_BATCH = 100
"""From this batch size on, each batch is its own call into TensorFlow (see fit_options)."""

MODEL_CACHE_SIZE = 4
"""Compiled models kept for reuse, one per architecture (see _model_for_run)."""
_MODEL_CACHE: OrderedDict[tuple, keras.Model] = OrderedDict()

DEFAULT_MIN_INTERVAL = 0.1
"""Batch progress is reported at most this often (seconds), so a UI never redraws > 10 times/s."""


@dataclass
class TrainOutcome:
    """A trained (or partly trained) model and how training went."""

    model: keras.Model
    loss_history: list[float]
    stopped: bool
    epochs_completed: int
    seconds: float
    fit_options: dict[str, object] = field(default_factory=dict)
    test_predictions: np.ndarray | None = None
    validation_loss_history: list[float] = field(default_factory=list)
    validation_predictions: np.ndarray | None = None
    best_epoch: int | None = None
    early_stopped: bool = False


def fit_options(batch_size: int, train_count: int) -> dict[str, object]:
    """The speed levers chosen for a batch size (bench/bench_training.py measures them).

    Running up to 50 steps per call into TensorFlow saves Python overhead below LARGE_BATCH
    (about 15-20% at batch 32 here); callbacks then fire every 50 steps, which at these sizes
    is still a second or two at most, so Stop stays quick. With only a few large batches an
    epoch, the longer tracing of the multi-step loop costs more than it saves. At batch size 1
    training is bound by per-step latency and compiling the step with XLA pays off too; at
    larger batches XLA's compile time costs more than it saves.
    """
    batches = max(1, -(-train_count // batch_size))
    steps = min(50, batches) if batch_size < LARGE_BATCH else 1
    return {"jit_compile": batch_size <= 2, "steps_per_execution": steps}


class _HookCallback(keras.callbacks.Callback):
    """Forwards Keras' batch and epoch events to a plain callable and polls the stop request."""

    def __init__(
        self,
        epochs: int,
        batches: int,
        steps_per_execution: int,
        progress: ProgressHook | None,
        should_stop: StopRequest | None,
        min_interval: float,
    ) -> None:
        super().__init__()
        self.epochs = epochs
        self.batches = batches
        self.steps_per_execution = steps_per_execution
        self.progress = progress
        self.should_stop = should_stop
        self.min_interval = min_interval
        self.epoch_losses: list[float] = []
        self.epoch_validation_losses: list[float] = []
        self.full_epochs = 0
        self.stopped = False
        self.current_epoch = 0
        self.started = time.perf_counter()
        self.last_report = float("-inf")
        self.steps_in_epoch = 0
        self.warm_time: float | None = None
        self.warm_done = 0
        self.partial_epoch = False
        self.whole_epoch_weights: list[np.ndarray] | None = None

    def _report(self, batch: int, loss: float | None, epoch_finished: bool) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        elapsed = now - self.started
        done = self.current_epoch * self.batches + batch
        total = self.epochs * self.batches
        if self.warm_time is None and done > 0:
            # The first batch includes tracing the graph; timing from its end keeps the
            # estimate from starting at hours.
            self.warm_time, self.warm_done = now, done
        seconds_left = None
        if self.warm_time is not None and done > self.warm_done:
            seconds_left = (now - self.warm_time) / (done - self.warm_done) * (total - done)
        self.last_report = time.perf_counter()
        self.progress(
            Progress(
                epoch=self.current_epoch + 1,
                epochs=self.epochs,
                batch=batch,
                batches=self.batches,
                loss=loss,
                epoch_losses=tuple(self.epoch_losses),
                elapsed=elapsed,
                seconds_left=seconds_left,
                epoch_finished=epoch_finished,
                epoch_validation_losses=tuple(self.epoch_validation_losses),
            )
        )

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()
        if self.should_stop is not None:
            self.whole_epoch_weights = self.model.get_weights()
        self._report(0, None, epoch_finished=False)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.current_epoch = epoch
        self.steps_in_epoch = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps_in_epoch = batch + 1
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            self.model.stop_training = True
        if time.perf_counter() - self.last_report >= self.min_interval:
            # With steps_per_execution > 1 Keras passes the index of the last step run.
            batches_done = min(self.batches, batch + 1)
            loss = None if logs is None or "loss" not in logs else float(logs["loss"])
            self._report(batches_done, loss, epoch_finished=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # A stop seen after the epoch's last step still leaves a whole epoch trained; a stop
        # inside it leaves a partial epoch, whose losses and validation nobody should see.
        self.partial_epoch = self.stopped and self.steps_in_epoch < self.batches
        if self.partial_epoch:
            return
        loss = float((logs or {}).get("loss", np.nan))
        self.epoch_losses.append(loss)
        if logs is not None and "val_loss" in logs:
            self.epoch_validation_losses.append(float(logs["val_loss"]))
        self.full_epochs += 1
        if self.whole_epoch_weights is not None:
            self.whole_epoch_weights = self.model.get_weights()
        self._report(self.batches, loss, epoch_finished=True)
        # Polled here too, so a stop decided on the epoch's figures (a study pruning a trial
        # from its validation loss) ends training now, not after the next epoch's first steps.
        last_epoch = epoch + 1 >= self.epochs
        if not (self.stopped or last_epoch) and self.should_stop is not None and self.should_stop():
            self.stopped = True
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        # Back to the last whole epoch (or the untrained start) after a Stop inside an epoch.
        if self.partial_epoch and self.whole_epoch_weights is not None:
            self.model.set_weights(self.whole_epoch_weights)


class _WholeEpochEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping that ignores an epoch a Stop cut short, so it never keeps its weights.

    Keras still validates after a Stop inside an epoch; that loss belongs to a partial epoch.
    """

    def __init__(self, hook: _HookCallback, **options: Any) -> None:
        super().__init__(**options)
        self.hook = hook

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self.hook.partial_epoch:
            super().on_epoch_end(epoch, logs)


class _PerThreadRandom:
    """Python's `random` as Keras' default seeds see it: a private stream in a seeded thread.

    Keras draws a default seed from Python's global `random` for every initializer and seed
    generator it makes without one. In a server, other threads draw from that module too
    (websocket keep-alive pings among them), so with several people training, a model's
    initial weights depended on their timing. A thread that called `seed_everything` draws
    from its own `random.Random(seed)` instead: the same numbers the global module gives after
    `random.seed(seed)` when no other thread draws, so every result stays what it was.
    """

    def __init__(self) -> None:
        self.local = threading.local()

    def __getattr__(self, name: str) -> object:
        return getattr(getattr(self.local, "generator", random), name)


_PER_THREAD_RANDOM = _PerThreadRandom()


def seed_everything(seed: int) -> None:
    """`keras.utils.set_random_seed`, with Keras' default seeds drawn from a private stream."""
    keras.utils.set_random_seed(seed)
    # Keras has no public hook for where its default seeds come from, hence its internals.
    seed_generator.python_random = _PER_THREAD_RANDOM
    _PER_THREAD_RANDOM.local.generator = random.Random(seed)


def _model_for_run(config: TrainConfig, options: dict[str, object]) -> keras.Model:
    """A compiled model with the initial weights a fresh build with `config.seed` would have.

    Building and tracing a new model for every run leaks memory in TensorFlow (about 25 MB a
    run here, tensorflow#61791) and costs the tracing time again. So one compiled model per
    architecture is kept: a new run copies a fresh build's initial weights into it and zeroes
    its optimizer's state, and the training step traced for the first run is reused.
    """
    jit_compile = bool(options["jit_compile"])
    steps = int(options["steps_per_execution"])
    seed_everything(config.seed)
    fresh = build_model(config, jit_compile=jit_compile, steps_per_execution=steps)
    key = (
        config.model,
        config.lag,
        len(config.inputs),
        config.units,
        config.dense_units,
        config.learning_rate,
        jit_compile,
        steps,
    )
    cached = _MODEL_CACHE.get(key)
    if cached is None:
        _MODEL_CACHE[key] = fresh
        while len(_MODEL_CACHE) > MODEL_CACHE_SIZE:
            _MODEL_CACHE.popitem(last=False)
        return fresh
    _MODEL_CACHE.move_to_end(key)
    cached.set_weights(fresh.get_weights())
    for variable in cached.optimizer.variables:
        if "learning_rate" not in variable.path:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    return cached


def _detached_copy(config: TrainConfig, model: keras.Model) -> keras.Model:
    """A separate model with the trained weights, so the next run cannot change a kept result."""
    copy = build_model(config)
    copy.set_weights(model.get_weights())
    return copy


def train_model(
    config: TrainConfig,
    prepared: PreparedData,
    progress: ProgressHook | None = None,
    should_stop: StopRequest | None = None,
    min_interval: float = DEFAULT_MIN_INTERVAL,
    model_builder: Callable[[TrainConfig], keras.Model] | None = None,
    predict_test: bool = True,
) -> TrainOutcome:
    """Build (or reuse) and fit the model for `config` on `prepared`'s training windows.

    `progress` is called from this thread; `should_stop` is polled after each batch (or group
    of batches) and, when it returns True, training ends there and the model is kept as it is.
    The same config and seed give the same loss history. `model_builder` replaces the
    tutorial's model (the Inside page trains a SimpleRNN of the same size this way). The
    validation loss is that of the first `prepared.watched_count` validation windows. The
    outcome carries the model's predictions for `prepared.x_test`, made once, here, unless
    `predict_test` is False (a tuning trial never looks at the test period).
    """
    if config.lag != prepared.lag:
        raise ValueError(f"config.lag ({config.lag}) differs from the prepared data's lag")
    if prepared.early_stopping != (config.patience > 0):
        raise ValueError(
            f"config.patience ({config.patience}) and the prepared data disagree on early "
            "stopping: prepare with early_stopping=(patience > 0) (prepare_config does)"
        )
    options = fit_options(config.batch_size, prepared.train_count)
    batches = max(1, -(-prepared.train_count // config.batch_size))
    with TRAINING_LOCK:
        gc.collect()
        if model_builder is None:
            model = _model_for_run(config, options)
        else:
            seed_everything(config.seed)
            model = model_builder(config)
            options = {"jit_compile": False, "steps_per_execution": 1}
        hook = _HookCallback(
            epochs=config.epochs,
            batches=batches,
            steps_per_execution=int(options["steps_per_execution"]),
            progress=progress,
            should_stop=should_stop,
            min_interval=min_interval,
        )
        has_validation = prepared.validation_count > 0
        callbacks: list[keras.callbacks.Callback] = [hook]
        early_stopping = None
        if config.patience > 0 and has_validation:
            # Keras restores the best epoch's weights at the end of training, whether the
            # patience ran out, the epochs did, or the person pressed Stop.
            early_stopping = _WholeEpochEarlyStopping(
                hook, monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
            callbacks.append(early_stopping)
        # Seeding again here makes the shuffling the same whether the model is new or reused.
        seed_everything(config.seed)
        started = time.perf_counter()
        if should_stop is not None and should_stop():
            hook.stopped = True
        else:
            model.fit(
                prepared.x_train,
                prepared.y_train,
                batch_size=config.batch_size,
                epochs=config.epochs,
                shuffle=True,
                verbose=0,
                callbacks=callbacks,
                # With early stopping only the first part of the validation period is
                # watched; the rest is kept for the forecast's bands (watched_validation_count).
                validation_data=(
                    (
                        prepared.x_validation[: prepared.watched_count],
                        prepared.y_validation[: prepared.watched_count],
                    )
                    if has_validation
                    else None
                ),
            )
        seconds = time.perf_counter() - started
        predictions = (
            model.predict(prepared.x_test, batch_size=1024, verbose=0).reshape(-1)
            if predict_test
            else None
        )
        validation_predictions = (
            model.predict(prepared.x_validation, batch_size=1024, verbose=0).reshape(-1)
            if has_validation
            else None
        )
        kept = model if model_builder is not None else _detached_copy(config, model)
    best_epoch = None
    if early_stopping is not None and early_stopping.best_weights is not None:
        best_epoch = int(early_stopping.best_epoch) + 1
    return TrainOutcome(
        model=kept,
        loss_history=hook.epoch_losses,
        stopped=hook.stopped,
        epochs_completed=hook.full_epochs,
        seconds=seconds,
        fit_options=options,
        test_predictions=predictions,
        validation_loss_history=hook.epoch_validation_losses,
        validation_predictions=validation_predictions,
        best_epoch=best_epoch,
        early_stopped=early_stopping is not None and early_stopping.stopped_epoch > 0,
    )
