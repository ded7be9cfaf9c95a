"""The training configuration: every hyperparameter in one place, with its default."""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass
from typing import Any

# MNIST's usual hold-out: the last 5,000 of the 60,000 training images.
MNIST_VALIDATION_SIZE = 5000
# Model variant -> (activation of C1, C3, C5 and F6, pooling of S2 and S4, description);
# lenet/model.py builds them. "classic" is the 1998 paper's choice: squashing tanh units and
# average-pooling subsampling (the paper's S-layers also had a trainable coefficient and bias;
# we keep the parameter count equal instead, so the comparison isolates activation and pooling).
VARIANTS: dict[str, tuple[str, str, str]] = {
    "modern": ("relu", "max", "ReLU, max pooling (this project's default)"),
    "classic": ("tanh", "average", "tanh, average pooling (LeCun et al., 1998)"),
}
# The tf.distribute strategies (lenet/distribute.py).
STRATEGIES = ("default", "mirrored")


@dataclass(frozen=True)
class Recipe:
    """How the optimiser's learning rate moves and how training batches are distorted.

    Every recipe keeps the specified model, Adam, the cross-entropy on logits, and batch 64.
    """

    learning_rate: float  # the peak: held constant, or where the cosine starts (after warm-up)
    schedule: str = "constant"  # "constant" or "cosine" (decays to 0 at the last step)
    warmup_epochs: float = 0.0  # linear warm-up from 0 to the peak, then the cosine
    shift: float = 0.0  # random shifts of up to this many pixels, along each axis
    rotation: float = 0.0  # random rotations of up to this many degrees, either way
    zoom: float = 0.0  # random scaling by up to this fraction, larger or smaller

    @property
    def augments(self) -> bool:
        return bool(self.shift or self.rotation or self.zoom)


# The candidates of the recipe study (scripts/recipe_study.py), by name. "original" is the
# constant-rate recipe of the notebook this project replaces; DEFAULT_RECIPE won the study on
# the validation set (README, "Choosing the recipe").
RECIPES: dict[str, Recipe] = {
    "original": Recipe(1e-3),
    "cosine": Recipe(1e-3, "cosine"),
    "cosine-2e-3": Recipe(2e-3, "cosine"),
    "cosine-2e-3-warmup": Recipe(2e-3, "cosine", warmup_epochs=1),
    "shift": Recipe(1e-3, "cosine", shift=2),
    "shift-2e-3": Recipe(2e-3, "cosine", shift=2),
    "affine": Recipe(1e-3, "cosine", shift=2, rotation=10, zoom=0.1),
    "affine-2e-3": Recipe(2e-3, "cosine", shift=2, rotation=10, zoom=0.1),
}
DEFAULT_RECIPE = "shift-2e-3"


class ConfigError(ValueError):
    """A configuration value that cannot make sense, raised before any data is loaded
    (or, as lenet.checkpoint's CheckpointError, a config that does not match a saved run)."""


class TrainingError(RuntimeError):
    """Training that went wrong (e.g. a NaN loss); the message says what to change.

    Defined here, not in lenet.training, so the command line maps it to its exit code
    without importing TensorFlow."""


def first_line(error: BaseException) -> str:
    """An error's first line, for messages of one line (its type's name if it says nothing)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _setting(default: Any, help: str) -> Any:
    """A TrainConfig field with the help its flag shows; flags, LENET_* variables and help derive from these."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    """How to train LeNet-5. The defaults are the documented recipe.

    Each field is a `lenet train` flag (--batch-size), a `lenet sweep` grid flag and a LENET_*
    environment variable for the notebook (LENET_BATCH_SIZE), all derived from this list.
    """

    epochs: int = _setting(10, "passes over the training set")
    batch_size: int = _setting(64, "images per training step")
    recipe: str = _setting(
        DEFAULT_RECIPE,
        "learning-rate schedule and augmentation, by name: "
        "'original' is the constant-rate recipe without augmentation (see README)",
    )
    learning_rate: float | None = _setting(None, "Adam's (peak) learning rate (default: the recipe's)")
    seed: int = _setting(42, "random seed; the same seed on the same machine gives identical numbers")
    validation_size: int | None = _setting(
        None, "training images held out for validation (default: 5,000, or a tenth of a smaller training set)"
    )
    variant: str = _setting(
        "modern", "'modern' (ReLU, max pooling) or 'classic' (the 1998 paper's tanh and average pooling)"
    )
    strategy: str = _setting("default", "'default' (one device) or 'mirrored' (all GPUs of this machine)")
    mixed_precision: bool = _setting(
        False, "float16 compute with float32 weights and logits; faster on recent GPUs, not on CPUs"
    )

    def __post_init__(self) -> None:
        checks = [
            (self.epochs > 0, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size > 0, f"batch_size must be at least 1, got {self.batch_size}"),
            (self.recipe in RECIPES, f"recipe must be one of {', '.join(RECIPES)}, got {self.recipe!r}"),
            (
                self.learning_rate is None or self.learning_rate > 0,
                f"learning_rate must be positive, got {self.learning_rate}",
            ),
            (self.seed >= 0, f"seed must be 0 or more, got {self.seed}"),
            (
                self.validation_size is None or self.validation_size > 0,
                f"validation_size must be at least 1, got {self.validation_size}",
            ),
            (self.variant in VARIANTS, variant_problem(self.variant)),
            (
                self.strategy in STRATEGIES,
                f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}",
            ),
            (
                isinstance(self.mixed_precision, bool),
                f"mixed_precision must be True or False, got {self.mixed_precision!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def recipe_settings(self) -> Recipe:
        """The recipe, with `learning_rate` in place of its own peak when one is given."""
        recipe = RECIPES[self.recipe]
        if self.learning_rate is None:
            return recipe
        return dataclasses.replace(recipe, learning_rate=self.learning_rate)

    def resolved_validation_size(self, train_size: int) -> int:
        """The number of training images held out (split_validation refuses all of them)."""
        if self.validation_size is None:
            return min(MNIST_VALIDATION_SIZE, train_size // 10)
        return self.validation_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def variant_problem(variant: str) -> str:
    """The message refusing an unknown model variant (TrainConfig and build_lenet5 both check)."""
    return f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}"


def field_type(field: dataclasses.Field) -> type:
    """A TrainConfig field's value type: int for `int | None`; what its flag and variable parse."""
    hint = typing.get_type_hints(TrainConfig)[field.name]
    return next((kind for kind in typing.get_args(hint) if kind is not type(None)), hint)


def parse_value(raw: str, kind: type) -> Any:
    """`raw` as a `kind`; a bool is true/false, yes/no, on/off or 1/0, any case. ValueError if not."""
    if kind is not bool:
        return kind(raw)
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


# The notebook's parameters that are not TrainConfig fields; each field's is its name in capitals.
NOTEBOOK_PARAMETERS = {"DATA": str, "OUTPUT_DIR": str}


def parameters_from_env(**parameters: Any) -> dict[str, Any]:
    """Return the notebook's parameters with any LENET_<PARAMETER> environment variable applied.

    The environment wins, so CI can run the committed notebook in quick mode unedited. A
    variable also applies when the notebook has no such parameter (e.g. LENET_VARIANT).
    """
    kinds = NOTEBOOK_PARAMETERS | {field.name.upper(): field_type(field) for field in dataclasses.fields(TrainConfig)}
    resolved = dict(parameters)
    for name, kind in kinds.items():
        variable, raw = f"LENET_{name}", os.environ.get(f"LENET_{name}")
        if not raw:
            continue
        try:
            resolved[name] = parse_value(raw, kind)
        except ValueError:
            kind_name = "boolean" if kind is bool else kind.__name__
            raise ConfigError(f"{variable}={raw!r} is not a valid {kind_name}") from None
    return resolved


def config_from_parameters(parameters: dict[str, Any]) -> TrainConfig:
    """Build the TrainConfig that the notebook's parameters describe."""
    names = [field.name for field in dataclasses.fields(TrainConfig)]
    return TrainConfig(**{name: parameters[name.upper()] for name in names if name.upper() in parameters})
