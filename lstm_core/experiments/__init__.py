"""Experiments: seed repeats and grid sweeps, Optuna tuning studies, the run store of results."""
