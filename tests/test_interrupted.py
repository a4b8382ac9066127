"""A training that died with its page server (behind nginx) is said as interrupted elsewhere."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from lstm_core.experiments import open_trainings
from lstm_core.experiments.open_trainings import (
    SILENT_SECONDS,
    THIS_SERVER,
    open_training,
    record_start,
    watch_training,
)
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.store_database import OPEN_TRAININGS

ROOT = Path(__file__).resolve().parent.parent
SEAT = "0123456789abcdef0123456789abcdef"
OTHER_SERVER = "another-machine:4242"
WHAT = "MSFT lag 60, batch 200, 10 epochs, units 128/64, seed 42"


def wait_until(condition, seconds: float = 20.0) -> bool:
    """A safety bound so a broken beat cannot hang the suite; no speed is asserted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def set_last_beat(store: RunStore, seconds_ago: float) -> None:
    with store.begin() as connection:
        connection.execute(
            update(OPEN_TRAININGS)
            .where(OPEN_TRAININGS.c.seat == SEAT)
            .values(beat_at=time.time() - seconds_ago)
        )


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite")


def test_a_watched_training_beats_until_it_ends_and_then_leaves_no_note(store) -> None:
    ended = threading.Event()
    thread = watch_training(store, SEAT, WHAT, ended.is_set, beat_seconds=0.05)
    first = open_training(store, SEAT)
    assert first is not None and (first.what, first.server) == (WHAT, THIS_SERVER)
    assert wait_until(lambda: open_training(store, SEAT).beat_at > first.beat_at)
    ended.set()
    thread.join(timeout=20)
    assert open_training(store, SEAT) is None


def test_a_server_silent_longer_than_the_limit_counts_as_interrupted(store) -> None:
    record_start(store, SEAT, WHAT, server=OTHER_SERVER)
    found = open_training(store, SEAT)
    assert not found.interrupted(found.beat_at + SILENT_SECONDS - 1)
    assert found.interrupted(found.beat_at + SILENT_SECONDS + 1)
    record_start(store, SEAT, "a newer training", server=THIS_SERVER)
    assert open_training(store, SEAT).what == "a newer training"


def app_with_seat(monkeypatch, seat: str | None) -> AppTest:
    monkeypatch.setattr("pages.shared.interrupted.browser_seat", lambda: seat)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def sidebar_texts(at: AppTest) -> str:
    return "\n".join(
        str(element.value) for kind in ("warning", "caption") for element in at.sidebar.get(kind)
    )


def test_a_training_whose_server_still_beats_is_checked_on_not_called_interrupted(
    monkeypatch,
) -> None:
    store = RunStore()
    record_start(store, SEAT, WHAT, server=OTHER_SERVER)
    at = app_with_seat(monkeypatch, SEAT).run()
    assert "Checking on the training you started on another page server" in sidebar_texts(at)
    assert "interrupted:" not in sidebar_texts(at)
    assert open_training(store, SEAT) is not None


def test_coming_back_after_the_server_died_says_the_training_was_interrupted(
    monkeypatch,
) -> None:
    store = RunStore()
    record_start(store, SEAT, WHAT, server=OTHER_SERVER)
    set_last_beat(store, SILENT_SECONDS + 5)
    at = app_with_seat(monkeypatch, SEAT).run()
    said = sidebar_texts(at)
    assert f"Your training ({WHAT}), started at" in said.replace("\\", "")
    assert "was interrupted" in said and "Every run saved before is still in the store" in said
    assert "Checking on" not in said
    assert open_training(store, SEAT) is None, "the note is said once, then cleared"
    assert "was interrupted" in at.session_state["interrupted_training"]


def test_a_training_this_server_still_runs_or_one_that_ended_says_nothing(monkeypatch) -> None:
    store = RunStore()
    record_start(store, SEAT, WHAT, server=THIS_SERVER)
    set_last_beat(store, SILENT_SECONDS + 5)
    at = app_with_seat(monkeypatch, SEAT).run()
    assert "interrupted" not in sidebar_texts(at)
    assert "Checking on" not in sidebar_texts(at)
    open_trainings.record_end(store, SEAT, server=None)


def test_without_a_seat_the_store_is_not_even_opened(monkeypatch) -> None:
    at = app_with_seat(monkeypatch, None).run()
    assert "run_store" not in at.session_state
    assert "interrupted" not in sidebar_texts(at)
