"""The Tune page's address: the study shown (?study=NAME), so a reload or link shows it again.

Not a page: pages/tune.py calls these.
"""

import streamlit as st

from pages.sections.tune_form import STUDY_KEY

LINK_READ_KEY = "_tune_link_read"


def open_linked_study(url: str, earlier: list[str]) -> None:
    """Once per session: show the study the link names, when the study file has it."""
    if st.session_state.get(LINK_READ_KEY):
        return
    st.session_state[LINK_READ_KEY] = True
    name = st.query_params.to_dict().get("study")
    if name is None or STUDY_KEY in st.session_state:
        return
    if name in earlier:
        st.session_state[STUDY_KEY] = (url, name)
    else:
        st.warning(
            "The study this link names is not in the study file (it may have been made on "
            "another server); start a study below."
        )


def keep_address() -> None:
    """The study shown, in the address."""
    shown = st.session_state.get(STUDY_KEY)
    wanted = {"study": shown[1]} if shown is not None else {}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
