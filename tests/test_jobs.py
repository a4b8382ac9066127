"""The background job: several configs in order, stop on request or when its tab is gone."""

import logging
import threading
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstm_core.config import TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import NotEnoughDataError
from lstm_core.execution.jobs import TrainingJob, run_key

SERIES = pd.Series(np.arange(100.0), index=pd.bdate_range("2020-01-01", periods=100))
CONFIG = TrainConfig(ticker="SYN", lag=5, batch_size=8, epochs=1, units=(4,))


def finished(config: TrainConfig, stopped: bool) -> SimpleNamespace:
    """What a runner returns, reduced to what the job reads."""
    return SimpleNamespace(config=config, stopped=stopped, epochs_completed=0, seconds=0.0)


def waits_for_stop(config, series, progress, should_stop):
    # Polls like Keras' batch loop does; a bound keeps a broken test from hanging.
    for _ in range(10_000):
        if should_stop():
            return finished(config, stopped=True)
        time.sleep(0.01)
    return finished(config, stopped=False)


def test_job_runs_each_config_in_order() -> None:
    configs = [CONFIG.with_changes(seed=seed) for seed in (3, 1, 2)]
    job = TrainingJob(
        configs,
        SERIES,
        runner=lambda config, series, progress, should_stop: finished(config, stopped=False),
    ).start()
    assert job.wait(60)
    assert job.state == "done"
    assert [result.config.seed for result in job.results] == [3, 1, 2]
    assert job.keys == [run_key(config, series_fingerprint(SERIES)) for config in configs]


def test_stop_request_is_seen_by_the_runner() -> None:
    job = TrainingJob(CONFIG, SERIES, runner=waits_for_stop).start()
    job.request_stop()
    assert job.wait(60)
    assert job.state == "stopped" and job.stop_reason == "stopped by you"


def test_a_job_nobody_watches_stops_itself_and_says_so_in_the_log(caplog) -> None:
    caplog.set_level(logging.INFO, logger="lstm_core")
    job = TrainingJob(CONFIG, SERIES, heartbeat_timeout=0.2, runner=waits_for_stop).start()
    assert job.wait(60)
    assert job.state == "stopped"
    assert job.stop_reason == "stopped because its browser tab was closed"
    assert caplog.messages == [
        f"training {CONFIG.label()} stopped because its browser tab was closed after 0 epochs"
    ]


def polls_for_a_second(config, series, progress, should_stop):
    """A runner that trains for about a second unless told to stop."""
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        if should_stop():
            return finished(config, stopped=True)
        time.sleep(0.01)
    return finished(config, stopped=False)


def test_a_connected_page_needs_no_heartbeat() -> None:
    """A background tab slows its page's reruns; while the tab is connected, training goes on."""
    job = TrainingJob(
        CONFIG,
        SERIES,
        heartbeat_timeout=0.05,
        runner=polls_for_a_second,
        is_connected=lambda: True,
    ).start()
    assert job.wait(60)
    assert job.state == "done"


def test_a_closed_connection_stops_the_job_after_the_grace_period() -> None:
    job = TrainingJob(
        CONFIG,
        SERIES,
        runner=polls_for_a_second,
        is_connected=lambda: False,
        disconnect_grace=0.2,
    ).start()
    assert job.wait(60)
    assert job.state == "stopped"
    assert job.stop_reason == "stopped because its browser tab was closed"


def test_a_brief_network_drop_does_not_stop_the_job() -> None:
    dropped_until = time.monotonic() + 0.2
    job = TrainingJob(
        CONFIG,
        SERIES,
        runner=polls_for_a_second,
        is_connected=lambda: time.monotonic() > dropped_until,
        disconnect_grace=0.6,
    ).start()
    assert job.wait(60)
    assert job.state == "done"


def test_a_failing_run_is_reported_in_a_sentence() -> None:
    def refuses(config, series, progress, should_stop):
        raise NotEnoughDataError("There are 5 prices; a lag of 60 days needs at least 62.")

    job = TrainingJob(CONFIG, SERIES, runner=refuses).start()
    assert job.wait(60)
    assert job.state == "failed"
    assert job.error == "There are 5 prices; a lag of 60 days needs at least 62."


def test_fingerprint_changes_with_the_data() -> None:
    changed = SERIES.copy()
    changed.iloc[-1] += 1
    assert series_fingerprint(SERIES) == series_fingerprint(SERIES.copy())
    assert series_fingerprint(changed) != series_fingerprint(SERIES)


def test_a_group_reports_the_whole_groups_progress_and_time_left() -> None:
    """'Run 2 of 3' with the group's share done and its time left, not one run's."""
    released = [threading.Event() for _ in range(3)]
    reported = [threading.Event() for _ in range(3)]

    def half_done_then_waits(config, series, progress, should_stop):
        progress(SimpleNamespace(fraction=0.5, seconds_left=10.0))
        reported[config.seed].set()
        released[config.seed].wait(30)
        return finished(config, stopped=False)

    configs = [CONFIG.with_changes(seed=seed) for seed in (0, 1, 2)]
    job = TrainingJob(configs, SERIES, runner=half_done_then_waits).start()
    try:
        assert reported[0].wait(30)
        assert job.group_fraction == pytest.approx(0.5 / 3)
        # Before any run has finished, each later run is guessed to last as long as this
        # one: what it has taken so far plus its 10 s left.
        assert job.group_seconds_left >= 10.0 + 2 * 10.0
        released[0].set()
        assert reported[1].wait(30)
        assert job.run_index == 1
        assert job.group_fraction == pytest.approx(1.5 / 3)
        # 10 s left in run 2, and run 3 as long as run 1 took (same settings but the seed).
        [first_run] = next(iter(job.clock.unit_seconds.values()))
        assert job.group_seconds_left == pytest.approx(10.0 + first_run)
    finally:
        for event in released:
            event.set()
    assert job.wait(60) and job.group_fraction == 1.0


def test_only_a_job_queued_behind_another_is_waiting() -> None:
    """The first training of a server is starting up, not waiting for someone else's."""
    gate = threading.Event()

    def held(config, series, progress, should_stop):
        gate.wait(30)
        return finished(config, stopped=False)

    first = TrainingJob(CONFIG, SERIES, runner=held).start()
    second = TrainingJob(CONFIG, SERIES, runner=held).start()
    try:
        assert not first.waiting_for_another
        assert second.waiting_for_another
    finally:
        gate.set()
    assert first.wait(60) and second.wait(60)
    assert not second.waiting_for_another
