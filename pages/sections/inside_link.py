"""Inside the LSTM's choice of run: any saved run with a model file, kept in the address.

Not a page: pages/inside.py calls these. The address holds ?run=N&day=YYYY-MM-DD, so a reload
or a shared link opens the same run on the same day.
"""

from typing import Any

import streamlit as st

from lstm_core.errors import LabError
from pages.shared import saving, session

PICKER_KEY = "inside_run_id"
LOADED_KEY = "inside_loaded_run"
"""The saved run opened here (with its model), so moving the day slider does not reload it."""
LINK_READ_KEY = "_inside_link_read"
LINKED_DAY_KEY = "_inside_linked_day"
"""The link's day, until the page has checked that the run has it."""
SEEN_CURRENT_KEY = "_inside_seen_current"
"""This session's newest run when the picker last followed it."""


def saved_choices() -> dict[int, str]:
    """Saved runs that kept their model, newest first, by id: '#12 MSFT lag 60, ... seed 42'.

    Runs whose stored settings no longer validate (older versions) are left out, and a caption
    says how many.
    """
    from lstm_core.experiments.reuse import stored_config

    try:
        rows = saving.run_store().runs_with_model(owner=saving.owner())
    except (LabError, OSError) as error:
        st.warning(f"Saved runs could not be read: {error}")
        return {}
    choices, skipped = {}, 0
    for row in rows:
        try:
            config = stored_config(row["config"])
        except ValueError:
            skipped += 1
            continue
        stopped = " (stopped early)" if row["stopped"] else ""
        choices[int(row["id"])] = f"#{row['id']} {config.label()}{stopped}, {row['created_at']}"
    if skipped:
        st.caption(
            f"{skipped} saved run(s) from an older version whose settings no longer validate "
            "are not offered here."
        )
    return choices


def read_link(choices: dict[int, str]) -> None:
    """Once per session: the link's run (and day) become the picker's choice."""
    if st.session_state.get(LINK_READ_KEY):
        return
    st.session_state[LINK_READ_KEY] = True
    params = st.query_params.to_dict()
    if "run" not in params:
        return
    try:
        run_id = int(params["run"])
    except ValueError:
        st.warning("This link's run is not a run number; pick a saved run below.")
        return
    if run_id not in choices:
        st.warning(
            f"Run {run_id} from this link is not among the saved runs with a model (it may have "
            "been deleted); pick a saved run below."
        )
        return
    st.session_state[PICKER_KEY] = run_id
    if "day" in params:
        st.session_state["inside_day"] = params["day"]
        st.session_state[LINKED_DAY_KEY] = params["day"]


def follow_new_training(choices: dict[int, str]) -> None:
    """A run trained since the picker last looked (the quick demo, say) becomes the choice."""
    current = session.current_result()
    run_id = getattr(current, "run_id", None)
    if run_id is not None and st.session_state.get(SEEN_CURRENT_KEY) != run_id:
        st.session_state[SEEN_CURRENT_KEY] = run_id
        if run_id in choices:
            st.session_state[PICKER_KEY] = run_id


def chosen_run() -> Any:
    """The run to look inside: the picked saved run (loaded with its model), else this
    session's own run, else None."""
    choices = saved_choices()
    read_link(choices)
    follow_new_training(choices)
    if not choices:
        return session.current_result()
    if st.session_state.get(PICKER_KEY) not in choices:
        st.session_state.pop(PICKER_KEY, None)
    picked = st.selectbox(
        "Saved run to look inside",
        list(choices),
        index=None,
        key=PICKER_KEY,
        format_func=choices.get,
        placeholder="Pick a saved run",
        help="Any saved run that kept its trained model.",
    )
    if picked is None:
        return session.current_result()
    current = session.current_result()
    if current is not None and getattr(current, "run_id", None) == picked and current.model:
        return current
    loaded = st.session_state.get(LOADED_KEY)
    if loaded is None or loaded.run_id != picked:
        try:
            with st.spinner(f"Opening saved run #{picked}…"):
                loaded = saving.reopen(picked, with_model=True)
        except (LabError, ValueError, OSError) as error:
            st.warning(str(error))
            return None
        st.session_state[LOADED_KEY] = loaded
    return loaded


def keep_address(result: Any, day: str) -> None:
    """The run and day shown, in the address (a run never saved has no number to link to)."""
    run_id = getattr(result, "run_id", None)
    wanted = {} if run_id is None else {"run": str(run_id), "day": day}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
