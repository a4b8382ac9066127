"""The Tune page's form: the settings to search and their ranges, trials, time; studies' storage.

Not a page: pages/tune.py calls `study_form`.
"""

from typing import Any

import optuna
import streamlit as st

from lstm_core.config import BATCH_SIZE_CHOICES, LEARNING_RATE_CHOICES, MODEL_NAMES, MODELS
from lstm_core.errors import LabError
from lstm_core.execution.study_job import StudyJob
from lstm_core.experiments import tuning
from lstm_core.preprocessing import check_config_fits, check_prices_vary
from pages.shared import jobs, saving, session
from pages.shared.formatting import plain
from pages.shared.interrupted import watch_this_training

STUDY_KEY = "tune_study"  # the study this session shows: (storage URL, study name)
NEW_STUDY = "(a new study)"

# The Train page form's limits, so that "Train this" can show any trial's settings.
RANGE_WIDGETS: dict[str, dict[str, Any]] = {
    "model": {"widget": "kinds", "options": MODELS, "searched": False},
    "lag": {"widget": "slider", "limits": (2, 250), "searched": True},
    "batch_size": {"widget": "ladder", "options": BATCH_SIZE_CHOICES, "searched": True},
    "epochs": {"widget": "slider", "limits": (1, 100), "searched": False},
    "units_1": {"widget": "slider", "limits": (1, 512), "searched": False},
    "units_2": {"widget": "slider", "limits": (1, 512), "searched": False},
    "learning_rate": {"widget": "ladder", "options": LEARNING_RATE_CHOICES, "searched": True},
    "target": {"widget": None, "searched": False},
}
HELP = {
    "model": "Try several kinds of model on the same windows: the LSTM, a GRU, a simple RNN "
    "and a linear ridge regression (no epochs, trained in one step). Remove the kinds to leave "
    "out.",
    "lag": "How many past days the model sees.",
    "batch_size": "How many windows it looks at before each correction.",
    "epochs": "How many passes over the training data.",
    "units_1": "The size of the first LSTM layer's memory.",
    "units_2": "The size of the second LSTM layer's memory.",
    "learning_rate": "How big each correction is.",
    "target": "Try both the price itself and the next day's change.",
}


@st.cache_resource(show_spinner=False)
def storage(url: str) -> optuna.storages.BaseStorage:
    """One storage connection per URL for the whole server."""
    return tuning.open_storage(url)


def storage_url() -> str:
    """Studies live next to the run store."""
    return tuning.study_storage_url(saving.run_store())


def study_form(earlier: list[str]) -> None:
    """Choose the ticker, the settings to search and their ranges, trials and time; start."""
    prices = session.price_data()
    tickers = prices.tickers()
    with st.form("tune_form"):
        chosen = st.selectbox(
            "Study",
            [NEW_STUDY, *earlier],
            help="Continue an earlier study: its trials so far stay, and new ones add to them "
            "(with its own ticker and settings).",
        )
        ticker = st.selectbox(
            "Ticker",
            tickers,
            index=tickers.index(session.current_ticker()),
            help="The company whose prices every trial learns from.",
        )
        st.markdown("**Settings to search** (the others stay as in the Recommended preset)")
        ranges: dict[str, Any] = {}
        for name, widget in RANGE_WIDGETS.items():
            setting = tuning.SETTINGS[name]
            left, right = st.columns([1, 2])
            searched = left.checkbox(
                setting.label[0].upper() + setting.label[1:],
                value=widget["searched"],
                key=f"tune_search_{name}",
                help=HELP[name],
            )
            bounds = None
            if widget["widget"] == "slider":
                low, high = widget["limits"]
                bounds = right.slider(
                    f"{setting.label} from / to",
                    low,
                    high,
                    value=(max(low, setting.default[0]), min(high, setting.default[1])),
                    key=f"tune_range_{name}",
                    label_visibility="collapsed",
                )
            elif widget["widget"] == "kinds":
                bounds = right.multiselect(
                    f"{setting.label} to try",
                    widget["options"],
                    default=list(widget["options"]),
                    format_func=MODEL_NAMES.get,
                    key=f"tune_range_{name}",
                    label_visibility="collapsed",
                )
            elif widget["widget"] == "ladder":
                bounds = right.select_slider(
                    f"{setting.label} from / to",
                    widget["options"],
                    value=setting.default,
                    key=f"tune_range_{name}",
                    label_visibility="collapsed",
                )
            if searched:
                ranges[name] = None if bounds is None else tuple(bounds)
        columns = st.columns(4)
        trials = columns[0].number_input(
            "Trials", 1, 200, value=20, key="tune_trials", help="How many settings to try."
        )
        minutes = columns[1].number_input(
            "Time budget (minutes, 0 = none)",
            0.0,
            600.0,
            value=0.0,
            step=1.0,
            key="tune_minutes",
            help="No new trial starts after this time; the running one finishes.",
        )
        epochs = columns[2].number_input(
            "Epochs per trial (when not searched)",
            1,
            100,
            value=tuning.DEFAULT_BASE.epochs,
            key="tune_epochs",
        )
        seed = columns[3].number_input(
            "Seed",
            0,
            2**31 - 1,
            value=tuning.DEFAULT_BASE.seed,
            key="tune_seed",
            help="The same seed and settings give the same trials.",
        )
        submitted = st.form_submit_button("Start the study", type="primary")
    if not submitted:
        return
    active = session.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    try:
        plan = None
        name = chosen
        if chosen == NEW_STUDY:
            base = tuning.DEFAULT_BASE.with_changes(
                ticker=ticker, epochs=int(epochs), seed=int(seed)
            )
            plan = tuning.StudyPlan(base=base, space=tuning.SearchSpace.of(ranges), seed=int(seed))
            name = tuning.new_study_name(ticker, earlier)
            check_config_fits(len(prices.series(ticker)), base)
            check_prices_vary(prices.series(ticker))
        else:
            stored = tuning.stored_study(name, storage(storage_url()))
            ticker = tuning.StudyPlan.from_attrs(stored.user_attrs, name).base.ticker
        job = StudyJob(
            name,
            plan,
            prices.series(ticker),
            trials=int(trials),
            timeout=float(minutes) * 60 if minutes else None,
            storage_url=storage_url(),
            store=saving.run_store(),
            owner=saving.owner(),
            is_connected=jobs.session_connection(),
            runner=jobs.training_runner(),
        )
    except (ValueError, LabError) as error:
        st.error(f"This study cannot start: {plain(error)}")
        return
    st.session_state[session.JOB_KEY] = job.start()
    watch_this_training(job, what=f"the study {name}")
    st.session_state[session.JOB_PAGE_KEY] = st.session_state.get(session.PAGE_KEY)
    st.session_state[STUDY_KEY] = (job.storage_url, name)
    st.rerun()
