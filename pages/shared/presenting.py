"""The sidebar's "Presenting" toggle: larger text and charts for a projector, kept in the link.

Not a page. With ?present=1 in the link the app opens in presenting mode, so a teacher can
bookmark it that way.
"""

from __future__ import annotations

import streamlit as st

PRESENT_PARAMETER = "present"
PRESENT_KEY = "presenting"


def presenting() -> bool:
    """Whether this session presents: the toggle, or ?present=1 in the link on arrival."""
    if PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = st.query_params.get(PRESENT_PARAMETER) == "1"
    return bool(st.session_state[PRESENT_KEY])


def _keep_in_link() -> None:
    if st.session_state[PRESENT_KEY]:
        st.query_params[PRESENT_PARAMETER] = "1"
    else:
        st.query_params.pop(PRESENT_PARAMETER, None)


def presenting_toggle() -> None:
    """The toggle (call inside the sidebar) and, when on, the larger look."""
    on = presenting()
    st.toggle(
        "Presenting",
        key=PRESENT_KEY,
        on_change=_keep_in_link,
        help="Larger text and charts for a projector, and no Advanced settings. "
        "Add ?present=1 to a link to open it this way.",
    )
    if on:
        st.query_params[PRESENT_PARAMETER] = "1"
        # 1.3x larger (at least 1.25 for a projector), spelled out: raw HTML on a page must be
        # a constant string (tests/test_safety.py). Plotly sizes a chart to its column before
        # the zoom, so a narrower block keeps it on screen. The Train page's Advanced expander
        # is found by a widget inside it.
        st.html(
            "<style>"
            '[data-testid="stMainBlockContainer"] { zoom: 1.3; max-width: calc(100% / 1.3); }'
            '[data-testid="stExpander"]:has(.st-key-form_units1) { display: none; }'
            "</style>"
        )
