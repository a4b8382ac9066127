"""Load TensorFlow and trace the default preset's model in the background, before anyone trains.

A server's first training used to wait for TensorFlow's import and for tracing its model's
training step, about twice as long as the second. Started once the first page has been
drawn, this does both while the person is still reading, so the first training starts about
as fast as the second. lstm_core.model.training keeps one compiled model per architecture; a short
fit here leaves the default preset's model traced and ready in that cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig

LOGGER = logging.getLogger(__name__)

_THREAD: threading.Thread | None = None
_THREAD_LOCK = threading.Lock()


def warm_up(config: TrainConfig, series: pd.Series) -> None:
    """Import TensorFlow and train `config`'s architecture for one epoch; keep nothing else.

    The result is thrown away: a later run of that architecture reuses the traced model with
    fresh seeded weights, so its numbers are the same as without this warm-up.
    """
    from lstm_core.model.network import model_to_bytes
    from lstm_core.model.pipeline import run_training

    result = run_training(config.with_changes(epochs=1), series)
    # Saving a run serializes its model; the first call pays for imports, so pay it here.
    model_to_bytes(result.model)


WarmUp = Callable[[TrainConfig, pd.Series], Any]
"""What a warm-up runs: `warm_up` here, or a server with a cluster's warming of its workers."""


def _warm_up_logged(config: TrainConfig, series: pd.Series, warm: WarmUp | None) -> None:
    try:
        (warm or warm_up)(config, series)
    except Exception:
        # A failed warm-up only means the first training is slower; it must not kill a server.
        LOGGER.exception("warming up %s failed", config.label())
    else:
        LOGGER.info("warmed up %s", config.label())


def start_warm_up(
    config: TrainConfig, series: pd.Series, warm: WarmUp | None = None
) -> threading.Thread | None:
    """Start the warm-up in a daemon thread, once per process; None when it already started.

    `warm` replaces `warm_up` (a server with a cluster warms its workers instead of itself).
    """
    global _THREAD
    with _THREAD_LOCK:
        if _THREAD is not None:
            return None
        _THREAD = threading.Thread(
            target=_warm_up_logged, args=(config, series, warm), name="warm-up", daemon=True
        )
        _THREAD.start()
        return _THREAD


def warming_up() -> bool:
    """True while the warm-up thread runs (a training then waits for it, not for a person)."""
    thread = _THREAD
    return thread is not None and thread.is_alive()
