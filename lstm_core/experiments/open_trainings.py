"""Trainings that have not ended, by browser seat: so a page server can tell a person whose
training died with another server that it was interrupted.

Behind nginx (`make room`) each browser carries a seat cookie. When a page server starts a
training for a seat it records it in the shared run store and beats every few seconds from a
thread of its own until the training ends, whatever ends it. If that server is killed, nginx
sends the browser to another server, which finds the record of another server whose beats
have stopped and says that the training was interrupted. Saved runs live in the same store,
so nothing saved is lost with the server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from lstm_core.errors import StoreError
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.store_database import OPEN_TRAININGS

BEAT_SECONDS = 3.0
"""How often a running training's server says it is alive."""

SILENT_SECONDS = 15.0
"""After this long without a beat a training is taken as interrupted: five missed beats."""

THIS_SERVER = f"{socket.gethostname()}:{os.getpid()}"
"""This process, as the records name their server."""


@dataclass(frozen=True)
class OpenTraining:
    """A seat's training that has not ended, as another page session finds it."""

    what: str
    server: str
    started_at: float
    beat_at: float

    def silent_for(self, now: float) -> float:
        """Seconds since its server last said it was alive."""
        return max(0.0, now - self.beat_at)

    def interrupted(self, now: float) -> bool:
        """True when its server has been silent too long to be alive."""
        return self.silent_for(now) > SILENT_SECONDS


def record_start(store: RunStore, seat: str, what: str, server: str = THIS_SERVER) -> None:
    """Note that `seat` started the training `what` on `server` (replacing an older note)."""
    now = time.time()
    with store.begin() as connection:
        connection.execute(delete(OPEN_TRAININGS).where(OPEN_TRAININGS.c.seat == seat))
        connection.execute(
            insert(OPEN_TRAININGS).values(
                seat=seat, what=what, server=server, started_at=now, beat_at=now
            )
        )


def record_beat(store: RunStore, seat: str, server: str = THIS_SERVER) -> None:
    """`server` is still running `seat`'s training."""
    with store.begin() as connection:
        connection.execute(
            update(OPEN_TRAININGS)
            .where(OPEN_TRAININGS.c.seat == seat, OPEN_TRAININGS.c.server == server)
            .values(beat_at=time.time())
        )


def record_end(store: RunStore, seat: str, server: str | None = THIS_SERVER) -> None:
    """`seat`'s training ended (on `server`; any server's note when None)."""
    condition = OPEN_TRAININGS.c.seat == seat
    if server is not None:
        condition = condition & (OPEN_TRAININGS.c.server == server)
    with store.begin() as connection:
        connection.execute(delete(OPEN_TRAININGS).where(condition))


def open_training(store: RunStore, seat: str) -> OpenTraining | None:
    """`seat`'s training that has not ended, if any."""
    with store.begin() as connection:
        row = (
            connection.execute(select(OPEN_TRAININGS).where(OPEN_TRAININGS.c.seat == seat))
            .mappings()
            .first()
        )
    if row is None:
        return None
    return OpenTraining(
        what=row["what"],
        server=row["server"],
        started_at=row["started_at"],
        beat_at=row["beat_at"],
    )


def watch_training(
    store: RunStore,
    seat: str,
    what: str,
    has_ended: Callable[[], bool],
    beat_seconds: float = BEAT_SECONDS,
) -> threading.Thread:
    """Record `seat`'s training and beat from a daemon thread until `has_ended()`; then end it.

    The beats come from this server, not from the page, because a browser slows a background
    tab's timers. A store that cannot be written only loses the note: training goes on.
    """

    def beat_until_ended() -> None:
        try:
            while not has_ended():
                time.sleep(beat_seconds)
                record_beat(store, seat)
            record_end(store, seat)
        except StoreError:
            return

    record_start(store, seat, what)
    thread = threading.Thread(target=beat_until_ended, name=f"beat-{seat[:8]}", daemon=True)
    thread.start()
    return thread
