"""LeNet-5 as a Keras Sequential model (LeCun et al., 1998): modern (ReLU, max pooling) or classic."""

from __future__ import annotations

import keras
from keras import layers

from lenet.config import VARIANTS, ConfigError, variant_problem

IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)

POOLING: dict[str, type[layers.Layer]] = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}
# Mixed precision: float16 compute, float32 weights; set per layer so no global policy leaks.
MIXED_PRECISION_POLICY = "mixed_float16"


def build_lenet5(num_classes: int = 10, variant: str = "modern", mixed_precision: bool = False) -> keras.Sequential:
    """Return an uncompiled LeNet-5 that takes raw 0-255 images and outputs logits.

    Scaling to [0, 1] is the model's first layer, so a saved model needs no
    preprocessing contract beyond "MNIST-style uint8 pixels". With `mixed_precision`,
    every layer but the logits computes in float16; the logits stay float32 so the
    softmax and the loss are computed at full precision.
    """
    if variant not in VARIANTS:
        raise ConfigError(variant_problem(variant))
    activation, pooling_name, _description = VARIANTS[variant]
    pooling = POOLING[pooling_name]
    policy = MIXED_PRECISION_POLICY if mixed_precision else None
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Rescaling(1.0 / 255, name="rescale", dtype=policy),
            # C1 is 'same'-padded so 28x28 input stands in for the paper's 32x32.
            layers.Conv2D(6, 5, padding="same", activation=activation, name="c1", dtype=policy),
            pooling(2, strides=2, name="s2", dtype=policy),
            layers.Conv2D(16, 5, padding="valid", activation=activation, name="c3", dtype=policy),
            pooling(2, strides=2, name="s4", dtype=policy),
            # On a 5x5 map a 5x5 kernel is a full connection: C5's output is 1x1x120.
            layers.Conv2D(120, 5, activation=activation, name="c5", dtype=policy),
            layers.Flatten(name="flatten", dtype=policy),
            layers.Dense(84, activation=activation, name="f6", dtype=policy),
            layers.Dense(num_classes, name="logits", dtype="float32" if mixed_precision else None),
        ],
        name="lenet5" if variant == "modern" else f"lenet5_{variant}",
    )
