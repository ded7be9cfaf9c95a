"""The training configuration: every hyperparameter in one place, with its default."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from lenet.errors import ConfigError

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
STRATEGIES = ("default", "mirrored", "multiworker")


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
# the validation set (docs/recipe.md).
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


@dataclass(frozen=True)
class TrainConfig:
    """How to train LeNet-5. The defaults are the documented recipe."""

    epochs: int = 10
    batch_size: int = 64
    # A name from RECIPES: the learning-rate schedule and the augmentation.
    recipe: str = DEFAULT_RECIPE
    # None: the recipe's own (peak) learning rate.
    learning_rate: float | None = None
    seed: int = 42
    # None: 5,000 images, or a tenth of a training set too small for that (the sample).
    validation_size: int | None = None
    # "modern" (ReLU, max pooling) or "classic" (the 1998 paper's tanh and average pooling).
    variant: str = "modern"
    # "default" (one device), "mirrored" (all GPUs of this machine) or "multiworker" (TF_CONFIG).
    strategy: str = "default"
    # float16 compute with float32 weights and logits: faster on recent GPUs, not on CPUs.
    mixed_precision: bool = False

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
            (self.variant in VARIANTS, f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}"),
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
        """The number of training images held out; refuses to hold out all of them."""
        size = self.validation_size
        if size is None:
            size = min(MNIST_VALIDATION_SIZE, train_size // 10)
        if size >= train_size:
            raise ConfigError(f"validation_size {size} leaves no training images out of {train_size}")
        return size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def boolean(raw: str) -> bool:
    """Parse an environment flag: true/false, yes/no, on/off or 1/0, any case."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


# Notebook parameter -> (environment variable, TrainConfig field or None, parser).
# A variable also applies when the notebook has no such parameter (e.g. LENET_VARIANT).
ENVIRONMENT_OVERRIDES: dict[str, tuple[str, str | None, Callable[[str], Any]]] = {
    "DATA": ("LENET_DATA", None, str),
    "EPOCHS": ("LENET_EPOCHS", "epochs", int),
    "BATCH_SIZE": ("LENET_BATCH_SIZE", "batch_size", int),
    "RECIPE": ("LENET_RECIPE", "recipe", str),
    "SEED": ("LENET_SEED", "seed", int),
    "OUTPUT_DIR": ("LENET_OUTPUT_DIR", None, str),
    "VARIANT": ("LENET_VARIANT", "variant", str),
    "STRATEGY": ("LENET_STRATEGY", "strategy", str),
    "MIXED_PRECISION": ("LENET_MIXED_PRECISION", "mixed_precision", boolean),
}


def parameters_from_env(**parameters: Any) -> dict[str, Any]:
    """Return the notebook's parameters with any LENET_* environment variable applied.

    The environment wins, so CI can run the committed notebook in quick mode unedited.
    """
    resolved = dict(parameters)
    for name, (variable, _field, parse) in ENVIRONMENT_OVERRIDES.items():
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            resolved[name] = parse(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a valid {parse.__name__}") from None
    return resolved


def config_from_parameters(parameters: dict[str, Any]) -> TrainConfig:
    """Build the TrainConfig that the notebook's parameters describe."""
    fields = {
        field: parameters[name]
        for name, (_variable, field, _parse) in ENVIRONMENT_OVERRIDES.items()
        if field is not None and name in parameters
    }
    return TrainConfig(**fields)
