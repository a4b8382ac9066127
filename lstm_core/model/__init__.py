"""The model and its training: the Keras network, training, one run's pipeline and result.

Also the warm-up and the internals (gates, saliency). Importing this package alone loads no
TensorFlow; network, training, warmup, internals and pipeline do.
"""
