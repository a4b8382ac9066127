"""Inside the LSTM: its gates on a real window."""

import streamlit as st

st.title("Inside the LSTM")
st.write("Train a model on the Train & Predict page to look inside it here.")
