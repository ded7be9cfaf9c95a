"""LeNet-5 as a Keras Sequential model (LeCun et al., 1998), with ReLU and max pooling."""

from __future__ import annotations

import keras
from keras import layers

IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)


def build_lenet5(num_classes: int = 10) -> keras.Sequential:
    """Return an uncompiled LeNet-5 that takes raw 0-255 images and outputs logits.

    Scaling to [0, 1] is the model's first layer, so a saved model needs no
    preprocessing contract beyond "MNIST-style uint8 pixels".
    """
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Rescaling(1.0 / 255, name="rescale"),
            # C1 is 'same'-padded so 28x28 input stands in for the paper's 32x32.
            layers.Conv2D(6, 5, padding="same", activation="relu", name="c1"),
            layers.MaxPooling2D(2, strides=2, name="s2"),
            layers.Conv2D(16, 5, padding="valid", activation="relu", name="c3"),
            layers.MaxPooling2D(2, strides=2, name="s4"),
            # On a 5x5 map a 5x5 kernel is a full connection: C5's output is 1x1x120.
            layers.Conv2D(120, 5, activation="relu", name="c5"),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation="relu", name="f6"),
            layers.Dense(num_classes, name="logits"),
        ],
        name="lenet5",
    )
