"""The Compare page's lineup: the chosen ticker and settings trained as each model kind.

Not a page: pages/compare.py calls `lineup_section`.
"""

import math

import streamlit as st

from lstm_core.charts.lineup import lineup_chart
from lstm_core.config import INPUTS, MODEL_NAMES, MODELS, QUICK_DEMO, TrainConfig
from lstm_core.experiments import controls, lineup
from pages.sections.compare_groups import SEED_CHOICES, group_progress, start_group
from pages.shared import session

LINEUP_KIND = "lineup"
TABLE_FORMATS = {
    "validation ratio": "%.3f",
    "validation DM p": "%.3f",
    "test ratio": "%.3f",
    "test DM p": "%.3f",
    "seconds": "%.2f",
    "parameters": "%d",
}


def lineup_base() -> TrainConfig:
    """The Train page's last settings for the chosen ticker, else the quick demo's layers
    learning daily changes with a validation period to rank on."""
    settings = st.session_state.get("train_settings")
    if settings is None:
        settings = QUICK_DEMO.with_changes(target="change", validation_fraction=0.1)
    return settings.with_changes(ticker=session.current_ticker(), model="lstm")


def input_set_choices(base: TrainConfig) -> dict[str, tuple[str, ...]]:
    """The input sets the form offers: the close alone, every input, and the Train page's."""
    choices = {"The close alone": ("close",), "Close, volume, range and market": INPUTS}
    if base.inputs not in choices.values():
        choices[f"Your Train settings' ({', '.join(base.inputs)})"] = base.inputs
    return choices


def show_lineup() -> None:
    """Chart, table and sentence of the last lineup this session trained (complete runs only)."""
    group = st.session_state.get("last_group")
    if not group or group["kind"] != LINEUP_KIND:
        return
    runs = [session.results()[key] for key in group["keys"] if key in session.results()]
    complete = [run for run in runs if not run.stopped]
    if not complete:
        st.info("The lineup was stopped before any run finished: there is nothing to compare.")
        return
    if len(complete) < len(runs):
        st.caption(f"{len(runs) - len(complete)} stopped runs are left out of these figures.")
    table = lineup.lineup_table(complete)
    st.plotly_chart(lineup_chart(table), key="lineup_chart")
    shown = table.drop(columns=["model"]).rename(columns={"name": "model"})
    for column in ("validation spread", "test spread"):
        if column in shown.columns:
            # One seed has no spread: said in words, not shown as an empty "None".
            shown[column] = [
                f"{value:.3f}" if math.isfinite(value) else "- (one seed)"
                for value in shown[column]
            ]
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format=fmt)
            for name, fmt in TABLE_FORMATS.items()
            if name in shown.columns
        },
    )
    st.caption(
        "ratio: the model's RMSE divided by that of 'tomorrow = today' (below 1 is better), "
        "mean over seeds; spread: standard deviation over seeds; DM p: median Diebold-Mariano "
        "p-value against 'tomorrow = today'; seconds: mean training time."
    )
    st.info(lineup.simplest_within_luck(table))
    for sentence in controls.lineup_control_sentences(table):
        st.info(sentence)


def lineup_section() -> None:
    """Pick model kinds and seeds, train the lineup in the background, show its summary."""
    st.subheader("Is the LSTM worth it? A lineup")
    base = lineup_base()
    st.write(
        "The same windows, split and target, trained as each kind of model, each judged "
        "against 'tomorrow = today'. A simpler model that does as well is the better choice."
    )
    st.caption(f"Settings: {base.label()}")
    with st.form("lineup_form"):
        models = st.multiselect(
            "Models",
            list(MODELS),
            default=list(MODELS),
            format_func=MODEL_NAMES.get,
            key="lineup_models",
        )
        seed_count = st.slider("Seeds per model", 1, 5, 3, key="lineup_seeds")
        choices = input_set_choices(base)
        chosen_sets = st.multiselect(
            "What the networks see",
            list(choices),
            default=[next(name for name, inputs in choices.items() if inputs == base.inputs)],
            key="lineup_inputs",
            help="Each input set is trained as every model kind. Volume: shares traded, "
            "relative to the window's mean. Range: (high - low) / close of each day. Market: "
            "the other companies' mean daily change.",
        )
        with_controls = st.checkbox(
            "Shuffled control for each extra input",
            key="lineup_controls",
            help="Also trains each run with extra inputs once more per extra input, with that "
            "input's training days shuffled (same seed). If the real input does no better on "
            "the validation period than its shuffled copy, it did not help.",
        )
        submitted = st.form_submit_button("Train the lineup")
    if submitted:
        if not models or not chosen_sets:
            st.error("Pick at least one model and one input set.")
        else:
            seeds = SEED_CHOICES[:seed_count]
            sets = [choices[name] for name in chosen_sets]
            try:
                configs = lineup.lineup_configs(base, models, seeds, sets, with_controls)
            except ValueError as error:
                st.error(f"This lineup cannot be trained: {error}.")
            else:
                start_group(configs, LINEUP_KIND)
    group_progress(LINEUP_KIND)
    show_lineup()
