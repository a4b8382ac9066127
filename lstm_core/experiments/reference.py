"""Reference runs: trainings made in advance on the bundled snapshot, shipped as small files.

The Lesson page and the Train page's presets show these at once instead of making a room wait.
`bench/make_reference_runs.py` makes them with `make_record`, which trains through the same
`run_training` the Train page uses, with each config's fixed seed. Reading them needs neither
TensorFlow nor Streamlit: `load_reference` returns the figures, the test predictions, the
look-ahead with its bands and, for the tutorial's first model, the gates on one window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import (
    QUICK_DEMO,
    RECOMMENDED,
    TUTORIAL_MODEL_1,
    TUTORIAL_MODEL_2,
    TrainConfig,
)
from lstm_core.data.prices import PROJECT_ROOT, series_fingerprint
from lstm_core.errors import LabError
from lstm_core.forecasting.forecast import LEVELS, LookAhead

REFERENCE_DIR: Path = PROJECT_ROOT / "data" / "reference"
FORMAT_VERSION = 1
SEEDS = (42, 7, 2024)
"""The seeds of the Recommended preset's seed comparison (the first is the preset's own)."""

REFERENCE_CONFIGS: dict[str, TrainConfig] = {
    "tutorial_model_1": TUTORIAL_MODEL_1,
    "tutorial_model_2": TUTORIAL_MODEL_2,
    **{
        ("recommended" if seed == RECOMMENDED.seed else f"recommended_seed_{seed}"): (
            RECOMMENDED.with_changes(seed=seed)
        )
        for seed in SEEDS
    },
    "quick_demo": QUICK_DEMO,
}
"""Every run the lesson shows, by file name; all train on the snapshot's MSFT prices."""

SEED_RUNS = tuple(name for name in REFERENCE_CONFIGS if name.startswith("recommended"))
GATES_RUN = "tutorial_model_1"
"""The run whose gates on one test window the lesson draws."""
GATE_NAMES = ("forget", "input_gate", "candidate", "output_gate", "cell", "hidden")


class ReferenceRunError(LabError):
    """A reference file is missing, damaged, or made with settings other than its name says."""


def reference_name(config: TrainConfig) -> str | None:
    """The reference run made with exactly `config`, or None."""
    for name, reference in REFERENCE_CONFIGS.items():
        if reference == config:
            return name
    return None


@dataclass(frozen=True)
class GateTrace:
    """One LSTM layer's gates and states over the window: arrays of (days, units)."""

    name: str
    forget: np.ndarray
    input_gate: np.ndarray
    candidate: np.ndarray
    output_gate: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray


@dataclass(frozen=True)
class ReferenceRun:
    """A reference run as shipped: its config, figures, predictions and look-ahead."""

    name: str
    config: TrainConfig
    fingerprint: str
    record: dict[str, Any]
    gates: tuple[GateTrace, ...] = ()

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Test-period metrics of the LSTM and of persistence."""
        return self.record["metrics"]

    @property
    def comparison(self) -> dict[str, float | None]:
        """Test-period RMSE ratio to persistence and the tests' p-values."""
        return self.record["comparison"]

    @property
    def seconds(self) -> float:
        """How long its training took when it was made."""
        return float(self.record["seconds"])

    @property
    def test_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.record["test"]["dates"])

    def test_series(self, key: str) -> np.ndarray:
        """'actual', 'predicted' or 'persistence' on the test days, in dollars."""
        return np.asarray(self.record["test"][key], dtype=np.float64)

    @property
    def loss_history(self) -> list[float]:
        return list(self.record["history"]["loss"])

    @property
    def training(self) -> dict[str, Any]:
        """The training part's first and last date and lowest and highest price."""
        return self.record["training"]

    def look_ahead(self) -> LookAhead:
        """The forecast past the last price, its bands and their measured coverage."""
        return look_ahead_from_json(self.record["look_ahead"])

    def applies_to(self, series: pd.Series) -> bool:
        """Whether `series` is the very price series this run was trained on."""
        return series_fingerprint(series) == self.fingerprint


def _floats(values: Any) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float64)


def look_ahead_from_json(data: dict[str, Any]) -> LookAhead:
    """The inverse of `LookAhead.to_json` for what the fan chart and coverage sentences use."""

    def bands_of(lines: dict[str, Any]) -> dict[float, tuple[np.ndarray, np.ndarray]] | None:
        bands = {}
        for level in LEVELS:
            name = f"{level * 100:.0f}"
            lower, upper = _floats(lines[f"lower{name}"]), _floats(lines[f"upper{name}"])
            if lower is None or upper is None:
                return None
            bands[level] = (lower, upper)
        return bands

    def shares(coverage: dict[str, Any] | None, horizon: int) -> dict | None:
        if coverage is None:
            return None
        return {
            level: {
                (horizon if step == "H" else int(step)): share
                for step, share in coverage[f"{level * 100:.0f}"].items()
            }
            for level in LEVELS
        }

    horizon = int(data["horizon"])
    forecast, walk = data["forecast"], data["persistence_forecast"]
    return LookAhead(
        dates=pd.DatetimeIndex(forecast["dates"]),
        price=_floats(forecast["price"]),
        persistence=_floats(walk["price"]),
        persistence_bands=bands_of(walk) or {},
        persistence_coverage=shares(data["persistence_coverage"], horizon) or {},
        bands=bands_of(forecast),
        coverage=shares(data["coverage"], horizon),
        adaptive=bool(data["adaptive_bands"]),
        test_origins=int(data["test_origins"]),
        bands_note=data["bands_note"],
    )


def reference_path(name: str, directory: Path | None = None) -> Path:
    """The JSON file of reference run `name`."""
    return (directory or REFERENCE_DIR) / f"{name}.json"


def gates_path(name: str, directory: Path | None = None) -> Path:
    """The gate values of reference run `name` (NumPy's .npz, read without pickle)."""
    return (directory or REFERENCE_DIR) / f"{name}_gates.npz"


def _load_gates(path: Path, layer_names: list[str]) -> tuple[GateTrace, ...]:
    with np.load(path, allow_pickle=False) as arrays:
        return tuple(
            GateTrace(
                name=layer,
                **{gate: np.asarray(arrays[f"{index}_{gate}"]) for gate in GATE_NAMES},
            )
            for index, layer in enumerate(layer_names)
        )


def load_reference(name: str, directory: Path | None = None) -> ReferenceRun:
    """Read reference run `name`; ReferenceRunError with one sentence if it cannot be used."""
    if name not in REFERENCE_CONFIGS:
        raise ValueError(f"unknown reference run {name!r}")
    path = reference_path(name, directory)
    sentence = f"The run trained in advance ({path.name}) could not be loaded"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        config = TrainConfig.from_dict(record["config"])
        fingerprint = str(record["data"]["fingerprint"])
        for key in ("metrics", "comparison", "test", "history", "training", "look_ahead"):
            if key not in record:
                raise KeyError(key)
        gates: tuple[GateTrace, ...] = ()
        if "gates" in record:
            gates = _load_gates(gates_path(name, directory), record["gates"]["layers"])
    except FileNotFoundError as error:
        raise ReferenceRunError(f"{sentence}: it is missing.") from error
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReferenceRunError(f"{sentence}: it is damaged.") from error
    if config != REFERENCE_CONFIGS[name]:
        raise ReferenceRunError(f"{sentence}: it was made with other settings than it should be.")
    return ReferenceRun(
        name=name, config=config, fingerprint=fingerprint, record=record, gates=gates
    )


def make_record(name: str, series: pd.Series, with_gates: bool = False) -> tuple[dict, dict]:
    """Train reference run `name` on `series` and return its JSON record and gate arrays.

    Uses the Train page's own `run_training` and the Look ahead section's `look_ahead`, so a
    reference run is what the app would show for the same config. Imports TensorFlow.
    """
    from lstm_core.forecasting.forecast import DEFAULT_HORIZON, look_ahead
    from lstm_core.model.pipeline import run_training

    config = REFERENCE_CONFIGS[name]
    result = run_training(config, series)
    prepared = result.prepared
    ahead = look_ahead(result.model, prepared, DEFAULT_HORIZON)
    shipped = result.to_json()
    train_dates = prepared.dates[: len(prepared.train_prices)]
    record = {
        "format": FORMAT_VERSION,
        "name": name,
        "config": config.to_dict(),
        "data": {
            "ticker": config.ticker,
            "fingerprint": series_fingerprint(series),
            "first": series.index[0].strftime("%Y-%m-%d"),
            "last": series.index[-1].strftime("%Y-%m-%d"),
        },
        **{key: shipped[key] for key in ("n_train", "n_test", "metrics", "comparison")},
        **{key: shipped[key] for key in ("validation", "best_epoch", "early_stopped", "history")},
        "test": shipped["test"],
        "seconds": round(result.seconds, 1),
        "epochs_completed": result.epochs_completed,
        "training": {
            "first": train_dates[0].strftime("%Y-%m-%d"),
            "last": train_dates[-1].strftime("%Y-%m-%d"),
            "lowest": float(np.min(prepared.train_prices)),
            "highest": float(np.max(prepared.train_prices)),
        },
        "look_ahead": ahead.to_json(),
    }
    arrays: dict[str, np.ndarray] = {}
    if with_gates:
        record["gates"], arrays = _gate_record(result)
    return record, arrays


def _gate_record(result: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """The gates of `result`'s model on its last test window, and that window in dollars."""
    from lstm_core.model.internals import trace_window

    prepared = result.prepared
    window = prepared.x_test[-1, :, 0]
    trace = trace_window(result.model, window)
    last = prepared.test_start + prepared.test_count - 1
    window_dates = prepared.dates[last : last + prepared.lag]
    arrays = {
        f"{index}_{gate}": getattr(layer, gate).astype(np.float32)
        for index, layer in enumerate(trace.layers)
        for gate in GATE_NAMES
    }
    record = {
        "layers": [layer.name for layer in trace.layers],
        "window_dates": [date.strftime("%Y-%m-%d") for date in window_dates],
        "window_prices": [float(value) for value in prepared.prices[last : last + prepared.lag]],
        "target_date": result.test_dates[-1].strftime("%Y-%m-%d"),
        "actual": float(result.actual[-1]),
        "predicted": float(result.predicted[-1]),
    }
    return record, arrays


def write_record(
    name: str, record: dict, arrays: dict[str, np.ndarray], directory: Path | None = None
) -> list[Path]:
    """Write a record (and its gates) to the reference folder; returns the files written."""
    folder = directory or REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = reference_path(name, folder)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written = [path]
    if arrays:
        np.savez_compressed(gates_path(name, folder), **arrays)
        written.append(gates_path(name, folder))
    return written
