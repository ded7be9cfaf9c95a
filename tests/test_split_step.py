"""Every training step takes its batch's gradient as two fixed halves (issue 31): what it computes, for any
batch size, and that a trained model stays a plain Keras model."""

import dataclasses
import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import lenet
from lenet.training import split_train_step, use_split_step


def sgd_model(seed: int = 0) -> keras.Model:
    """LeNet-5 under plain SGD at rate 1, so a step moves each weight by exactly minus its gradient."""
    lenet.set_seed(seed)
    model = lenet.build_lenet5()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def summed_loss_gradient(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    with tf.GradientTape() as tape:
        total = loss(labels, model(images, training=True))
    return [gradient.numpy() for gradient in tape.gradient(total, model.trainable_weights)]


@pytest.mark.parametrize("size", [7, 8, 1])
def test_a_step_adds_the_two_halves_gradients_and_divides_by_the_batch_size(sample, size):
    images, labels = sample.x_train[:size, ..., np.newaxis], sample.y_train[:size].astype(np.int32)
    model, reference = sgd_model(), sgd_model()
    before = [weight.numpy() for weight in reference.trainable_weights]
    first = size // 2  # floor(n/2), then ceil(n/2); a batch of one is not split
    bounds = ((0, first), (first, size)) if size > 1 else ((0, 1),)
    halves = [summed_loss_gradient(reference, images[a:b], labels[a:b]) for a, b in bounds]
    if size == 1:
        halves.insert(0, [np.zeros_like(gradient) for gradient in halves[0]])
    logs = split_train_step(model, (tf.constant(images), tf.constant(labels)))
    for weight, start, a, b in zip(model.trainable_weights, before, *halves, strict=True):
        np.testing.assert_array_equal(weight.numpy(), start - (a + b) / np.float32(size))
    mean_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, reference(images))
    assert float(logs["loss"]) == pytest.approx(float(mean_loss), rel=1e-6)


def test_fit_trains_with_the_split_step_and_the_saved_model_stays_a_plain_sequential(trained_on_sample, tmp_path):
    output_dir, _results, _printed = trained_on_sample
    with zipfile.ZipFile(output_dir / "lenet5.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    model = keras.saving.load_model(output_dir / "lenet5.keras", safe_mode=True)
    assert type(model) is keras.Sequential and "train_step" not in vars(model)
    # fit sets the step on the model it trains, and only there.
    split = lenet.split_validation(lenet.load_mnist("sample"), 400)
    config = lenet.TrainConfig(epochs=1)
    trained = lenet.compiled_lenet5(config, split)
    lenet.fit(trained, split, config, verbose=0)
    assert trained.train_step.func is split_train_step and trained.train_step.args == (trained,)
    assert "train_step" not in vars(lenet.build_lenet5())


def test_a_new_step_is_traced_on_the_next_fit(sample):
    model = sgd_model()
    images, labels = sample.x_train[:8, ..., np.newaxis], sample.y_train[:8].astype(np.int32)
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)  # Keras's own step, traced and cached
    assert model.train_function is not None
    use_split_step(model)
    assert model.train_function is None


def test_an_epoch_whose_last_batch_is_one_image_trains(sample):
    split = lenet.split_validation(sample, 400)
    split = dataclasses.replace(split, x_train=split.x_train[:129], y_train=split.y_train[:129])  # 64 + 64 + 1
    config = lenet.TrainConfig(epochs=1)
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    history = lenet.fit(model, split, config, verbose=0)
    assert np.isfinite(history["loss"][0]) and all(np.isfinite(w.numpy()).all() for w in model.weights)
