"""TrainConfig validation with exact messages."""

import dataclasses

import pytest

from lstm_core.config import PRESETS, TUTORIAL_MODEL_1, TrainConfig, normalize_ticker


def test_defaults_are_the_tutorials_model_1() -> None:
    config = TrainConfig()
    assert (config.lag, config.batch_size, config.epochs) == (60, 200, 10)
    assert config.units == (128, 64) and config.dense_units == 25
    assert config.train_fraction == 0.8
    assert TUTORIAL_MODEL_1 == config


def test_config_is_frozen_and_hashable() -> None:
    config = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lag = 5  # type: ignore[misc]
    assert hash(config) == hash(TrainConfig())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lag": 0}, "lag must be between 2 and 1000, got 0"),
        ({"lag": 2.5}, "lag must be a whole number, got 2.5"),
        ({"epochs": 0}, "epochs must be between 1 and 1000, got 0"),
        ({"batch_size": 0}, "batch_size must be between 1 and 100000, got 0"),
        ({"train_fraction": 1.0}, "train_fraction must be between 0 and 1 (exclusive), got 1.0"),
        ({"train_fraction": 0}, "train_fraction must be between 0 and 1 (exclusive), got 0"),
        ({"seed": "abc"}, "seed must be a whole number, got 'abc'"),
        ({"learning_rate": 0}, "learning_rate must be above 0 and at most 1, got 0"),
        ({"units": ()}, "units must list 1 to 4 LSTM layer sizes, such as (128, 64)"),
        ({"ticker": "../etc"}, "ticker '../etc' is not a valid symbol"),
    ],
)
def test_invalid_values_raise_exact_messages(changes: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        TrainConfig(**changes)
    assert str(caught.value).startswith(message)


def test_ticker_is_normalized() -> None:
    assert TrainConfig(ticker=" msft ").ticker == "MSFT"
    assert normalize_ticker("brk-b") == "BRK-B"
    with pytest.raises(ValueError):
        normalize_ticker("AAPL/../../x")


def test_dict_round_trip_and_unknown_keys() -> None:
    config = TrainConfig(units=(16, 8), seed=3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        TrainConfig.from_dict({"colour": "red"})


def test_presets_include_both_tutorial_models_and_a_quick_demo() -> None:
    batches = sorted(preset.batch_size for preset in PRESETS.values())
    assert 1 in batches and 200 in batches
    assert "Quick demo" in PRESETS


def test_to_query_writes_what_a_shared_link_carries() -> None:
    assert TrainConfig().to_query() == {
        "ticker": "MSFT",
        "lag": "60",
        "batch_size": "200",
        "epochs": "10",
        "units": "128-64",
        "dense_units": "25",
        "learning_rate": "0.001",
        "train_fraction": "0.8",
        "seed": "42",
        "target": "level",
        "validation_fraction": "0.0",
        "patience": "0",
        "model": "lstm",
    }


def test_new_settings_default_to_the_tutorials_behaviour() -> None:
    config = TrainConfig()
    assert (config.target, config.validation_fraction, config.patience) == ("level", 0.0, 0)
    recommended = PRESETS["Recommended (learns daily changes)"]
    assert (recommended.target, recommended.validation_fraction, recommended.patience) == (
        "change",
        0.1,
        3,
    )
    assert recommended.units == (128, 64) and recommended.dense_units == 25
    for name in (
        "Tutorial model 1 (batch 200, 10 epochs)",
        "Tutorial model 2 (batch 1, 10 epochs)",
    ):
        assert PRESETS[name].target == "level" and PRESETS[name].validation_fraction == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"target": "returns"},
            "target must be 'level' (the price) or 'change' (the next day's change), got 'returns'",
        ),
        (
            {"validation_fraction": 0.5},
            "validation_fraction must be at least 0 and below 0.5, got 0.5",
        ),
        (
            {"validation_fraction": -0.1},
            "validation_fraction must be at least 0 and below 0.5, got -0.1",
        ),
        (
            {"validation_fraction": 0.3, "train_fraction": 0.3},
            (
                "validation_fraction (0.3) must be smaller than train_fraction (0.3): the "
                "validation period is the end of the training part"
            ),
        ),
        (
            {"patience": 11, "validation_fraction": 0.1},
            "patience (11) must be at most the number of epochs (10)",
        ),
        (
            {"patience": 2},
            "patience (early stopping) needs a validation period: set validation_fraction above 0",
        ),
        ({"validation_fraction": "0.1"}, "validation_fraction must be a number, got '0.1'"),
    ],
)
def test_new_settings_refuse_bad_values_with_a_sentence(changes, message) -> None:
    with pytest.raises(ValueError) as raised:
        TrainConfig(**changes)
    assert str(raised.value) == message


def test_new_settings_round_trip_through_dict_and_label() -> None:
    config = TrainConfig(target="change", validation_fraction=0.1, patience=3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.label().endswith("learns daily changes, validation 10%, patience 3")
    old_run = {key: value for key, value in config.to_dict().items() if key != "target"}
    assert TrainConfig.from_dict(old_run).target == "level"


def test_a_stopped_run_is_named_with_the_epochs_it_trained() -> None:
    config = TrainConfig(epochs=50)
    assert "stopped at 10 of 50 epochs" in config.label(stopped_after=10)
    assert "50 epochs" in config.label() and "stopped" not in config.label()
