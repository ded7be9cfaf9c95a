"""Seeding, input pipelines, compiling, fitting and evaluating: one code path for every caller."""

import math
import shutil
import weakref
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras.optimizers.schedules import CosineDecay, LearningRateSchedule

from lenet.checkpoint import Checkpoint
from lenet.config import EVALUATION_BATCH_SIZE, Recipe, TrainConfig
from lenet.data import ALIGNMENT, Split
from lenet.errors import TrainingError
from lenet.progress import EpochRecord

# Batches run per call into TensorFlow at most. Each call costs a Python round trip and callback dispatch,
# for LeNet-5 some 60% of the step itself (benchmarks/README.md).
MAX_STEPS_PER_EXECUTION = 100


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make its ops deterministic: identical numbers on the same machine."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def steps_per_epoch(size: int, batch_size: int) -> int:
    return -(-size // batch_size)


def steps_per_execution(steps: int) -> int:
    """The largest divisor of an epoch's `steps` up to MAX_STEPS_PER_EXECUTION, so epochs end where they do with one
    step per execution; 1 under several replicas, where Keras 3.15's multi-step loop fails to feed a placeholder."""
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        return 1
    return max(divisor for divisor in range(1, min(steps, MAX_STEPS_PER_EXECUTION) + 1) if steps % divisor == 0)


def learning_rate_schedule(recipe: Recipe, epochs: int, steps_per_epoch: int) -> float | LearningRateSchedule:
    """The recipe's learning rate: a constant, or a cosine from its peak to 0 at the last step. It counts the
    optimizer's steps, which the checkpoint saves, so a resumed run continues on the same curve."""
    if recipe.schedule == "constant":
        return recipe.learning_rate
    total, warmup = epochs * steps_per_epoch, round(recipe.warmup_epochs * steps_per_epoch)
    if warmup:
        return CosineDecay(0.0, total - warmup, warmup_target=recipe.learning_rate, warmup_steps=warmup)
    return CosineDecay(recipe.learning_rate, total)


def compile_with_recipe(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    """Compile with Adam on the recipe's schedule, cross-entropy on logits and accuracy. Mixed precision gets
    loss scaling, so small float16 gradients do not flush to zero (Keras adds it only for a model-wide policy)."""
    schedule = learning_rate_schedule(config.recipe_settings, config.resolved_epochs, steps_per_epoch)
    optimizer = keras.optimizers.Adam(schedule)
    model.compile(
        optimizer=keras.optimizers.LossScaleOptimizer(optimizer) if config.mixed_precision else optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution(steps_per_epoch),
    )
    return model


def shared_tensor(array: np.ndarray) -> tf.Tensor:
    """`array` as a tensor sharing its memory (DLPack) if it is writeable, C-contiguous and 64-byte aligned,
    as `load_mnist`'s arrays are; anything else (read-only, memory-mapped) is copied."""
    if array.flags.c_contiguous and array.flags.writeable and array.ctypes.data % ALIGNMENT == 0:
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (BufferError, TypeError, ValueError):  # an exporter that refuses: copy instead
            pass
    return tf.constant(array)


def augment(images: tf.Tensor, seed: tf.Tensor, recipe: Recipe) -> tf.Tensor:
    """Shift, rotate, scale, squeeze and shear each uint8 image (B, 28, 28, 1) at random, as a pure function of `seed`
    (2,), so a resumed run sees the same batches (Keras's RandomTranslation and RandomRotation draw from a generator's
    state). One affine transform per image, resampled once."""
    extra = bool(recipe.squeeze or recipe.shear)  # without them, the draws and arithmetic of the recipes before them
    uniform = tf.random.stateless_uniform([tf.shape(images)[0], 6 if extra else 4], seed=seed, minval=-1.0, maxval=1.0)
    shift_x, shift_y = uniform[:, 0] * recipe.shift, uniform[:, 1] * recipe.shift
    angle = uniform[:, 2] * (recipe.rotation * math.pi / 180)
    inverse_scale = 1.0 / (1.0 + uniform[:, 3] * recipe.zoom)
    # Output pixel (x, y) samples the input at A (x, y) + b: rotation and scale about the centre, then the shift.
    a0, a1 = inverse_scale * tf.cos(angle), -inverse_scale * tf.sin(angle)
    b0, b1 = inverse_scale * tf.sin(angle), inverse_scale * tf.cos(angle)
    # The paper's squeeze and horizontal shear act on the digit before the rotation and scale: A becomes
    # squeeze^-1 shear^-1 A, where the squeeze scales x by k and y by 1/k, and the shear moves x by h y.
    if recipe.shear:
        h = uniform[:, 5] * recipe.shear
        a0, a1 = a0 - h * b0, a1 - h * b1
    if recipe.squeeze:
        k = 1.0 + uniform[:, 4] * recipe.squeeze
        a0, a1, b0, b1 = a0 / k, a1 / k, b0 * k, b1 * k
    centre_x, centre_y = (images.shape[2] - 1) / 2, (images.shape[1] - 1) / 2
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, tf.zeros_like(a0), tf.zeros_like(a0)], axis=1)
    moved = keras.ops.image.affine_transform(tf.cast(images, tf.float32), transforms, data_format="channels_last")
    return tf.cast(tf.clip_by_value(tf.round(moved), 0, 255), tf.uint8)


def training_batches(x: np.ndarray, y: np.ndarray, config: TrainConfig, first_epoch: int = 0) -> tf.data.Dataset:
    """Shuffled (images uint8 (B, 28, 28, 1), labels int32 (B,)) batches of every epoch from `first_epoch` on,
    gathered by index from `x` (no shuffled copy). Epoch e's order depends only on (seed, e) and a distortion only
    on (seed, step), so a run resumed at epoch e sees exactly the batches an uninterrupted run would."""
    images, labels = shared_tensor(x[..., np.newaxis]), tf.constant(y.astype(np.int32))
    epochs = range(first_epoch, config.resolved_epochs)
    orders = [np.random.default_rng([config.seed, epoch]).permutation(len(y)) for epoch in epochs]
    batched_indices = tf.data.Dataset.from_tensor_slices(np.stack(orders).astype(np.int32)).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(config.batch_size)
    )
    recipe = config.recipe_settings

    def batch(step: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch_images = tf.gather(images, index)
        if recipe.augments:
            batch_images = augment(batch_images, tf.stack([tf.constant(config.seed, tf.int64), step]), recipe)
        return batch_images, tf.gather(labels, index)

    batches = batched_indices.enumerate(start=first_epoch * steps_per_epoch(len(y), config.batch_size))
    return batches.map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
    """Batches of a fixed evaluation set in order: images uint8 (B, 28, 28, 1), labels int32."""
    dataset = tf.data.Dataset.from_tensor_slices((shared_tensor(x[..., np.newaxis]), tf.constant(y.astype(np.int32))))
    return dataset.batch(EVALUATION_BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


def fit(
    model: keras.Model,
    split: Split,
    config: TrainConfig,
    verbose: str | int = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> dict[str, list[float]]:
    """Train a compiled model, validating after every epoch unless the split holds no validation set; return the
    history (loss, accuracy, val_loss and val_accuracy when validated, seconds). Each epoch is saved in `checkpoint_dir`,
    if given, until `save_artifacts`, and a later call with the same config and data resumes there with identical
    numbers; a NaN loss raises a TrainingError."""
    record = EpochRecord() if checkpoint_dir is None else Checkpoint(checkpoint_dir, config, split).restore(model)
    first_epoch, epochs = len(record.history.get("loss", [])), config.resolved_epochs
    validation = evaluation_batches(split.x_val, split.y_val) if len(split.y_val) else None

    def stop_on_divergence(batch: int, logs: dict) -> None:
        # Keras's TerminateOnNaN only stops fit, which then still validates and runs the epoch's callbacks.
        if not math.isfinite(loss := float(logs["loss"])):
            if checkpoint_dir is not None:  # the same config would diverge again: nothing to resume
                shutil.rmtree(checkpoint_dir, ignore_errors=True)
            raise TrainingError(
                f"training stopped: the loss became {loss} in epoch {len(record.history.get('loss', [])) + 1} of "
                f"{epochs} (learning_rate={config.recipe_settings.learning_rate:g}); lower the learning rate"
            )

    guard = keras.callbacks.LambdaCallback(on_train_batch_end=stop_on_divergence)
    if first_epoch < epochs:
        model.fit(
            training_batches(split.x_train, split.y_train, config, first_epoch=first_epoch),
            validation_data=validation,
            epochs=epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=steps_per_epoch(len(split.y_train), config.batch_size),
            callbacks=[record, guard, *(callbacks or [])],
            shuffle=False,  # training_batches already shuffles, reproducibly
            verbose=verbose,
        )
    return record.history


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy of a compiled model on (x, y); call it on the test set once."""
    results = model.evaluate(evaluation_batches(x, y), verbose=0, return_dict=True)
    return {"loss": float(results["loss"]), "accuracy": float(results["accuracy"])}


# model -> {input dtype: its traced softmax(model(images))}; an entry goes with its model.
_PROBABILITY_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def probability_function(model: keras.Model, dtype: np.dtype) -> tf.types.experimental.ConcreteFunction:
    """softmax(model(images)) traced once per model and dtype, for any batch size: what `probabilities` runs
    (`model.predict` builds a dataset and an iterator per call, some 20 ms), and what `lenet export` converts."""
    functions = _PROBABILITY_FUNCTIONS.setdefault(model, {})
    if dtype not in functions:
        reference = weakref.ref(model)  # so the cache does not keep the model alive
        signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.as_dtype(dtype))
        functions[dtype] = tf.function(
            lambda batch: tf.nn.softmax(reference()(batch, training=False)), input_signature=[signature]
        ).get_concrete_function()
    return functions[dtype]


def probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities float32 (N, 10) of a Keras model for images (N, 28, 28, 1), in evaluation batches."""
    function, size = probability_function(model, images.dtype), EVALUATION_BATCH_SIZE
    batches = [function(images[start : start + size]).numpy() for start in range(0, len(images), size)]
    return np.concatenate(batches) if batches else np.zeros((0, model.output_shape[-1]), np.float32)
