"""Compare runs: this session's runs side by side."""

import streamlit as st

st.title("Compare runs")
st.write("Train a model on the Train & Predict page; its runs will be compared here.")
