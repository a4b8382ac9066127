"""The Compare runs page's address: the runs chosen for the charts (?runs=12-9).

Not a page: pages/sections/compare_runs.py calls these, so a reload or a shared link compares
the same saved runs.
"""

import streamlit as st

LINKED_KEY = "_compare_linked_runs"
"""The run ids the session's first link named (None once read without any)."""


def linked_runs() -> list[int]:
    """The run ids the link named when the session started, read once; [] for none."""
    if LINKED_KEY not in st.session_state:
        text = st.query_params.to_dict().get("runs", "")
        ids = []
        for part in text.split("-"):
            try:
                ids.append(int(part))
            except ValueError:
                continue
        st.session_state[LINKED_KEY] = ids
    return st.session_state[LINKED_KEY]


def default_choice(saved_ids: list[int]) -> tuple[list[int], str]:
    """The runs to chart when none is ticked, and the caption that says which and why.

    The link's runs still saved, else the two newest; a link's run that is gone is named.
    """
    linked = linked_runs()
    kept = [run_id for run_id in linked if run_id in saved_ids]
    gone = [str(run_id) for run_id in linked if run_id not in saved_ids]
    note = ""
    if gone:
        note = (
            f"Run{'s' if len(gone) > 1 else ''} {', '.join(gone)} from this link "
            f"{'are' if len(gone) > 1 else 'is'} not saved any more (deleted?). "
        )
    if kept:
        return (
            kept,
            note + "Showing the runs from the link; tick rows in the table to choose others.",
        )
    return (
        saved_ids[:2],
        note + "Showing the two newest runs; tick rows in the table to choose others.",
    )


def keep_address(chosen_ids: list[int]) -> None:
    """The charted runs, in the address."""
    wanted = {"runs": "-".join(str(run_id) for run_id in chosen_ids)} if chosen_ids else {}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
