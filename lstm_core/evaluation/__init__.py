"""Evaluation: error metrics, significance tests and the persistence baseline (no TensorFlow)."""
