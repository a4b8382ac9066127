"""Saving runs: the run store, opened once per session, and whose runs this session sees.

Not a page.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import streamlit as st

from lstm_core.errors import StoreError
from pages.shared.session import STORE_MESSAGE_KEY

if TYPE_CHECKING:
    from lstm_core.experiments.reuse import StoredMatches
    from lstm_core.experiments.store import RunStore


def owner() -> str:
    """Whose runs this session sees in the store: everyone's locally, or its own when private.

    Set LSTM_LAB_PRIVATE_RUNS=1 when serving a class, so no one sees another's saved runs.
    """
    if os.environ.get("LSTM_LAB_PRIVATE_RUNS") == "1":
        return st.session_state.setdefault("owner", uuid.uuid4().hex)
    return "local"


def run_store() -> RunStore:
    """The run store, opened once per session; its `notice` says what went wrong on opening.

    A damaged SQLite file is set aside; a configured database that cannot be opened (down,
    wrong URL) is replaced by the embedded default for this session. Raises StoreError when
    no store can be opened.
    """
    if "run_store" not in st.session_state:
        # Imported here: SQLAlchemy's import costs the Market page ~0.3 s it does not need.
        from lstm_core.experiments.store import open_run_store

        st.session_state["run_store"] = open_run_store()
    return st.session_state["run_store"]


def save_run(result: Any, group: str | None = None) -> None:
    """Keep a finished run in the store; a failure to save is said in the sidebar, not raised."""
    try:
        result.run_id = run_store().save(result, owner=owner(), group=group)
    except (StoreError, OSError) as error:
        st.session_state[STORE_MESSAGE_KEY] = f"This run could not be saved: {error}"
    else:
        st.session_state.pop(STORE_MESSAGE_KEY, None)


def stored_runs(configs: list[Any], fingerprint: str) -> StoredMatches | None:
    """The store's complete runs of these configs on data with `fingerprint`; None (said in the
    sidebar) when the store cannot be read, so the caller trains as if nothing were saved."""
    from lstm_core.experiments.reuse import find_stored_runs

    try:
        return find_stored_runs(run_store(), configs, fingerprint, owner=owner())
    except (StoreError, OSError) as error:
        st.session_state[STORE_MESSAGE_KEY] = f"Saved runs could not be read: {error}"
        return None


def reopen(run_id: int, with_model: bool = False) -> Any:
    """A stored run ready for the result pages (see lstm_core.experiments.reuse.reopen_run),
    on this session's prices.

    Raises StoreError with a sentence when it is gone, from an older version or trained on
    other prices; DataError when this session's data lacks its ticker.
    """
    from lstm_core.experiments.reuse import reopen_run
    from pages.shared.session import price_data

    return reopen_run(run_store(), run_id, price_data().series, with_model=with_model)


def still_saved(runs: list[Any]) -> tuple[list[Any], int]:
    """The runs still in the store (or never saved), and how many were deleted since.

    Summaries use this, so a run deleted in any tab leaves every summary at once.
    """
    ids = [run.run_id for run in runs if getattr(run, "run_id", None) is not None]
    try:
        existing = run_store().existing_ids(ids, owner=owner())
    except (StoreError, OSError):
        return runs, 0
    kept = [run for run in runs if getattr(run, "run_id", None) in existing | {None}]
    return kept, len(runs) - len(kept)


def measured_help(config: Any) -> str:
    """How long runs like `config` took on this server, from the saved runs; '' when none did.

    Never a guess from another machine: a person sees only what was measured here.
    """
    from lstm_core.execution.estimates import measured_run_seconds, measured_text

    try:
        table = run_store().table(owner=owner())
    except (StoreError, OSError):
        return ""
    return measured_text(measured_run_seconds(table, config))
