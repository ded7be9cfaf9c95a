import dataclasses

import pytest

import lenet
from lenet import config as config_module
from lenet.config import Recipe, config_from_parameters, field_type, parameters_from_env


def test_defaults_are_the_documented_recipe():
    config = lenet.TrainConfig()
    assert (config.epochs, config.resolved_epochs, config.batch_size, config.seed) == (None, 10, 64, 42)
    assert config.recipe == "shift-2e-3" and config.learning_rate is None  # the recipe's own rate
    assert config.resolved_validation_size(60_000) == 5_000
    assert config.resolved_validation_size(4_000) == 400
    assert (config.variant, config.strategy, config.mixed_precision) == ("modern", "default", False)


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("batch_size", 0),
        ("batch_size", -64),
        ("learning_rate", 0.0),
        ("validation_size", -1),
        ("variant", "lenet1"),
        ("strategy", "tpu"),
        ("mixed_precision", "yes"),
    ],
)
def test_nonsense_values_are_refused(field, value):
    with pytest.raises(lenet.ConfigError, match=field):
        lenet.TrainConfig(**{field: value})


# A value other than the default for each str field (any other field's is derived from its type below).
OTHER_CHOICES = {"recipe": "original", "variant": "lenet5-1998", "strategy": "mirrored"}


def other_value(config_field: dataclasses.Field) -> tuple[str, object]:
    """(LENET_<FIELD>'s text, the value it must give) for a value that is not the field's default."""
    kind = field_type(config_field)
    if kind is bool:
        return "yes", not config_field.default
    if kind is str:
        return OTHER_CHOICES[config_field.name], OTHER_CHOICES[config_field.name]  # a new str field: add it above
    return {int: ("3", 3), float: ("0.01", 0.01)}[kind]


def test_every_field_is_read_from_its_environment_variable(monkeypatch):
    """LENET_<FIELD> for every TrainConfig field, the cases derived from the dataclass: none can be forgotten."""
    expected = {}
    for config_field in dataclasses.fields(lenet.TrainConfig):
        raw, expected[config_field.name] = other_value(config_field)
        assert expected[config_field.name] != config_field.default
        monkeypatch.setenv(f"LENET_{config_field.name.upper()}", raw)
    assert config_from_parameters(parameters_from_env(SEED=7)) == lenet.TrainConfig(**expected)
    monkeypatch.setenv("LENET_VALIDATION_SIZE", "none")  # unset: the recipe's or the default hold-out
    assert parameters_from_env(VALIDATION_SIZE=100)["VALIDATION_SIZE"] is None


def test_environment_overrides_notebook_parameters(monkeypatch):
    monkeypatch.setenv("LENET_EPOCHS", "3")
    monkeypatch.setenv("LENET_DATA", "some/file.npz")
    monkeypatch.delenv("LENET_SEED", raising=False)
    params = parameters_from_env(DATA="keras", EPOCHS=10, BATCH_SIZE=64, SEED=7, OUTPUT_DIR=".")
    assert params["EPOCHS"] == 3 and params["DATA"] == "some/file.npz" and params["SEED"] == 7
    assert config_from_parameters(params) == lenet.TrainConfig(epochs=3, batch_size=64, seed=7)


def test_a_malformed_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("LENET_BATCH_SIZE", "sixty-four")
    with pytest.raises(lenet.ConfigError, match="LENET_BATCH_SIZE: 'sixty-four' is not a valid int"):
        parameters_from_env(BATCH_SIZE=64)


def test_switches_and_choices_from_the_environment_are_checked(monkeypatch):
    monkeypatch.setenv("LENET_MIXED_PRECISION", "0")
    assert config_from_parameters(parameters_from_env()).mixed_precision is False
    monkeypatch.setenv("LENET_MIXED_PRECISION", "maybe")
    with pytest.raises(lenet.ConfigError, match=r"LENET_MIXED_PRECISION: 'maybe' is not a valid switch \(true/false"):
        parameters_from_env()
    monkeypatch.setenv("LENET_MIXED_PRECISION", "")
    monkeypatch.setenv("LENET_VARIANT", "lenet1")
    with pytest.raises(lenet.ConfigError, match="variant must be one of modern, lenet5-1998"):
        config_from_parameters(parameters_from_env())


def test_a_runs_length_and_validation_set_are_the_configs_else_the_recipes_else_the_default(monkeypatch):
    """Explicit > recipe > default, for both fields; 0 (no validation set) is a value, not "unset"."""
    monkeypatch.setitem(config_module.RECIPES, "carried", Recipe(1e-3, epochs=20, validation_size=0))
    monkeypatch.setitem(config_module.RECIPES, "sized", Recipe(1e-3, validation_size=300))
    carried = lenet.TrainConfig(recipe="carried")
    assert (carried.resolved_epochs, carried.resolved_validation_size(60_000)) == (20, 0)
    assert carried.resolved(60_000) == {"epochs": 20, "validation_size": 0}
    explicit = lenet.TrainConfig(recipe="carried", epochs=3, validation_size=500)
    assert (explicit.resolved_epochs, explicit.resolved_validation_size(60_000)) == (3, 500)
    assert lenet.TrainConfig(recipe="sized").resolved(4_000) == {"epochs": 10, "validation_size": 300}
    assert lenet.TrainConfig(recipe="sized", validation_size=0).resolved_validation_size(4_000) == 0
    assert lenet.TrainConfig(validation_size=0).resolved(60_000) == {"epochs": 10, "validation_size": 0}
    assert lenet.TrainConfig(recipe="original").resolved(4_000) == {"epochs": 10, "validation_size": 400}
