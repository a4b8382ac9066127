"""The one frozen description of a training run, validated when it is made."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

# Yahoo symbols: MSFT, BRK-B, EURUSD=X, and indices such as ^GSPC (the caret only first).
TICKER_PATTERN = re.compile(r"^(?=.{1,15}$)\^?[A-Z0-9][A-Z0-9.\-=]*$")
"""Tickers as Yahoo spells them (BRK-B, ^GSPC, EURUSD=X); nothing that could form a path."""

MAX_LAG = 1000
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 100_000
MAX_UNITS = 1024
TARGETS = ("level", "change")
"""What the model learns: the tutorial's z-scored prices, or the next day's log change."""
MAX_VALIDATION_FRACTION = 0.5
BATCH_SIZE_CHOICES = (1, 2, 4, 8, 16, 32, 64, 100, 128, 200, 256, 512)
"""The batch sizes the Train page's form offers (and a study searches among)."""
MODELS = ("lstm", "gru", "simple_rnn", "linear")
"""What the network is: the tutorial's LSTM stack, the same stack with GRU or SimpleRNN layers,
or a ridge regression on the window's scaled inputs (lstm_core/model/linear.py)."""
MODEL_NAMES = {
    "lstm": "LSTM",
    "gru": "GRU",
    "simple_rnn": "SimpleRNN",
    "linear": "Ridge (linear)",
}
"""How each model kind is named on pages and in the CLI's tables."""
RECURRENT_MODELS = ("lstm", "gru", "simple_rnn")
"""The model kinds built as a Keras stack (the others need no TensorFlow)."""
INPUTS = ("close", "volume", "range", "market")
"""What the network sees each day of a window, in this order: the close (always), then any of
the extra inputs (lstm_core/features.py builds them)."""
EXTRA_INPUTS = INPUTS[1:]
INPUT_SENTENCES = {
    "close": "Close: the adjusted close, in the same form as what the model predicts (always on).",
    "volume": "Volume: how many shares traded each day, as the log of that day's volume over the "
    "window's mean volume.",
    "range": "Range: how far the price moved within each day, (high - low) / close.",
    "market": "Market: the other companies' log daily changes (their mean), aligned by date.",
}
"""One plain sentence per input, for the form's help, the CLI's help and the README."""
LEARNING_RATE_CHOICES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
"""The learning rates the Train page's form offers (and a study searches among)."""


def normalize_ticker(text: str) -> str:
    """Return `text` as an upper-case ticker, or raise ValueError if it is not a safe ticker."""
    if not isinstance(text, str):
        raise ValueError("ticker must be text such as MSFT")
    ticker = text.strip().upper()
    if not TICKER_PATTERN.match(ticker) or ".." in ticker:
        raise ValueError(
            f"ticker {text!r} is not a valid symbol: use 1-15 letters, digits, '.', '-', '^' or '='"
        )
    return ticker


def _require_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _require_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")


def parse_inputs(text: str) -> tuple[str, ...]:
    """'close,volume' as input names in INPUTS order, or a ValueError naming the unknown one."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    return _input_names("inputs", names)


def _input_names(field: str, names: Any) -> tuple[str, ...]:
    """`names` (a tuple or list of input names) in INPUTS order; ValueError when it is not."""
    if isinstance(names, list):
        names = tuple(names)
    if not isinstance(names, tuple) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{field} must list input names such as ('close', 'volume')")
    for name in names:
        if name not in INPUTS:
            raise ValueError(f"unknown input {name!r}: choose from {', '.join(INPUTS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{field} must not repeat an input")
    # One order for one set, so ('volume', 'close') and ('close', 'volume') are one config.
    return tuple(name for name in INPUTS if name in names)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run: same config and seed give the same model."""

    ticker: str = "MSFT"
    lag: int = 60
    batch_size: int = 200
    epochs: int = 10
    units: tuple[int, ...] = (128, 64)
    dense_units: int = 25
    learning_rate: float = 0.001
    train_fraction: float = 0.8
    seed: int = 42
    target: str = "level"
    validation_fraction: float = 0.0
    patience: int = 0
    model: str = "lstm"
    inputs: tuple[str, ...] = ("close",)
    shuffled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ticker", normalize_ticker(self.ticker))
        _require_int("lag", self.lag, 2, MAX_LAG)
        _require_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _require_int("epochs", self.epochs, 1, MAX_EPOCHS)
        if isinstance(self.units, list):
            object.__setattr__(self, "units", tuple(self.units))
        if not isinstance(self.units, tuple) or not 1 <= len(self.units) <= 4:
            raise ValueError("units must list 1 to 4 LSTM layer sizes, such as (128, 64)")
        for size in self.units:
            _require_int("each LSTM layer's units", size, 1, MAX_UNITS)
        _require_int("dense_units", self.dense_units, 0, MAX_UNITS)
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, int | float):
            raise ValueError(f"learning_rate must be a number, got {self.learning_rate!r}")
        if not 0 < self.learning_rate <= 1:
            raise ValueError(
                f"learning_rate must be above 0 and at most 1, got {self.learning_rate}"
            )
        _require_number("train_fraction", self.train_fraction)
        if not 0 < self.train_fraction < 1:
            raise ValueError(
                f"train_fraction must be between 0 and 1 (exclusive), got {self.train_fraction}"
            )
        _require_int("seed", self.seed, 0, 2**31 - 1)
        if self.target not in TARGETS:
            raise ValueError(
                f"target must be 'level' (the price) or 'change' (the next day's change), "
                f"got {self.target!r}"
            )
        _require_number("validation_fraction", self.validation_fraction)
        if not 0 <= self.validation_fraction < MAX_VALIDATION_FRACTION:
            raise ValueError(
                f"validation_fraction must be at least 0 and below {MAX_VALIDATION_FRACTION}, "
                f"got {self.validation_fraction}"
            )
        if self.validation_fraction >= self.train_fraction:
            raise ValueError(
                f"validation_fraction ({self.validation_fraction}) must be smaller than "
                f"train_fraction ({self.train_fraction}): the validation period is the end of "
                "the training part"
            )
        _require_int("patience", self.patience, 0, MAX_EPOCHS)
        if self.patience > self.epochs:
            raise ValueError(
                f"patience ({self.patience}) must be at most the number of epochs ({self.epochs})"
            )
        if self.patience > 0 and self.validation_fraction == 0:
            raise ValueError(
                "patience (early stopping) needs a validation period: set validation_fraction "
                "above 0"
            )

        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        object.__setattr__(self, "inputs", _input_names("inputs", self.inputs))
        if "close" not in self.inputs:
            raise ValueError(
                "inputs must include 'close': the network always sees the price it predicts"
            )
        object.__setattr__(self, "shuffled", _input_names("shuffled", self.shuffled))
        for name in self.shuffled:
            if name == "close":
                raise ValueError(
                    "shuffled cannot name 'close': the target is made from it, so only an extra "
                    "input can be shuffled"
                )
            if name not in self.inputs:
                raise ValueError(
                    f"shuffled names {name!r}, which is not among the inputs "
                    f"({', '.join(self.inputs)})"
                )

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """The inputs beyond the close, in INPUTS order."""
        return tuple(name for name in self.inputs if name != "close")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, units, inputs and shuffled as lists."""
        data = asdict(self)
        data["units"] = list(self.units)
        data["inputs"] = list(self.inputs)
        data["shuffled"] = list(self.shuffled)
        return data

    def to_query(self) -> dict[str, str]:
        """The config as URL parameters (units as "128-64", inputs as "close,volume"), so a
        link reproduces it. Inputs and shuffled appear only when they differ from the default,
        so links made before they existed stay the same."""
        listed = ("units", "inputs", "shuffled")
        params = {key: str(value) for key, value in self.to_dict().items() if key not in listed}
        params["units"] = "-".join(str(size) for size in self.units)
        if self.extra_inputs:
            params["inputs"] = ",".join(self.inputs)
        if self.shuffled:
            params["shuffled"] = ",".join(self.shuffled)
        return params

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict`; unknown keys raise ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        values = dict(data)
        for name in ("units", "inputs", "shuffled"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return cls(**values)

    def with_changes(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed, validated again."""
        return replace(self, **changes)

    def label(self, stopped_after: int | None = None) -> str:
        """A short human name: 'MSFT lag 60, batch 200, 10 epochs, seed 42'.

        `stopped_after`, for a run stopped early, names the epochs it really trained:
        'stopped at 10 of 50 epochs'.
        """
        epochs = f"{self.epochs} epochs"
        if stopped_after is not None:
            epochs = f"stopped at {stopped_after} of {epochs}"
        text = (
            f"{self.ticker} lag {self.lag}, batch {self.batch_size}, "
            f"{epochs}, units {'/'.join(map(str, self.units))}, seed {self.seed}"
        )
        if self.model != "lstm":
            text = f"{MODEL_NAMES[self.model]}: " + text
        if self.target != "level":
            text += ", learns daily changes"
        if self.validation_fraction > 0:
            text += f", validation {self.validation_fraction:.0%}"
        if self.patience > 0:
            text += f", patience {self.patience}"
        if self.extra_inputs:
            text += f", inputs {'+'.join(self.inputs)}"
        if self.shuffled:
            text += f", {'+'.join(self.shuffled)} shuffled"
        return text


TUTORIAL_MODEL_1 = TrainConfig(batch_size=200, epochs=10)
TUTORIAL_MODEL_2 = TrainConfig(batch_size=1, epochs=10)
QUICK_DEMO = TrainConfig(lag=30, batch_size=32, epochs=5, units=(32, 16), dense_units=16)

RECOMMENDED = TrainConfig(
    batch_size=200, epochs=10, target="change", validation_fraction=0.1, patience=3
)
"""The tutorial's layers learning daily changes, tuned on the validation period only
(bench/honest_table.py and bench/choose_recommended.py)."""

PRESETS: dict[str, TrainConfig] = {
    "Recommended (learns daily changes)": RECOMMENDED,
    "Tutorial model 1 (batch 200, 10 epochs)": TUTORIAL_MODEL_1,
    "Tutorial model 2 (batch 1, 10 epochs)": TUTORIAL_MODEL_2,
    "Quick demo": QUICK_DEMO,
}
