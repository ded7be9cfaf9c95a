"""The 1998 paper's LeNet-5 (LeCun, Bottou, Bengio and Haffner, "Gradient-Based Learning Applied to Document
Recognition", Proc. IEEE, Section II.B), as a Keras Sequential from uint8 (N, 28, 28, 1) to -y (N, 10), y the
RBF units' distances: the class is the smallest y, and -y serves every tool that expects logits.

The builder's switches turn each 1998 choice into today's, one at a time, for scripts/ablation_1998.py; only
`lenet5-1998` (every switch the paper's) is a named variant. Every guess where the paper is silent is written
where it is made, and listed in docs/paper.md.
"""

from typing import Any

import keras
import numpy as np
from keras import layers, ops

# Table I: the S2 maps each C3 map reads (C3 maps 0-15).
TABLE_I = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5),
)  # fmt: skip

# The output units' fixed weights, Fig. 3's style: 7x12 bitmaps of the digits, ink (#) +1, background (.) -1.
# The paper prints them but not as numbers; these are drawn after its figure (a guess at its exact pixels).
BITMAP_PICTURES = {
    0: ".#####. ##...## #.....# #.....# #.....# #.....# #.....# #.....# #.....# ##...## .#####. .......",
    1: "...#... ..##... .#.#... ...#... ...#... ...#... ...#... ...#... ...#... ...#... .#####. .......",
    2: ".#####. #.....# ......# ......# .....#. ....#.. ...#... ..#.... .#..... #...... ####### .......",
    3: ".#####. #.....# ......# ......# ..####. ......# ......# ......# ......# #.....# .#####. .......",
    4: "....##. ...#.#. ..#..#. .#...#. #....#. ####### .....#. .....#. .....#. .....#. .....#. .......",
    5: "####### #...... #...... ######. ......# ......# ......# ......# ......# #.....# .#####. .......",
    6: "..####. .#..... #...... #...... ######. #.....# #.....# #.....# #.....# #.....# .#####. .......",
    7: "####### ......# .....#. .....#. ....#.. ....#.. ...#... ...#... ..#.... ..#.... ..#.... .......",
    8: ".#####. #.....# #.....# #.....# .#####. #.....# #.....# #.....# #.....# #.....# .#####. .......",
    9: ".#####. #.....# #.....# #.....# #.....# .###### ......# ......# ......# .....#. .####.. .......",
}


def digit_bitmaps() -> np.ndarray:
    """float32 (10, 12, 7): each digit's 12 rows of 7 pixels, +1 ink and -1 background."""
    rows = [[list(row) for row in BITMAP_PICTURES[digit].split()] for digit in range(10)]
    return np.where(np.array(rows) == "#", 1.0, -1.0).astype(np.float32)


SQUASH_A, SQUASH_S = 1.7159, 2.0 / 3.0


@keras.saving.register_keras_serializable(package="lenet")
def scaled_tanh(x):
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159 and S = 2/3 (Appendix A): f(1) = 1, f(-1) = -1."""
    return SQUASH_A * ops.tanh(SQUASH_S * x)


def scaled_tanh_derivative_from_output(x):
    """f'(a) from x = f(a) alone: A S (1 - tanh^2) = S (A^2 - x^2) / A; the Gauss-Newton pass needs no pre-activation."""
    return SQUASH_S * (SQUASH_A**2 - ops.square(x)) / SQUASH_A


@keras.saving.register_keras_serializable(package="lenet")
class PaperUniform(keras.initializers.Initializer):
    """Uniform in [-2.4/F, 2.4/F], F the fan-in of the unit the weight belongs to (Section II.C, Appendix A)."""

    def __init__(self, fan_in: int, seed: int | None = None) -> None:
        self.fan_in, self.seed = fan_in, seed
        self._uniform = keras.initializers.RandomUniform(-2.4 / fan_in, 2.4 / fan_in, seed=seed)

    def __call__(self, shape, dtype=None):
        return self._uniform(shape, dtype)

    def get_config(self) -> dict:
        return {"fan_in": self.fan_in, "seed": self.seed}


def scaled_uniform(limits: np.ndarray):
    """An initializer of uniform values in [-limits, limits], a limit per entry (C3's maps differ in fan-in)."""
    return lambda shape, dtype=None: keras.initializers.RandomUniform(-1.0, 1.0)(shape, dtype) * limits


@keras.saving.register_keras_serializable(package="lenet")
class Subsampling(layers.Layer):
    """S2 and S4: each unit adds a 2x2 block of its map (stride 2), multiplies by the map's one trainable
    coefficient, adds the map's one trainable bias, then the activation: 2 parameters per map."""

    def __init__(self, activation: Any = scaled_tanh, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape) -> None:
        maps = input_shape[-1]
        # Fan-in 4 (the block's inputs), so the coefficient starts in [-0.6, 0.6]. Guess: the paper's rule
        # applies to the bias too (its notation counts a bias as a weight from a unit fixed at 1).
        self.coefficient = self.add_weight(shape=(maps,), initializer=PaperUniform(4), name="coefficient")
        self.bias = self.add_weight(shape=(maps,), initializer=PaperUniform(4), name="bias")

    def linear(self, inputs, coefficient, bias):
        """The pre-activation with the given weights (the SDLM's Gauss-Newton pass runs it with squared ones)."""
        block_sums = 4.0 * ops.average_pool(inputs, 2, strides=2, padding="valid")
        return block_sums * coefficient + bias

    def call(self, inputs):
        return self.activation(self.linear(inputs, self.coefficient, self.bias))

    def compute_output_shape(self, input_shape):
        batch, height, width, maps = input_shape
        return batch, height // 2, width // 2, maps

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="lenet")
class SparseConv2D(layers.Layer):
    """C3: a 'valid' 5x5 convolution where output map m reads only the input maps `table[m]` (Table I). Only the
    used kernel entries are weights (a vector), scattered into a full kernel by a constant index for one conv op,
    so Keras counts exactly the paper's parameters and the gradient flows through the scatter to them."""

    def __init__(self, table=TABLE_I, kernel_size: int = 5, activation: Any = scaled_tanh, **kwargs) -> None:
        super().__init__(**kwargs)
        self.table = tuple(tuple(int(i) for i in inputs) for inputs in table)
        self.kernel_size, self.filters = kernel_size, len(self.table)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape) -> None:
        size, maps = self.kernel_size, input_shape[-1]
        # Entry order: output map, then input map, then row, then column.
        entries = [
            (r, c, i, m)
            for m, inputs in enumerate(self.table)
            for i in inputs
            for r in range(size)
            for c in range(size)
        ]
        self.indices = np.array(entries, np.int32)
        self.full_shape = (size, size, maps, self.filters)
        fan_in = np.array([len(self.table[m]) * size * size for *_, m in entries], np.float32)  # each map's own
        bias_fan_in = np.array([len(inputs) * size * size for inputs in self.table], np.float32)
        self.kernel = self.add_weight(shape=(len(entries),), initializer=scaled_uniform(2.4 / fan_in), name="kernel")
        # The bias: a guess, as the kernel (see Subsampling).
        self.bias = self.add_weight(shape=(self.filters,), initializer=scaled_uniform(2.4 / bias_fan_in), name="bias")

    def full_kernel(self, kernel):
        """The (5, 5, maps, filters) kernel, zero where Table I has no connection."""
        return ops.scatter(self.indices, kernel, self.full_shape)

    def linear(self, inputs, kernel, bias):
        return ops.conv(inputs, self.full_kernel(kernel), padding="valid") + bias

    def call(self, inputs):
        return self.activation(self.linear(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        reach = self.kernel_size - 1
        return batch, height - reach, width - reach, self.filters

    def get_config(self) -> dict:
        config = {"table": [list(inputs) for inputs in self.table], "kernel_size": self.kernel_size}
        return {**super().get_config(), **config, "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="lenet")
class EuclideanRBF(layers.Layer):
    """The output layer: y_i = sum_j (x_j - w_ij)^2 with fixed +1/-1 weights w (the digit bitmaps); returns -y,
    so that, like logits, the largest output is the predicted class."""

    def build(self, input_shape) -> None:
        prototypes = digit_bitmaps().reshape(10, -1).T  # (84, 10): F6 unit j, digit i
        if input_shape[-1] != prototypes.shape[0]:
            raise ValueError(f"the RBF output needs {prototypes.shape[0]} inputs (F6), got {input_shape[-1]}")
        self.prototypes = self.add_weight(
            shape=prototypes.shape,
            initializer=keras.initializers.Constant(prototypes),
            trainable=False,
            name="prototypes",
        )

    def call(self, inputs):
        return -ops.sum(ops.square(inputs[:, :, None] - self.prototypes[None]), axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape[0], 10


# The paper's trainable parameters per layer (Section II.B): 60,000 in all.
PAPER_PARAMETERS = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}


def build_paper_network(
    rbf: bool = True,
    trainable_subsampling: bool = True,
    scaled_tanh_activation: bool = True,
    sparse_c3: bool = True,
    paper_input: bool = True,
    paper_init: bool = True,
    name: str = "lenet5_1998",
) -> keras.Sequential:
    """The 1998 LeNet-5, or with a switch off, today's choice in its place: dense logits for the RBF units, max
    pooling for trainable subsampling, ReLU for the scaled tanh, a full C3 for Table I, 28x28 'same'-padded 0-1
    input for 32x32 at -0.1/1.175, Keras's default initial weights for the paper's. All off: the modern model."""
    activation = scaled_tanh if scaled_tanh_activation else "relu"

    def init(fan_in: int) -> dict:
        if not paper_init:
            return {}
        return {"kernel_initializer": PaperUniform(fan_in), "bias_initializer": PaperUniform(fan_in)}  # bias: a guess

    def subsampling(layer_name: str) -> layers.Layer:
        if trainable_subsampling:
            return Subsampling(activation=activation, name=layer_name)
        return layers.MaxPooling2D(2, strides=2, name=layer_name)

    if paper_input:
        # Pad with 0 (background), then map 0..255 to -0.1..1.175: the mean near 0 and the variance near 1.
        entry = [layers.ZeroPadding2D(2, name="pad"), layers.Rescaling(1.275 / 255, offset=-0.1, name="scale")]
    else:
        entry = [layers.Rescaling(1.0 / 255, name="rescale")]
    if sparse_c3:
        c3 = SparseConv2D(TABLE_I, 5, activation=activation, name="c3")
    else:
        c3 = layers.Conv2D(16, 5, activation=activation, name="c3", **init(150))
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *entry,
            layers.Conv2D(
                6, 5, padding="valid" if paper_input else "same", activation=activation, name="c1", **init(25)
            ),
            subsampling("s2"),
            c3,
            subsampling("s4"),
            layers.Conv2D(120, 5, activation=activation, name="c5", **init(400)),  # on 5x5 maps: 1x1x120
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation=activation, name="f6", **init(120)),
            EuclideanRBF(name="rbf") if rbf else layers.Dense(10, name="logits", **init(84)),
        ],
        name=name,
    )
    if all((rbf, trainable_subsampling, scaled_tanh_activation, sparse_c3, paper_input)):
        counts = {layer: model.get_layer(layer).count_params() for layer in PAPER_PARAMETERS}
        assert counts == PAPER_PARAMETERS, counts
        assert model.get_layer("rbf").count_params() == 840  # fixed
    return model


def build_lenet5_1998() -> keras.Sequential:
    """The paper's network, every choice the paper's."""
    return build_paper_network()


def connections(layer: layers.Layer) -> int:
    """The layer's connections as the paper counts them: each output unit's inputs plus its bias (one per unit,
    shared weights counted at every use); the RBF units have no bias. 0 for layers without weights."""
    if not layer.weights:
        return 0
    units = int(np.prod(layer.output.shape[1:]))
    if isinstance(layer, EuclideanRBF):
        return units * layer.input.shape[-1]
    if isinstance(layer, Subsampling):
        return units * (4 + 1)
    if isinstance(layer, SparseConv2D):
        height, width = layer.output.shape[1:3]
        return height * width * (int(layer.kernel.shape[0]) + layer.filters)
    if isinstance(layer, layers.Conv2D | layers.Dense):
        kernel = layer.kernel.shape
        return units * (int(np.prod(kernel[:-1])) + 1)
    raise TypeError(f"no connection count for {type(layer).__name__}")
