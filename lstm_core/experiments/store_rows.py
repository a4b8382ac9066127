"""One saved run as a row of the Compare page's table (the store's `table`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def table_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run's row: its settings, its test and validation figures, how it ended."""
    config = json.loads(row["config"])
    metrics = json.loads(row["metrics"])
    # A tuning trial's run has no test metrics (it never predicted the test period):
    # its test columns are NaN, which the Compare page shows as a dash.
    nan = float("nan")
    lstm = metrics.get("lstm") or {"rmse": nan, "mse_scaled": nan}
    baseline = metrics.get("persistence") or {"rmse": nan}
    extras = json.loads(row["extras"]) if row["extras"] else {}
    validation = extras.get("validation") or {}
    test_figures = extras.get("comparison") or {}
    return {
        "id": row["id"],
        "when": row["created_at"],
        "ticker": config["ticker"],
        "lag": config["lag"],
        "batch": config["batch_size"],
        "epochs": config["epochs"],
        "units": "/".join(str(size) for size in config["units"]),
        "learning rate": config["learning_rate"],
        "train share": config["train_fraction"],
        "seed": config["seed"],
        "target": config.get("target", "level"),
        "validation share": config.get("validation_fraction", 0.0),
        "validation ratio": (validation.get("comparison") or {}).get("rmse_ratio", float("nan")),
        "LSTM RMSE ($)": lstm["rmse"],
        "baseline RMSE ($)": baseline["rmse"],
        "LSTM / baseline": lstm["rmse"] / baseline["rmse"],
        "DM p (test)": test_figures.get("dm_pvalue", float("nan")),
        "MSE (standardized)": lstm["mse_scaled"],
        "direction right (%)": lstm.get("direction_accuracy", nan),
        "seconds": row["seconds"],
        "stopped": bool(row["stopped"]),
        "epochs done": row["epochs_completed"],
        "group": row["group_name"] or "",
        "model": config.get("model", "lstm"),
        "inputs": inputs_text(config),
    }


def inputs_text(config: Mapping[str, Any]) -> str:
    """'close', 'close+volume', or 'close+volume (volume shuffled)' for a shuffled control;
    runs saved before inputs existed saw the close alone."""
    text = "+".join(config.get("inputs") or ["close"])
    shuffled = config.get("shuffled") or []
    return text + (f" ({'+'.join(shuffled)} shuffled)" if shuffled else "")
