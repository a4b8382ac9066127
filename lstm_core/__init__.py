"""LSTM Stock Lab's core: data, windows, model, training and evaluation, with no Streamlit.

Importing this package loads neither TensorFlow nor Keras; only `model`, `train` and the
modules that build or run models do, so pages that only draw prices stay fast.
"""
