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


# The paper (Section II.C; also LeCun et al., 1989) draws initial weights "uniformly distributed between -2.4/Fi and
# 2.4/Fi", Fi the unit's fan-in. Read literally ("fan_in"), the weighted sums of C5 and F6 start near 0 and SDLM with
# the paper's eta and mu diverges in the first pass (docs/paper.md measures it); with 2.4/sqrt(Fi) ("sqrt_fan_in",
# the reading of karpathy/lecun1989-repro, and the sqrt(1/Fi) scale of LeCun et al.'s "Efficient BackProp", 1998)
# the sums start in the squashing function's working range, as the paper says its rule intends, and it trains.
INIT_RULES = {"sqrt_fan_in": lambda fan_in: 2.4 / np.sqrt(fan_in), "fan_in": lambda fan_in: 2.4 / fan_in}
DEFAULT_INIT = "sqrt_fan_in"


def init_limits(fan_in, rule: str = DEFAULT_INIT) -> np.ndarray:
    """The bound of the uniform initial weights of units of fan-in `fan_in` (a number or an array, one per weight)."""
    return np.asarray(INIT_RULES[rule](np.asarray(fan_in, np.float64)), np.float32)


@keras.saving.register_keras_serializable(package="lenet")
class PaperUniform(keras.initializers.Initializer):
    """Uniform in [-limit, limit], limit = 2.4/sqrt(F) or 2.4/F by `rule` (INIT_RULES), F the unit's fan-in."""

    def __init__(self, fan_in: int, rule: str = DEFAULT_INIT, seed: int | None = None) -> None:
        self.fan_in, self.rule, self.seed = fan_in, rule, seed
        limit = float(init_limits(fan_in, rule))
        self._uniform = keras.initializers.RandomUniform(-limit, limit, seed=seed)

    def __call__(self, shape, dtype=None):
        return self._uniform(shape, dtype)

    def get_config(self) -> dict:
        return {"fan_in": self.fan_in, "rule": self.rule, "seed": self.seed}


def scaled_uniform(limits: np.ndarray):
    """An initializer of uniform values in [-limits, limits], a limit per entry (C3's maps differ in fan-in)."""
    return lambda shape, dtype=None: keras.initializers.RandomUniform(-1.0, 1.0)(shape, dtype) * limits


@keras.saving.register_keras_serializable(package="lenet")
class Subsampling(layers.Layer):
    """S2 and S4: each unit adds a 2x2 block of its map (stride 2), multiplies by the map's one trainable
    coefficient, adds the map's one trainable bias, then the activation: 2 parameters per map."""

    def __init__(self, activation: Any = scaled_tanh, init: str = DEFAULT_INIT, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation, self.init = keras.activations.get(activation), init

    def build(self, input_shape) -> None:
        maps = input_shape[-1]
        # Guesses where the paper is silent: the fan-in is 4 (the block's inputs, the coefficient shared by them);
        # the bias is drawn by the same rule (the paper's notation counts a bias as a weight from a unit fixed at 1).
        initializer = PaperUniform(4, self.init)
        self.coefficient = self.add_weight(shape=(maps,), initializer=initializer, name="coefficient")
        self.bias = self.add_weight(shape=(maps,), initializer=initializer, name="bias")

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
        activation = keras.activations.serialize(self.activation)
        return {**super().get_config(), "activation": activation, "init": self.init}


@keras.saving.register_keras_serializable(package="lenet")
class SparseConv2D(layers.Layer):
    """C3: a 'valid' 5x5 convolution where output map m reads only the input maps `table[m]` (Table I). Only the
    used kernel entries are weights (a vector), scattered into a full kernel by a constant index for one conv op,
    so Keras counts exactly the paper's parameters and the gradient flows through the scatter to them."""

    def __init__(
        self, table=TABLE_I, kernel_size: int = 5, activation: Any = scaled_tanh, init: str = DEFAULT_INIT, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.init = init
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
        kernel_limits, bias_limits = init_limits(fan_in, self.init), init_limits(bias_fan_in, self.init)
        self.kernel = self.add_weight(shape=(len(entries),), initializer=scaled_uniform(kernel_limits), name="kernel")
        # The bias: a guess, as the kernel (see Subsampling).
        self.bias = self.add_weight(shape=(self.filters,), initializer=scaled_uniform(bias_limits), name="bias")

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
        config = {"table": [list(inputs) for inputs in self.table], "kernel_size": self.kernel_size, "init": self.init}
        return {**super().get_config(), **config, "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="lenet")
class EuclideanRBF(layers.Layer):
    """The output layer: y_i = sum_j (x_j - w_ij)^2 with fixed weights w, by default the digits' +1/-1 bitmaps
    (`prototypes`: one row of inputs per class); returns -y, so that, like logits, the largest output wins."""

    def __init__(self, prototypes=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.given = None if prototypes is None else np.asarray(prototypes, np.float32).tolist()

    def build(self, input_shape) -> None:
        rows = digit_bitmaps().reshape(10, -1) if self.given is None else np.array(self.given, np.float32)
        if input_shape[-1] != rows.shape[1]:
            raise ValueError(f"the RBF output needs {rows.shape[1]} inputs, got {input_shape[-1]}")
        self.prototypes = self.add_weight(  # (inputs, classes): F6 unit j, digit i
            shape=rows.T.shape, initializer=keras.initializers.Constant(rows.T), trainable=False, name="prototypes"
        )

    def call(self, inputs):
        return -ops.sum(ops.square(inputs[:, :, None] - self.prototypes[None]), axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape[0], len(self.given or range(10))

    def get_config(self) -> dict:
        return {**super().get_config(), "prototypes": self.given}


@keras.saving.register_keras_serializable(package="lenet")
def paper_criterion(labels, scores):
    """The paper's MSE criterion (eq. 8) per digit: its correct class's RBF output y = -score (docs/paper.md)."""
    labels = ops.cast(ops.reshape(labels, (-1, 1)), "int32")
    return -ops.take_along_axis(scores, labels, axis=1)[:, 0]


# The paper's trainable parameters per layer (Section II.B): 60,000 in all.
PAPER_PARAMETERS = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}


def build_paper_network(
    rbf: bool = True,
    trainable_subsampling: bool = True,
    scaled_tanh_activation: bool = True,
    sparse_c3: bool = True,
    paper_input: bool = True,
    init: str = DEFAULT_INIT,
    name: str = "lenet5_1998",
) -> keras.Sequential:
    """The 1998 LeNet-5, or with a switch off, today's choice in its place: dense logits for the RBF units, max
    pooling for trainable subsampling, ReLU for the scaled tanh, a full C3 for Table I, 28x28 'same'-padded 0-1
    input for 32x32 at -0.1/1.175; `init` "keras" for Keras's default initial weights (the subsampling and sparse
    C3 layers keep the paper's), or an INIT_RULES reading of the paper's. All off and "keras": the modern model."""
    activation = scaled_tanh if scaled_tanh_activation else "relu"

    paper_rule = init if init in INIT_RULES else DEFAULT_INIT  # for the layers Keras has no default for

    def initial(fan_in: int) -> dict:
        if init == "keras":
            return {}
        initializer = PaperUniform(fan_in, init)
        return {"kernel_initializer": initializer, "bias_initializer": initializer}  # bias: a guess, as a weight

    def subsampling(layer_name: str) -> layers.Layer:
        if trainable_subsampling:
            return Subsampling(activation=activation, init=paper_rule, name=layer_name)
        return layers.MaxPooling2D(2, strides=2, name=layer_name)

    if paper_input:
        # Pad with 0 (background), then map 0..255 to -0.1..1.175: the mean near 0 and the variance near 1.
        entry = [layers.ZeroPadding2D(2, name="pad"), layers.Rescaling(1.275 / 255, offset=-0.1, name="scale")]
    else:
        entry = [layers.Rescaling(1.0 / 255, name="rescale")]

    def c3() -> layers.Layer:  # made in the list's order: Keras draws a default initializer's seed when made
        if sparse_c3:
            return SparseConv2D(TABLE_I, 5, activation=activation, init=paper_rule, name="c3")
        return layers.Conv2D(16, 5, activation=activation, name="c3", **initial(150))

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *entry,
            layers.Conv2D(
                6, 5, padding="valid" if paper_input else "same", activation=activation, name="c1", **initial(25)
            ),
            subsampling("s2"),
            c3(),
            subsampling("s4"),
            layers.Conv2D(120, 5, activation=activation, name="c5", **initial(400)),  # on 5x5 maps: 1x1x120
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation=activation, name="f6", **initial(120)),
            EuclideanRBF(name="rbf") if rbf else layers.Dense(10, name="logits", **initial(84)),
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
