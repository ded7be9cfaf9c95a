"""LeNet-5 (LeCun et al., 1998) as a Keras Sequential model: modern (ReLU, max pooling), or the paper's own
network (lenet/paper.py)."""

import keras
from keras import layers

from lenet.config import PAPER_VARIANT, VARIANTS, one_of
from lenet.errors import ConfigError
from lenet.reproducibility import check_float16


def build_lenet5(variant: str = "modern", mixed_precision: bool = False) -> keras.Sequential:
    """An uncompiled LeNet-5 from raw 0-255 images (N, 28, 28, 1) to the logits of the 10 digits (N, 10).

    Scaling is the first layer, so a saved model takes MNIST-style uint8 pixels as they are. `mixed_precision`
    computes in float16, set per layer (no global policy leaks), except the float32 logits the loss is taken on; on a
    CPU where lenet's pins leave oneDNN without float16 kernels, it is refused here, before any step (a ConfigError).
    """
    if mixed_precision:
        check_float16("mixed precision")
    if one_of("variant", variant, VARIANTS) == PAPER_VARIANT:
        if mixed_precision:
            raise ConfigError(f"{PAPER_VARIANT} computes in float32 only (its RBF outputs and loss)")
        from lenet.paper import build_lenet5_1998

        return build_lenet5_1998()
    policy = "mixed_float16" if mixed_precision else None
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Rescaling(1.0 / 255, name="rescale", dtype=policy),
            # C1 is 'same'-padded so 28x28 input stands in for the paper's 32x32.
            layers.Conv2D(6, 5, padding="same", activation="relu", name="c1", dtype=policy),
            layers.MaxPooling2D(2, strides=2, name="s2", dtype=policy),
            layers.Conv2D(16, 5, padding="valid", activation="relu", name="c3", dtype=policy),
            layers.MaxPooling2D(2, strides=2, name="s4", dtype=policy),
            # On a 5x5 map a 5x5 kernel is a full connection: C5's output is 1x1x120.
            layers.Conv2D(120, 5, activation="relu", name="c5", dtype=policy),
            layers.Flatten(name="flatten", dtype=policy),
            layers.Dense(84, activation="relu", name="f6", dtype=policy),
            layers.Dense(10, name="logits", dtype="float32" if mixed_precision else None),
        ],
        name="lenet5",
    )
