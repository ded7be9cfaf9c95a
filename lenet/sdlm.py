"""The 1998 paper's training (Section II.C, Appendix C): stochastic diagonal Levenberg-Marquardt on its MSE
criterion. One digit at a time, every weight w_k moves by eta / (mu + h_k) times dE/dw_k, where h_k is the
diagonal Gauss-Newton estimate of d2E/dw_k2 averaged over 500 training digits drawn before each pass.

Keras's optimizers step a whole batch; this is its own loop, compiled: a `tf.while_loop` inside a `tf.function`
runs a chunk of digits per call (forward, gradient and update per digit, no Python per digit; XLA is not used, it
did not finish compiling such a loop), a chunk being one step of Keras's progress bar. Same seed, same numbers;
an interrupted run resumes after its last finished pass through lenet/checkpoint.py, like a Keras run.
"""

import math
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from lenet import paper
from lenet.checkpoint import Checkpoint
from lenet.config import TrainConfig
from lenet.data import Split
from lenet.errors import ConfigError, TrainingError
from lenet.progress import EpochRecord
from lenet.training import augment, evaluate

MU = 0.02  # keeps a step finite where the curvature is near 0 (Appendix C)
HESSIAN_SAMPLES = 500  # digits the curvature is averaged over, re-drawn before each pass
# Multiples of the recipe's learning rate (0.0005) by pass: until pass 2 (counted from 1), 5, 8, 12, then on:
# 0.0005 for passes 1-2, 0.0002 for 3-5, 0.0001 for 6-8, 0.00005 for 9-12 and 0.00001 from 13 (Section III.A).
ETA_SCHEDULE = ((2, 1.0), (5, 0.4), (8, 0.2), (12, 0.1), (math.inf, 0.02))
CHUNK = 2_000  # digits per call into TensorFlow, and per update of the progress bar


def eta(learning_rate: float, pass_number: int) -> float:
    """The global step size of pass `pass_number` (from 1), for the recipe's `learning_rate` (0.0005)."""
    return learning_rate * next(scale for last, scale in ETA_SCHEDULE if pass_number <= last)


def passes(config: TrainConfig) -> int:
    """The run's passes over the training set (the one place that reads it, so it follows the config's rules)."""
    return config.resolved_epochs


def pass_digits(seed: int, pass_index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pass `pass_index`'s (from 0) order of the `size` training digits and its HESSIAN_SAMPLES curvature digits:
    from (seed, pass) alone, so a resumed run, and scripts/sdlm_curvature.py's replay, see the same ones."""
    order = np.random.default_rng([seed, pass_index]).permutation(size)
    return order, np.random.default_rng([seed, pass_index, 1]).permutation(size)[:HESSIAN_SAMPLES]


def compile_for_sdlm(model: keras.Model) -> keras.Model:
    """The 1998 network compiled for evaluation: the paper's criterion as the loss, and accuracy, so `evaluate`,
    `lenet evaluate` and the saved file work as for any run. SDLM steps the weights itself; the optimizer is a
    stand-in (SGD at rate 0) because Keras cannot reload a compiled model saved without one."""
    weighted = [layer for layer in model.layers if layer.trainable_weights]
    if not isinstance(model.layers[-1], paper.EuclideanRBF) or any(
        getattr(layer, "activation", None) is not paper.scaled_tanh for layer in weighted
    ):
        raise ConfigError(f"SDLM trains the 1998 network only (scaled tanh units, RBF outputs), not {model.name}")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=paper.paper_criterion, metrics=["accuracy"])
    return model


def pre_activation(layer: layers.Layer, inputs: tf.Tensor, weights: list[tf.Tensor]) -> tf.Tensor:
    """The layer's a = W x + b with `weights` (its own, or their squares) in place of its variables."""
    if isinstance(layer, paper.Subsampling | paper.SparseConv2D):
        return layer.linear(inputs, *weights)
    if isinstance(layer, layers.Conv2D):
        return layer.convolution_op(inputs, weights[0]) + weights[1]
    if isinstance(layer, layers.Dense):
        return tf.matmul(inputs, weights[0]) + weights[1]
    raise ConfigError(f"SDLM has no Gauss-Newton rule for layer {layer.name} ({type(layer).__name__})")


def gauss_newton_diagonal(model: keras.Model, images: tf.Tensor) -> list[tf.Tensor]:
    """For every trainable variable, d2E/dw2 averaged over `images`, back-propagated as Appendix C does:
    d2E/da2 = f'(a)^2 d2E/dx2 (f'' dropped), d2E/dx_j2 = sum_i w_ij^2 d2E/da_i2, d2E/dw_k2 = sum over the
    connections sharing w_k of x_j^2 d2E/da_i2, and d2E/dx2 = 2 at F6's outputs (E = sum_j (x_j - w_cj)^2).

    Autodiff does it: a surrogate pass runs each layer with V = W^2 in place of its weights on z = x^2 (value)
    carrying t (gradient), t the previous surrogate output times f'(a)^2, so d(2 sum t_F6)/dV is the sum above."""
    variables = [weight for layer in model.layers for weight in layer.trainable_weights]
    squared = [tf.square(tf.convert_to_tensor(variable)) for variable in variables]
    with tf.GradientTape() as tape:
        tape.watch(squared)
        x, t, used = tf.cast(images, tf.float32), None, 0
        for layer in model.layers:
            y = layer(x)
            if count := len(layer.trainable_weights):
                z = tf.stop_gradient(tf.square(x))
                if t is not None:
                    z += t - tf.stop_gradient(t)  # the value x^2, the gradient to the layer below
                a_squared = pre_activation(layer, z, squared[used : used + count])
                t = a_squared * tf.stop_gradient(tf.square(paper.scaled_tanh_derivative_from_output(y)))
                used += count
            elif isinstance(layer, paper.EuclideanRBF):
                surrogate = 2.0 * tf.reduce_sum(t)
            elif t is not None:  # between weighted layers only a reshape (Flatten) may stand
                if not isinstance(layer, layers.Flatten):
                    raise ConfigError(f"SDLM has no Gauss-Newton rule for layer {layer.name}")
                t = layer(t)
            x = y
    size = tf.cast(tf.shape(images)[0], tf.float32)
    return [gradient / size for gradient in tape.gradient(surrogate, squared)]


class SDLM:
    """The compiled steps of one model: the curvature estimate, and a chunk of per-digit updates."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.variables = [weight for layer in model.layers for weight in layer.trainable_weights]
        # Traced once per model, whatever the chunk's length: a digit batch of any size, one step size per weight.
        images = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)  # pixels 0-255 as the model's input
        steps = [tf.TensorSpec(variable.shape, tf.float32) for variable in self.variables]
        self.curvature = tf.function(lambda batch: gauss_newton_diagonal(model, batch), input_signature=[images])
        self.train_chunk = tf.function(
            self._train_chunk, input_signature=[images, tf.TensorSpec((None,), tf.int32), steps]
        )

    def step_sizes(self, images: tf.Tensor, learning_rate: float) -> list[tf.Tensor]:
        """eta / (mu + h_k) for every weight, h from `images`."""
        return [learning_rate / (MU + curvature) for curvature in self.curvature(images)]

    def _train_chunk(
        self, images: tf.Tensor, labels: tf.Tensor, step_sizes: list[tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One update per digit, in order; returns the sum of the digits' losses (each before its update) and
        how many were right."""

        def one_digit(index: tf.Tensor, loss_sum: tf.Tensor, correct: tf.Tensor) -> tuple:
            label = labels[index]
            with tf.GradientTape() as tape:
                scores = self.model(images[index][tf.newaxis], training=True)[0]
                loss = -scores[label]  # E = y of the correct class
            gradients = tape.gradient(loss, self.variables)
            updates = [
                variable.assign_sub(size * gradient)
                for variable, size, gradient in zip(self.variables, step_sizes, gradients, strict=True)
            ]
            right = tf.cast(tf.equal(tf.argmax(scores, output_type=tf.int32), label), tf.int32)
            with tf.control_dependencies(updates):  # the next digit sees this one's update
                return index + 1, loss_sum + loss, correct + right

        start = (tf.constant(0), tf.constant(0.0), tf.constant(0))
        _, loss_sum, correct = tf.while_loop(
            lambda index, *_: index < tf.shape(labels)[0], one_digit, start, parallel_iterations=1
        )
        return loss_sum, correct


def fit_sdlm(
    model: keras.Model,
    split: Split,
    config: TrainConfig,
    verbose: str | int = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> dict[str, list[float]]:
    """Train a `compile_for_sdlm` model by SDLM, as `training.fit` does a Keras one: the same history per pass
    (loss: the paper's criterion, accuracy, val_* with a validation set, seconds), the same checkpoint and resume,
    Keras's progress bar (a step per chunk of digits) or `callbacks`, which see each pass's logs before the record
    does (a callback may add to them). Pass p's order depends only on (seed, p), and its distortions and its 500
    curvature digits likewise, so a resumed run ends with the numbers of an uninterrupted one."""
    record = EpochRecord() if checkpoint_dir is None else Checkpoint(checkpoint_dir, config, split).restore(model)
    recipe, trainer, size = config.recipe_settings, SDLM(model), len(split.y_train)
    chunks, total = -(-size // CHUNK), passes(config)
    progress = keras.callbacks.CallbackList(
        [*(callbacks or []), record], add_progbar=verbose != 0, model=model, verbose=1, epochs=total, steps=chunks
    )

    def digits(indices: np.ndarray, stream: int) -> tf.Tensor:
        images = tf.constant(split.x_train[indices][..., np.newaxis])
        if recipe.augments:
            images = augment(images, tf.constant([config.seed, stream], tf.int64), recipe)
        return tf.cast(images, tf.float32)

    progress.on_train_begin()
    for pass_index in range(len(record.history.get("loss", [])), total):
        progress.on_epoch_begin(pass_index)
        order, curvature_digits = pass_digits(config.seed, pass_index, size)
        step_sizes = trainer.step_sizes(
            digits(curvature_digits, -1 - pass_index), eta(recipe.learning_rate, pass_index + 1)
        )
        loss_sum, correct = 0.0, 0
        for chunk in range(chunks):
            indices = order[chunk * CHUNK : (chunk + 1) * CHUNK]
            progress.on_train_batch_begin(chunk)
            chunk_loss, chunk_correct = trainer.train_chunk(
                digits(indices, pass_index * chunks + chunk),
                tf.constant(split.y_train[indices].astype(np.int32)),
                step_sizes,
            )
            loss_sum, correct = loss_sum + float(chunk_loss), correct + int(chunk_correct)
            seen = chunk * CHUNK + len(indices)
            if not math.isfinite(loss_sum):
                if checkpoint_dir is not None:  # the same config would diverge again: nothing to resume
                    shutil.rmtree(checkpoint_dir, ignore_errors=True)
                raise TrainingError(f"training stopped: the loss became {loss_sum} in pass {pass_index + 1} of {total}")
            progress.on_train_batch_end(chunk, {"loss": loss_sum / seen, "accuracy": correct / seen})
        logs = {"loss": loss_sum / size, "accuracy": correct / size}
        if len(split.y_val):
            logs.update({f"val_{name}": value for name, value in evaluate(model, split.x_val, split.y_val).items()})
        progress.on_epoch_end(pass_index, logs)
    progress.on_train_end()
    return record.history
