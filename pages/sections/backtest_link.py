"""The Backtest page's saved backtests and address: reopen any saved backtest at once.

Not a page: pages/backtest.py calls these. The address holds the form's settings (ticker,
settings name, folds, days ahead) and the saved backtest shown (?backtest=N), so a reload or a
shared link brings both back.
"""

from typing import Any

import streamlit as st

from lstm_core.errors import LabError
from lstm_core.forecasting.folds import MAX_FOLDS, MIN_FOLDS
from lstm_core.forecasting.forecast import MAX_HORIZON, MIN_HORIZON
from pages.shared import saving, session

SHOWN_ID_KEY = "backtest_shown_id"
"""The stored id of the backtest the page shows, or None for one not saved."""
LINK_READ_KEY = "_backtest_link_read"
PICKER_KEY = "saved_backtest_picker"
MEMORY_KEY = "_backtest_form_memory"
PICKED_KEY = "_backtest_picked"
FORM_KEYS = {
    "settings": "backtest_settings",
    "folds": "backtest_folds",
    "horizon": "backtest_horizon",
}


def restore_form(setting_names: list[str]) -> None:
    """Give the form back the values it had when the person left the page (Streamlit forgets
    a page's widget values when another page is shown)."""
    for key, value in (st.session_state.get(MEMORY_KEY) or {}).items():
        if key == FORM_KEYS["settings"] and value not in setting_names:
            continue
        if key not in st.session_state:
            st.session_state[key] = value


def saved_backtests() -> dict[int, str]:
    """Saved backtests, newest first, by id: '#3 MSFT, 2026-01-01 10:00:00 UTC'."""
    try:
        rows = saving.run_store().backtests(owner=saving.owner())
    except (LabError, OSError) as error:
        st.session_state[session.STORE_MESSAGE_KEY] = f"Saved backtests could not be read: {error}"
        return {}
    return {int(row["id"]): f"#{row['id']} {row['ticker']}, {row['created_at']}" for row in rows}


def open_backtest(backtest_id: int) -> Any:
    """A saved backtest, or None with the reason said on the page."""
    try:
        result = saving.run_store().load_backtest(backtest_id, owner=saving.owner())
    except (LabError, OSError) as error:
        st.warning(str(error))
        return None
    st.session_state[SHOWN_ID_KEY] = backtest_id
    return result


def whole_number_in(text: str, low: int, high: int) -> int | None:
    """A link's whole number within the form's range, else None."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def read_link(setting_names: list[str]) -> int | None:
    """Once per session: put the link's settings in the form; return its backtest id, if any.

    A value the form cannot show is left at its default, and one sentence says so.
    """
    if st.session_state.get(LINK_READ_KEY):
        return None
    st.session_state[LINK_READ_KEY] = True
    params = st.query_params.to_dict()
    unusable = []
    if "settings" in params:
        if params["settings"] in setting_names:
            st.session_state[FORM_KEYS["settings"]] = params["settings"]
        else:
            unusable.append("settings")
    for name, low, high in (("folds", MIN_FOLDS, MAX_FOLDS), ("horizon", MIN_HORIZON, MAX_HORIZON)):
        if name in params:
            value = whole_number_in(params[name], low, high)
            if value is None:
                unusable.append(name)
            else:
                st.session_state[FORM_KEYS[name]] = value
    if "ticker" in params:
        if params["ticker"] in session.price_data().tickers():
            st.session_state[session.TICKER_KEY] = params["ticker"]
        else:
            unusable.append("ticker")
    if unusable:
        st.warning(
            f"This link's {', '.join(unusable)} could not be used here, so the form keeps its "
            "own value for them."
        )
    if "backtest" not in params:
        return None
    backtest_id = whole_number_in(params["backtest"], 1, 2**62)
    if backtest_id is None:
        st.warning("This link's backtest is not a backtest number; showing the newest instead.")
    return backtest_id


def just_picked() -> int | None:
    """The saved backtest picked in the list since the last run, else None."""
    return st.session_state.pop(PICKED_KEY, None)


def saved_picker(choices: dict[int, str]) -> None:
    """The list of saved backtests, newest first, naming the one shown (if saved)."""
    if not choices:
        return
    shown = st.session_state.get(SHOWN_ID_KEY)
    st.session_state[PICKER_KEY] = shown if shown in choices else None

    def remember() -> None:
        st.session_state[PICKED_KEY] = st.session_state[PICKER_KEY]

    st.selectbox(
        f"Saved backtests ({len(choices)}, newest first)",
        list(choices),
        index=None,
        key=PICKER_KEY,
        format_func=choices.get,
        on_change=remember,
        placeholder="Pick a saved backtest to reopen it",
        help="Every finished backtest is saved; picking one shows it at once, nothing retrains.",
    )


def keep_address() -> None:
    """The form's settings and the saved backtest shown, in the address."""
    wanted = {
        "ticker": session.current_ticker(),
        **{
            name: str(st.session_state[key])
            for name, key in FORM_KEYS.items()
            if st.session_state.get(key) is not None
        },
    }
    st.session_state[MEMORY_KEY] = {
        key: st.session_state[key] for key in FORM_KEYS.values() if key in st.session_state
    }
    shown = st.session_state.get(SHOWN_ID_KEY)
    if shown is not None:
        wanted["backtest"] = str(shown)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
