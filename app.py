"""LSTM Stock Lab: the entry point that defines the pages and the shared sidebar."""

import os

# TensorFlow's C++ start-up chatter means nothing to a person using the app.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st

from pages.shared import sidebar, startup

startup.keep_keras_state()
startup.log_training_events()
st.set_page_config(page_title="LSTM Stock Lab", page_icon=":material/show_chart:", layout="wide")

LESSON_TITLE = "Lesson"
navigation = st.navigation(
    [
        st.Page("pages/lesson.py", title=LESSON_TITLE, icon=":material/school:", default=True),
        st.Page("pages/market.py", title="Market", icon=":material/show_chart:"),
        st.Page("pages/train.py", title="Train & Predict", icon=":material/model_training:"),
        st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
        st.Page("pages/backtest.py", title="Backtest", icon=":material/timeline:"),
        st.Page("pages/tune.py", title="Tune", icon=":material/tune:"),
        st.Page("pages/inside.py", title="Inside the LSTM", icon=":material/biotech:"),
    ]
)
sidebar.sidebar(navigation.title)
navigation.run()
# After the page is drawn, so the first visit never waits for it. Not on the Lesson: it shows
# runs trained in advance and loads TensorFlow only when someone presses "Train it live".
if navigation.title != LESSON_TITLE:
    startup.warm_up_in_background()
