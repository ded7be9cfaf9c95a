"""The training recipes: what `original` sets, the cosine schedule, and augmentation that is
deterministic and resume-exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import lenet
from lenet.config import RECIPES
from lenet.training import augment, learning_rate_schedule, training_batches


def test_original_is_a_constant_rate_and_no_augmentation(sample):
    config = lenet.TrainConfig(recipe="original", epochs=2, batch_size=100)
    assert learning_rate_schedule(config.recipe_settings, config.epochs, 10) == 1e-3
    assert not config.recipe_settings.augments
    # The batches are the training images themselves, untouched, each once per epoch, shuffled.
    x, y = sample.x_train[:300], sample.y_train[:300]
    batches = list(training_batches(x, y, config))  # 2 epochs of 3 batches
    epochs = [batches[:3], batches[3:]]
    for epoch in epochs:
        images = np.concatenate([batch_images.numpy()[..., 0] for batch_images, _ in epoch])
        labels = np.concatenate([batch_labels.numpy() for _, batch_labels in epoch])
        order = [
            next(i for i in range(300) if (x[i] == image).all() and y[i] == label)
            for image, label in zip(images, labels, strict=True)
        ]
        assert sorted(order) == list(range(300)) and order != sorted(order)
    assert not np.array_equal(epochs[0][0][0].numpy(), epochs[1][0][0].numpy())  # another order each epoch
    other_seed = next(iter(training_batches(x, y, dataclasses.replace(config, seed=1))))[0]
    assert not np.array_equal(other_seed.numpy(), epochs[0][0][0].numpy())  # and for each seed


def test_the_default_recipe_decays_to_zero_and_augments():
    recipe = lenet.TrainConfig().recipe_settings
    schedule = learning_rate_schedule(recipe, epochs=10, steps_per_epoch=860)
    peak = recipe.learning_rate
    assert float(schedule(0)) == pytest.approx(peak if not recipe.warmup_epochs else 0.0)
    assert float(schedule(10 * 860)) == pytest.approx(0.0, abs=1e-9)
    assert max(float(schedule(step)) for step in range(0, 8600, 43)) == pytest.approx(peak, rel=1e-3)
    assert recipe.augments


def test_warm_up_rises_to_the_peak_then_decays():
    recipe = RECIPES["cosine-2e-3-warmup"]
    schedule = learning_rate_schedule(recipe, epochs=10, steps_per_epoch=100)
    rates = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(1e-3) and rates[2] == pytest.approx(2e-3)
    assert rates[3] == pytest.approx(1e-3, rel=1e-3) and rates[4] == pytest.approx(0.0, abs=1e-9)


def test_a_learning_rate_overrides_the_recipes_peak():
    assert lenet.TrainConfig(recipe="cosine", learning_rate=0.01).recipe_settings.learning_rate == 0.01
    with pytest.raises(lenet.ConfigError, match="recipe must be one of original"):
        lenet.TrainConfig(recipe="fancy")


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    rows, columns = np.indices(image.shape)
    return np.array([(rows * image).sum(), (columns * image).sum()]) / image.sum()


def test_shifts_move_the_ink_by_at_most_the_recipes_pixels(sample):
    recipe = RECIPES["shift"]
    images = sample.x_train[:64]
    moved = augment(images[..., np.newaxis], tf.constant([3, 4], tf.int64), recipe).numpy()[..., 0]
    assert moved.dtype == np.uint8 and moved.shape == images.shape
    offsets = np.array(
        [centre_of_mass(b.astype(float)) - centre_of_mass(a.astype(float)) for a, b in zip(images, moved, strict=True)]
    )
    assert np.abs(offsets).max() <= recipe.shift + 0.25  # bilinear resampling blurs a little
    assert np.abs(offsets).mean() > 0.5  # and they do move, in both directions
    assert (offsets > 0.3).any() and (offsets < -0.3).any()
    ink = moved.astype(float).sum(axis=(1, 2)) / images.astype(float).sum(axis=(1, 2))
    assert np.all(np.abs(ink - 1) < 0.05)  # nothing is cut off at the borders


def test_augmentation_depends_only_on_the_seed_and_the_step(sample):
    images = tf.constant(sample.x_train[:32, ..., np.newaxis])
    recipe = RECIPES["affine"]
    first = augment(images, tf.constant([42, 7], tf.int64), recipe).numpy()
    np.testing.assert_array_equal(first, augment(images, tf.constant([42, 7], tf.int64), recipe).numpy())
    assert (first != augment(images, tf.constant([42, 8], tf.int64), recipe).numpy()).any()


def test_a_resumed_pipeline_gives_the_same_distorted_batches(sample):
    config = lenet.TrainConfig(recipe="affine", epochs=3, batch_size=100)
    x, y = sample.x_train[:300], sample.y_train[:300]
    whole = [images.numpy() for images, _ in training_batches(x, y, config)]
    resumed = [images.numpy() for images, _ in training_batches(x, y, config, first_epoch=2)]
    assert len(whole) == 9 and len(resumed) == 3
    for mine, theirs in zip(resumed, whole[6:], strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_results_record_the_recipe_by_name_and_settings(trained_on_sample):
    _, results, _ = trained_on_sample
    config = lenet.TrainConfig()
    assert results["config"]["recipe"] == config.recipe
    assert results["recipe"] == {
        "name": "shift-2e-3",
        "learning_rate": 0.002,
        "schedule": "cosine",
        "warmup_epochs": 0.0,
        "shift": 2,
        "rotation": 0.0,
        "zoom": 0.0,
        "squeeze": 0.0,
        "shear": 0.0,
        "epochs": None,
        "validation_size": None,
        "optimizer": "adam",
    }
