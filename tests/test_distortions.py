"""The 1998 paper's distortions in `augment`: squeezing and horizontal shearing, folded into its one affine transform;
zero ranges leave every existing recipe's distortions exactly as they were."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lenet.config import DISTORTIONS_1998, RECIPES, Recipe
from lenet.training import augment

CENTRE = 13.5  # of a 28x28 image, where augment's transforms are centred
SEED = tf.constant([42, 7], tf.int64)


def ink_columns(row: np.ndarray) -> float:
    """The x centre of mass of one row's ink."""
    return float((np.arange(len(row)) * row).sum() / row.sum())


def test_shear_alone_moves_a_horizontal_bars_pixels_along_x_in_proportion_to_their_height():
    bars = np.zeros((64, 28, 28, 1), np.uint8)
    bars[:, (5, 22), 8:20] = 255  # two bars, 8.5 rows above and below the centre
    sheared = augment(bars, SEED, Recipe(1e-3, shear=0.2)).numpy()[..., 0].astype(float)
    assert (sheared.sum(axis=2) > 0).sum(axis=1).tolist() == [2] * 64  # no row gains or loses ink: x moves only
    slopes = []
    for image in sheared:
        top, bottom = (ink_columns(image[row]) - ink_columns(bars[0, row, :, 0].astype(float)) for row in (5, 22))
        slope = bottom / (22 - CENTRE)
        assert top == pytest.approx(slope * (5 - CENTRE), abs=0.1)  # dx = h * (y - centre), one h per image
        slopes.append(slope)
    assert max(np.abs(slopes)) <= 0.2 + 0.01 and min(slopes) < -0.1 and max(slopes) > 0.1  # within range, both ways


def spread(image: np.ndarray, axis: int) -> float:
    """The standard deviation of the ink's coordinate along `axis` (0: y, 1: x)."""
    weights = image.sum(axis=1 - axis)
    position = np.arange(len(weights))
    mean = (position * weights).sum() / weights.sum()
    return math.sqrt(((position - mean) ** 2 * weights).sum() / weights.sum())


def test_squeeze_alone_widens_and_narrows_along_x_and_does_the_opposite_along_y():
    rows, columns = np.indices((28, 28))
    blob = 255 * np.exp(-((rows - CENTRE) ** 2 + (columns - CENTRE) ** 2) / (2 * 3.0**2))  # smooth: little blur
    images = np.repeat(blob.round().astype(np.uint8)[np.newaxis, ..., np.newaxis], 64, axis=0)
    squeezed = augment(images, SEED, Recipe(1e-3, squeeze=0.2)).numpy()[..., 0].astype(float)
    before = [spread(images[0, ..., 0].astype(float), axis) for axis in (0, 1)]
    widths = []
    for image in squeezed:
        height, width = (spread(image, axis) / before[axis] for axis in (0, 1))
        assert width * height == pytest.approx(1.0, abs=0.04)  # x by k, y by 1/k (resampling blurs a little)
        widths.append(width)
    assert 0.8 <= min(widths) < 0.9 and 1.1 < max(widths) <= 1.2 + 0.03  # both ways, within the range


def todays_augment(images: tf.Tensor, seed: tf.Tensor, recipe: Recipe) -> tf.Tensor:
    """augment as it was before squeeze and shear (commit 1cf61a5), verbatim, to compare against."""
    uniform = tf.random.stateless_uniform([tf.shape(images)[0], 4], seed=seed, minval=-1.0, maxval=1.0)
    shift_x, shift_y = uniform[:, 0] * recipe.shift, uniform[:, 1] * recipe.shift
    angle = uniform[:, 2] * (recipe.rotation * math.pi / 180)
    inverse_scale = 1.0 / (1.0 + uniform[:, 3] * recipe.zoom)
    a0, a1 = inverse_scale * tf.cos(angle), -inverse_scale * tf.sin(angle)
    b0, b1 = inverse_scale * tf.sin(angle), inverse_scale * tf.cos(angle)
    centre_x, centre_y = (images.shape[2] - 1) / 2, (images.shape[1] - 1) / 2
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, tf.zeros_like(a0), tf.zeros_like(a0)], axis=1)
    moved = keras.ops.image.affine_transform(tf.cast(images, tf.float32), transforms, data_format="channels_last")
    return tf.cast(tf.clip_by_value(tf.round(moved), 0, 255), tf.uint8)


@pytest.mark.parametrize(
    "name",
    [name for name, recipe in sorted(RECIPES.items()) if recipe.augments and not (recipe.squeeze or recipe.shear)],
)
def test_without_squeeze_and_shear_every_recipe_distorts_exactly_as_before(name, sample):
    recipe = RECIPES[name]
    assert (recipe.squeeze, recipe.shear) == (0.0, 0.0)
    images = tf.constant(sample.x_train[:256, ..., np.newaxis])
    for step in (0, 1, 859):
        seed = tf.constant([42, step], tf.int64)
        np.testing.assert_array_equal(
            augment(images, seed, recipe).numpy(), todays_augment(images, seed, recipe).numpy()
        )


def test_the_paper_distortions_depend_only_on_the_seed_and_the_step(sample):
    recipe = Recipe(1e-3, **DISTORTIONS_1998)
    assert recipe.augments and Recipe(1e-3, squeeze=0.1).augments and Recipe(1e-3, shear=0.1).augments
    images = tf.constant(sample.x_train[:32, ..., np.newaxis])
    first = augment(images, SEED, recipe).numpy()
    np.testing.assert_array_equal(first, augment(images, SEED, recipe).numpy())
    assert (first != augment(images, tf.constant([42, 8], tf.int64), recipe).numpy()).any()
    assert (first != augment(images, tf.constant([43, 7], tf.int64), recipe).numpy()).any()
    only_shift = Recipe(1e-3, shift=DISTORTIONS_1998["shift"])
    assert (first != augment(images, SEED, only_shift).numpy()).any()  # the squeeze and shear do act
