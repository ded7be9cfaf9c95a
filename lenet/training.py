"""Seeding, input pipelines, compiling, fitting and evaluating: one code path for all callers."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lenet.checkpoint import Checkpoint, CheckpointEveryEpoch, remove_checkpoint, training_fingerprint
from lenet.config import Recipe, TrainConfig, TrainingError
from lenet.data import ALIGNMENT, Split
from lenet.progress import EpochTimer

# Evaluation batch size: large for speed; it changes nothing but summation order.
EVALUATION_BATCH_SIZE = 1024


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic.

    With both, two runs with the same seed on the same machine give identical numbers.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def learning_rate_schedule(
    recipe: Recipe, epochs: int, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The recipe's learning rate: a constant, or a cosine from its peak to 0 at the last step.

    Keras's schedules count the optimizer's steps, which the checkpoint saves with Adam's
    state, so a resumed run continues on the same curve.
    """
    if recipe.schedule == "constant":
        return recipe.learning_rate
    total = epochs * steps_per_epoch
    warmup = round(recipe.warmup_epochs * steps_per_epoch)
    if warmup:
        return keras.optimizers.schedules.CosineDecay(
            0.0, total - warmup, warmup_target=recipe.learning_rate, warmup_steps=warmup
        )
    return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, total)


def compile_with_recipe(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    """Compile with the recipe: Adam on its learning-rate schedule, cross-entropy on logits, accuracy.

    `steps_per_epoch` sets where a decaying schedule ends and how many steps run per
    execution. With `config.mixed_precision` (a model built with it) the optimizer gets
    dynamic loss scaling, so small float16 gradients do not flush to zero (Keras adds it only
    for a model-wide policy, and ours is per layer).
    """
    schedule = learning_rate_schedule(config.recipe_settings, config.epochs, steps_per_epoch)
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    if config.mixed_precision:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    # Keras 3.15 cannot run several steps per execution under a multi-replica strategy
    # (its multi-step loop fails to feed a placeholder), so replicated models take one.
    replicated = model.distribute_strategy.num_replicas_in_sync > 1
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=1 if replicated else steps_per_execution(steps_per_epoch),
    )
    return model


def epoch_orders(size: int, seed: int, first_epoch: int, epochs: int) -> np.ndarray:
    """One shuffled order per epoch, int32 (epochs - first_epoch, size).

    Epoch e's order depends only on (seed, e), so a run resumed at epoch e sees exactly
    the batches an uninterrupted run would.
    """
    return np.stack(
        [np.random.default_rng([seed, epoch]).permutation(size) for epoch in range(first_epoch, epochs)]
    ).astype(np.int32)


def shared_tensor(array: np.ndarray) -> tf.Tensor:
    """`array` as a tensor that shares its memory if TensorFlow allows it, else a copy.

    TensorFlow can use a writeable, C-contiguous array that starts on a 64-byte boundary in
    place (through DLPack); `load_mnist` returns such arrays. Anything else, such as a
    read-only or memory-mapped array, is copied (about twice the bytes, but it trains).
    """
    if array.flags.c_contiguous and array.flags.writeable and array.ctypes.data % ALIGNMENT == 0:
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (BufferError, TypeError, ValueError):  # an exporter that refuses: copy instead
            pass
    return tf.constant(array)


def augment(images: tf.Tensor, seed: tf.Tensor, recipe: Recipe) -> tf.Tensor:
    """Shift, rotate and scale each uint8 image (B, 28, 28, 1) at random, as `recipe` allows.

    The randomness is a pure function of `seed` (shape (2,)), where Keras's RandomTranslation
    and RandomRotation draw from a generator's state: so a batch's distortion depends only on
    (the run's seed, the batch's step), and a resumed run sees exactly the same batches.
    """
    size = tf.shape(images)[0]
    uniform = tf.random.stateless_uniform([size, 4], seed=seed, minval=-1.0, maxval=1.0)
    shift_x, shift_y = uniform[:, 0] * recipe.shift, uniform[:, 1] * recipe.shift
    angle = uniform[:, 2] * (recipe.rotation * math.pi / 180)
    inverse_scale = 1.0 / (1.0 + uniform[:, 3] * recipe.zoom)
    # Each output pixel (x, y) samples the input at A (x, y) + b: rotation and scale about the
    # image centre, then the shift.
    a0, a1 = inverse_scale * tf.cos(angle), -inverse_scale * tf.sin(angle)
    b0, b1 = inverse_scale * tf.sin(angle), inverse_scale * tf.cos(angle)
    height, width = images.shape[1], images.shape[2]
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(images, tf.float32),
        transforms=transforms,
        output_shape=[height, width],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.cast(tf.clip_by_value(tf.round(moved), 0, 255), tf.uint8)


def training_batches(x: np.ndarray, y: np.ndarray, config: TrainConfig, first_epoch: int = 0) -> tf.data.Dataset:
    """Shuffled (images uint8 (B, 28, 28, 1), labels int32 (B,)) batches for every remaining epoch.

    Images stay uint8 (a quarter of float32's memory) and the model scales them; batches
    are gathered by index from the caller's images, shared with TensorFlow where possible,
    so no epoch builds a shuffled copy and, usually, TensorFlow no copy of the data. With an
    augmenting recipe each batch is distorted by `augment`, seeded by (seed, global step).
    """
    images = shared_tensor(x[..., np.newaxis])
    labels = tf.constant(y.astype(np.int32))
    orders = epoch_orders(len(y), config.seed, first_epoch, config.epochs)
    batched_indices = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(config.batch_size)
    )
    recipe = config.recipe_settings
    first_step = first_epoch * steps_per_epoch(len(y), config.batch_size)

    def batch(step: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch_images = tf.gather(images, index)
        if recipe.augments:
            batch_images = augment(batch_images, tf.stack([tf.constant(config.seed, tf.int64), step]), recipe)
        return batch_images, tf.gather(labels, index)

    batches = batched_indices.enumerate(start=first_step).map(
        batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def evaluation_batches(x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
    """Batches of a fixed evaluation set in order: images uint8 (B, 28, 28, 1), labels int32."""
    images = shared_tensor(x[..., np.newaxis])  # e.g. the validation images, without a copy
    dataset = tf.data.Dataset.from_tensor_slices((images, tf.constant(y.astype(np.int32))))
    return dataset.batch(EVALUATION_BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


class EpochRecord(EpochTimer):
    """The per-epoch history as Keras logs it, plus wall-clock seconds (training + validation).

    It can start from the history of a checkpoint, so a resumed run reports every epoch.
    """

    def __init__(self, history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {name: list(values) for name, values in (history or {}).items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.history.setdefault("seconds", []).append(round(self.seconds(), 3))


def steps_per_epoch(size: int, batch_size: int) -> int:
    return -(-size // batch_size)


# Batches run per call into TensorFlow at most. Each call costs a Python round trip and
# callback dispatch, for LeNet-5 some 60% of the step itself; see benchmarks/README.md.
MAX_STEPS_PER_EXECUTION = 100


def steps_per_execution(steps: int, limit: int = MAX_STEPS_PER_EXECUTION) -> int:
    """The largest divisor of `steps` (an epoch's steps) that is at most `limit`.

    A divisor, so every execution ends inside one epoch and epoch boundaries, validation
    and per-epoch callbacks fall exactly where they do with one step per execution.
    """
    return max(divisor for divisor in range(1, min(steps, limit) + 1) if steps % divisor == 0)


def fit(
    model: keras.Model,
    split: Split,
    config: TrainConfig,
    verbose: str | int = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> dict[str, list[float]]:
    """Train a compiled model, validating after every epoch; return the per-epoch history.

    The history has loss, accuracy, val_loss, val_accuracy and seconds (per epoch). With a
    `checkpoint_dir`, every completed epoch is saved there and a later call with the same
    config and data resumes after the last saved epoch, with identical numbers; the
    checkpoint stays until `save_artifacts` writes the run's results (or the loss turns NaN).
    A NaN or infinite loss stops training with a TrainingError.
    """
    checkpoint = None
    record = EpochRecord()
    if checkpoint_dir is not None:
        checkpoint = Checkpoint(checkpoint_dir, config, training_fingerprint(split))
        record = EpochRecord(checkpoint.restore(model))
    first_epoch = len(record.history.get("loss", []))
    own_callbacks = [record, keras.callbacks.TerminateOnNaN()]
    if checkpoint is not None:
        own_callbacks.append(CheckpointEveryEpoch(checkpoint, record.history))
    steps = steps_per_epoch(len(split.y_train), config.batch_size)
    if first_epoch < config.epochs:
        model.fit(
            training_batches(split.x_train, split.y_train, config, first_epoch=first_epoch),
            validation_data=evaluation_batches(split.x_val, split.y_val),
            epochs=config.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=steps,
            callbacks=[*own_callbacks, *(callbacks or [])],
            shuffle=False,  # training_batches already shuffles, reproducibly
            verbose=verbose,
        )
    losses = record.history.get("loss", [])
    if not all(math.isfinite(loss) for loss in losses):  # TerminateOnNaN stopped it mid-epoch
        if checkpoint is not None:
            remove_checkpoint(checkpoint.directory)  # the same config would diverge again
        raise TrainingError(
            f"training stopped: the loss became {losses[-1]} in epoch "
            f"{len(losses)} of {config.epochs} (learning_rate={config.recipe_settings.learning_rate:g}); "
            "lower the learning rate"
        )
    return record.history


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy of a compiled model on (x, y); call it on the test set once."""
    results = model.evaluate(evaluation_batches(x, y), verbose=0, return_dict=True)
    return {"loss": float(results["loss"]), "accuracy": float(results["accuracy"])}


def predict_probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Class probabilities float32 (N, 10) for uint8 images (N, 28, 28).

    One call of a traced function per 1,024 images. `model.predict` builds a dataset and an
    iterator on every call, some 20 ms, which is most of the time for one image (a demo, or
    `lenet predict`); the traced function computes the same: the model, then softmax.
    """
    images = np.asarray(x)[..., np.newaxis]
    probabilities = probability_function(model, images.dtype)
    batches = [
        probabilities(images[start : start + EVALUATION_BATCH_SIZE]).numpy()
        for start in range(0, len(images), EVALUATION_BATCH_SIZE)
    ]
    return np.concatenate(batches) if batches else np.zeros((0, model.output_shape[-1]), np.float32)


# model -> {input dtype: its traced softmax(model(images))}; an entry goes with its model.
_PROBABILITY_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def probability_function(model: keras.Model, dtype: np.dtype) -> Callable[[np.ndarray], tf.Tensor]:
    """softmax(model(images)) traced once for images of `dtype` and any batch size.

    A concrete function with a fixed signature: a call skips tf.function's argument
    matching, and no batch size traces it again. It holds the model weakly.
    """
    functions = _PROBABILITY_FUNCTIONS.setdefault(model, {})
    if dtype not in functions:
        reference = weakref.ref(model)
        signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.as_dtype(dtype))
        functions[dtype] = tf.function(
            lambda images: tf.nn.softmax(reference()(images, training=False)), input_signature=[signature]
        ).get_concrete_function()
    return functions[dtype]
