"""The training configuration: every hyperparameter in one place, with its default and its help. Each field
is also a `lenet train` flag, a `lenet sweep` grid flag, a LENET_<FIELD> variable and a notebook PARAMETER."""

import dataclasses
import os
import typing
from typing import Any

from lenet.errors import ConfigError

# MNIST's usual hold-out: the last 5,000 of the 60,000 training images.
MNIST_VALIDATION_SIZE = 5000
# A run's length when neither the config nor its recipe sets one.
DEFAULT_EPOCHS = 10
# Images per step when evaluating or predicting: large for speed; it changes nothing but summation order.
EVALUATION_BATCH_SIZE = 1024
# Variant -> description: this project's network (lenet/model.py), or the paper's own (lenet/paper.py).
VARIANTS = {
    "modern": "ReLU, max pooling (this project's default)",
    "lenet5-1998": "the 1998 paper's network: scaled tanh, trainable subsampling, sparse C3, RBF outputs "
    "(LeCun et al., 1998)",
}
PAPER_VARIANT = "lenet5-1998"
STRATEGIES = ("default", "mirrored")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How the weights move and how training digits are distorted: Adam on batches through Keras's fit, or the
    1998 paper's per-example SDLM (lenet/sdlm.py). It may carry its own length and validation set, which an
    explicit config value overrides (TrainConfig.resolved_epochs)."""

    learning_rate: float  # the peak: held constant, or where the cosine starts (after warm-up)
    schedule: str = "constant"  # "constant" or "cosine" (decays to 0 at the last step)
    warmup_epochs: float = 0.0  # linear warm-up from 0 to the peak, then the cosine
    shift: float = 0.0  # random shifts of up to this many pixels, along each axis
    rotation: float = 0.0  # random rotations of up to this many degrees, either way
    zoom: float = 0.0  # random scaling by up to this fraction, larger or smaller
    squeeze: float = 0.0  # random widening by up to this fraction with as much narrowing in height, or the reverse
    shear: float = 0.0  # random horizontal shearing: x moves by up to this fraction of y (from the centre), either way
    epochs: int | None = None  # None: DEFAULT_EPOCHS
    validation_size: int | None = None  # None: 5,000, or a tenth of a smaller training set; 0: none
    optimizer: str = "adam"  # "adam" (Keras's fit on batches) or "sdlm" (the paper's training; lenet5-1998 only)

    @property
    def augments(self) -> bool:
        return bool(self.shift or self.rotation or self.zoom or self.squeeze or self.shear)


# The distortions of LeCun et al. (1998), section III ("Results"): random translations, scaling, squeezing and
# horizontal shearing, as Recipe fields (Recipe(..., **DISTORTIONS_1998)). The paper gives no ranges; these were fixed
# once, before any run, by looking at distorted training digits and measuring the ink they push out of the 28x28
# frame (docs/distortions.md), never on the test set.
DISTORTIONS_1998 = {"shift": 1, "zoom": 0.1, "squeeze": 0.1, "shear": 0.2}

# The recipe study's candidates (scripts/recipe_study.py): "original" is the constant rate of the notebook
# this project replaces; DEFAULT_RECIPE won on the validation set (docs/recipe.md).
RECIPES: dict[str, Recipe] = {
    "original": Recipe(1e-3),
    "cosine": Recipe(1e-3, "cosine"),
    "cosine-2e-3": Recipe(2e-3, "cosine"),
    "cosine-2e-3-warmup": Recipe(2e-3, "cosine", warmup_epochs=1),
    "shift": Recipe(1e-3, "cosine", shift=2),
    "shift-2e-3": Recipe(2e-3, "cosine", shift=2),
    "affine": Recipe(1e-3, "cosine", shift=2, rotation=10, zoom=0.1),
    "affine-2e-3": Recipe(2e-3, "cosine", shift=2, rotation=10, zoom=0.1),
    # The 1998 paper's training (docs/paper.md): SDLM, one digit at a time, eta from 0.0005 down by passes
    # (lenet/sdlm.py: ETA_SCHEDULE), 20 passes over all 60,000 training digits (the paper held none out);
    # "distorted" draws DISTORTIONS_1998 on the fly, each pass anew.
    "sdlm-1998": Recipe(5e-4, "1998", epochs=20, validation_size=0, optimizer="sdlm"),
    "sdlm-1998-distorted": Recipe(5e-4, "1998", **DISTORTIONS_1998, epochs=20, validation_size=0, optimizer="sdlm"),
}
DEFAULT_RECIPE = "shift-2e-3"


def one_of(name: str, value: Any, choices: typing.Iterable[str]) -> Any:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _help(default: Any, text: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": text})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train LeNet-5. The defaults are the documented recipe."""

    epochs: int | None = _help(None, f"passes over the training set (default: {DEFAULT_EPOCHS}, or the recipe's)")
    batch_size: int = _help(64, "images per training step")
    recipe: str = _help(
        DEFAULT_RECIPE,
        "learning-rate schedule and augmentation, by name: 'original' is the constant-rate recipe "
        "without augmentation (see docs/recipe.md)",
    )
    learning_rate: float | None = _help(None, "Adam's (peak) learning rate (default: the recipe's)")
    seed: int = _help(42, "random seed; the same seed on the same machine gives identical numbers")
    validation_size: int | None = _help(
        None,
        "training images held out for validation, 0 for none (default: the recipe's, or 5,000, or a tenth of a "
        "smaller training set)",
    )
    variant: str = _help(
        "modern",
        "'modern' (ReLU, max pooling) or 'lenet5-1998' (the 1998 paper's network: 60,000 parameters, RBF outputs; "
        "see docs/paper.md)",
    )
    strategy: str = _help("default", "'default' (one device) or 'mirrored' (all GPUs of this machine)")
    mixed_precision: bool = _help(
        False, "float16 compute with float32 weights and logits; faster on recent GPUs, not on CPUs"
    )

    def __post_init__(self) -> None:
        for name, least in (("epochs", 1), ("batch_size", 1), ("validation_size", 0), ("seed", 0)):
            value = getattr(self, name)
            if value is not None and value < least:
                raise ConfigError(f"{name} must be at least {least}, got {value}")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        for name, choices in (("recipe", RECIPES), ("variant", VARIANTS), ("strategy", STRATEGIES)):
            one_of(name, getattr(self, name), choices)
        if not isinstance(self.mixed_precision, bool):
            raise ConfigError(f"mixed_precision must be True or False, got {self.mixed_precision!r}")
        if RECIPES[self.recipe].optimizer == "sdlm":
            if self.variant != PAPER_VARIANT:
                raise ConfigError(
                    f"recipe {self.recipe} needs variant {PAPER_VARIANT} (its RBF outputs and loss), got {self.variant}"
                )
            if self.strategy != "default" or self.mixed_precision:
                raise ConfigError(
                    f"recipe {self.recipe} trains on one device in float32 (no strategy, no mixed precision)"
                )

    @property
    def recipe_settings(self) -> Recipe:
        """The recipe, with `learning_rate` in place of its own peak when one is given."""
        recipe = RECIPES[self.recipe]
        return recipe if self.learning_rate is None else dataclasses.replace(recipe, learning_rate=self.learning_rate)

    # The one place a run's length and validation set are decided: this config's value, else its recipe's, else
    # the default. Everything that trains, schedules, checkpoints or records a run reads these, never the fields.
    @property
    def resolved_epochs(self) -> int:
        """The run's passes over the training set: `epochs`, else the recipe's, else DEFAULT_EPOCHS."""
        return _first_set(self.epochs, RECIPES[self.recipe].epochs, DEFAULT_EPOCHS)

    def resolved_validation_size(self, train_size: int) -> int:
        """The training images the run holds out (0: none): `validation_size`, else the recipe's, else 5,000 or a
        tenth of a smaller training set."""
        return _first_set(
            self.validation_size, RECIPES[self.recipe].validation_size, min(MNIST_VALIDATION_SIZE, train_size // 10)
        )

    def resolved(self, train_size: int) -> dict[str, int]:
        """The epochs and validation size the run uses, as results.json records them beside the config as given."""
        return {"epochs": self.resolved_epochs, "validation_size": self.resolved_validation_size(train_size)}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _first_set(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def field_type(config_field: dataclasses.Field) -> type:
    """X for a field of type `X` or `X | None`."""
    return next(kind for kind in typing.get_args(config_field.type) or (config_field.type,) if kind is not type(None))


SWITCHES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def parse(config_field: dataclasses.Field, text: str) -> Any:
    """A field's value from text (true/false, yes/no, on/off or 1/0 for a switch; 'none' for unset), or a
    ConfigError in the words every caller (flags, LENET_<FIELD> variables) shows, prefixed with where it came from."""
    text, kind = text.strip(), field_type(config_field)
    if text.lower() == "none" and config_field.default is None:
        return None
    try:
        return SWITCHES[text.lower()] if kind is bool else kind(text)
    except (KeyError, ValueError):
        expected = "switch (true/false, yes/no, on/off or 1/0)" if kind is bool else kind.__name__
        raise ConfigError(f"{text!r} is not a valid {expected}") from None


FIELDS_BY_PARAMETER = {config_field.name.upper(): config_field for config_field in dataclasses.fields(TrainConfig)}
# Notebook parameters that are not TrainConfig fields, each read from LENET_<NAME> too.
RUN_PARAMETERS = ("DATA", "OUTPUT_DIR")


def parameters_from_env(**parameters: Any) -> dict[str, Any]:
    """The notebook's parameters, overridden by any LENET_<NAME> variable (so CI runs the committed notebook
    in quick mode unedited), also one the notebook does not set (e.g. LENET_STRATEGY)."""
    resolved = dict(parameters)
    for name in (*RUN_PARAMETERS, *FIELDS_BY_PARAMETER):
        if not (raw := os.environ.get(f"LENET_{name}")):
            continue
        config_field = FIELDS_BY_PARAMETER.get(name)
        try:
            resolved[name] = raw if config_field is None else parse(config_field, raw)
        except ConfigError as error:
            raise ConfigError(f"LENET_{name}: {error}") from None
    return resolved


def config_from_parameters(parameters: dict[str, Any]) -> TrainConfig:
    """The TrainConfig that the notebook's (upper-case) parameters describe: a recipe the notebook's Keras fit
    can train (SDLM updates one digit at a time in its own loop, which the notebook does not show)."""
    config = TrainConfig(**{f.name: parameters[name] for name, f in FIELDS_BY_PARAMETER.items() if name in parameters})
    if config.recipe_settings.optimizer != "adam":
        raise ConfigError(
            f"RECIPE {config.recipe!r} is the 1998 paper's SDLM training, which the notebook does not run: use "
            f"'lenet train --variant {config.variant} --recipe {config.recipe}' (docs/paper.md)"
        )
    return config
