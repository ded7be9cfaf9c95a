import numpy as np
import pytest

import lenet

HISTORY = {
    "loss": [0.9, 0.5, 0.3],
    "accuracy": [0.7, 0.85, 0.9],
    "val_loss": [0.6, 0.45, 0.4],
    "val_accuracy": [0.8, 0.86, 0.88],
}


def test_history_plot_has_accuracy_and_loss_train_vs_validation():
    figure = lenet.plot_history(HISTORY)
    accuracy, loss = figure.axes
    for axes, metric in ((accuracy, "accuracy"), (loss, "loss")):
        assert axes.get_xlabel() == "epoch" and axes.get_ylabel() == metric
        train, validation = axes.get_lines()
        assert [train.get_label(), validation.get_label()] == ["train", "validation"]
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), HISTORY[metric])
        np.testing.assert_array_equal(validation.get_ydata(), HISTORY[f"val_{metric}"])
        assert [text.get_text() for text in axes.get_legend().get_texts()] == ["train", "validation"]


def test_digit_grid_titles_each_image_with_its_label(sample):
    figure = lenet.plot_digits(sample.x_train, sample.y_train, count=10, columns=5)
    shown = [axes for axes in figure.axes if axes.images]
    assert len(shown) == 10
    assert [axes.get_title() for axes in shown] == [str(label) for label in sample.y_train[:10]]


NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def test_class_names_title_the_images_and_label_the_axes(sample):
    figure = lenet.plot_digits(sample.x_train, sample.y_train, count=4, columns=4, class_names=NAMES)
    assert [axes.get_title() for axes in figure.axes if axes.images] == [NAMES[i] for i in sample.y_train[:4]]
    matrix = lenet.confusion_matrix(sample.y_test, sample.y_test)
    axes = lenet.plot_confusion_matrix(matrix, class_names=NAMES).axes[0]
    assert [label.get_text() for label in axes.get_xticklabels()] == list(NAMES)
    assert [label.get_text() for label in axes.get_yticklabels()] == list(NAMES)
    assert axes.get_xlabel() == "predicted class"
    bars = lenet.plot_per_class_accuracy(lenet.per_class_accuracy(matrix), class_names=NAMES).axes[0]
    assert [label.get_text() for label in bars.get_xticklabels()] == list(NAMES)


def test_misclassified_titles_are_true_predicted_and_confidence(sample):
    probabilities = np.full((3, 10), 0.01)
    probabilities[[0, 1, 2], [3, 5, 7]] = 0.91
    labels = np.array([1, 2, 3])
    for class_names, expected in ((None, ["3→7 91%", "1→3 91%"]), (NAMES, ["three→seven 91%", "one→three 91%"])):
        figure = lenet.plot_misclassified(sample.x_test[:3], labels, probabilities, [2, 0], class_names=class_names)
        assert [axes.get_title() for axes in figure.axes if axes.images] == expected


def test_confusion_plot_shows_every_count_and_digit_class_names_leave_it_as_it_was(sample):
    digits = tuple(str(label) for label in range(10))
    matrix = lenet.confusion_matrix(sample.y_test, np.roll(sample.y_test, 1))
    plain, named = (lenet.plot_confusion_matrix(matrix, class_names=names).axes[0] for names in (None, digits))
    assert [text.get_text() for text in plain.texts] == [str(count) for count in matrix.ravel()]
    assert (
        (named.get_xlabel(), named.get_ylabel())
        == (plain.get_xlabel(), plain.get_ylabel())
        == ("predicted digit", "true digit")
    )
    assert [t.get_text() for t in named.get_xticklabels()] == [t.get_text() for t in plain.get_xticklabels()]


def test_per_class_plot_has_one_bar_per_class():
    figure = lenet.plot_per_class_accuracy(np.array([0.99, 0.95, 1.0]))
    assert [bar.get_height() for bar in figure.axes[0].patches] == pytest.approx([99.0, 95.0, 100.0])


def test_prediction_figure_shows_input_model_view_and_probabilities(sample):
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    image = np.full((60, 40), 255, dtype=np.uint8)
    figure = lenet.plot_prediction(image, sample.x_test[0], probabilities, title="seven.png")
    original, seen, bars = figure.axes
    assert original.images[0].get_array().shape == (60, 40)
    assert seen.images[0].get_array().shape == (28, 28)
    np.testing.assert_allclose([patch.get_height() for patch in bars.patches], probabilities)
    assert bars.get_title() == "predicted 7 (82.0%)" and figure.get_suptitle() == "seven.png"


def activations(model, images, name: str) -> np.ndarray:
    """A layer's output, computed by calling the model's layers one after another (lenet.plots asks Keras)."""
    x = images[..., np.newaxis]
    for layer in model.layers:
        x = layer(x, training=False)
        if layer.name == name:
            return np.asarray(x)
    raise KeyError(name)


@pytest.fixture(scope="module")
def shipped():
    return lenet.load_model()


def test_filter_plot_draws_each_of_c1s_kernels(shipped):
    panels = [axes for axes in lenet.plot_filters(shipped).axes if axes.images]
    kernels = shipped.get_layer("c1").get_weights()[0]
    assert len(panels) == 6
    for index, axes in enumerate(panels):
        np.testing.assert_array_equal(axes.images[0].get_array(), kernels[:, :, 0, index])


def test_feature_maps_are_the_models_own_activations(shipped, sample):
    digit = sample.x_test[0]
    figure = lenet.plot_feature_maps(shipped, digit)
    assert sum(bool(axes.images) for axes in figure.axes) == 1 + 6 + 6 + 16 + 16  # the input, then the maps
    grid = np.array(figure.axes).reshape(4, 17)
    np.testing.assert_array_equal(grid[0, 0].images[0].get_array(), digit)
    for row, name in enumerate(("c1", "s2", "c3", "s4")):
        expected = activations(shipped, digit[np.newaxis], name)[0]
        shown = [axes.images[0].get_array() for axes in grid[row, 1:] if axes.images]
        assert len(shown) == expected.shape[-1]
        for channel, image in enumerate(shown):
            np.testing.assert_allclose(image, expected[..., channel], rtol=1e-5, atol=1e-6)
        assert expected.max() > 0  # a real digit excites every layer somewhere


def test_top_activations_show_the_digits_that_excite_each_unit_most(shipped, sample):
    images = sample.x_test[:300]
    units = [0, 5, 7]
    figure = lenet.plot_top_activations(shipped, images, layer="c5", units=units, count=3)
    panels = [axes for axes in figure.axes if axes.images]
    assert len(panels) == 9
    responses = activations(shipped, images, "c5").reshape(len(images), -1)
    for row, unit in enumerate(units):
        strongest = np.argsort(-responses[:, unit], kind="stable")[:3]
        for axes, index in zip(panels[row * 3 : row * 3 + 3], strongest, strict=True):
            np.testing.assert_array_equal(axes.images[0].get_array(), images[index])


def test_top_activations_skip_units_that_no_image_excites(shipped, sample):
    images = sample.x_test[:300]
    responses = activations(shipped, images, "c5").reshape(len(images), -1)
    alive = [unit for unit in range(responses.shape[1]) if responses[:, unit].max() > 0]
    assert len(alive) < responses.shape[1]  # the shipped model has dead units: the test means something
    panels = [axes for axes in lenet.plot_top_activations(shipped, images, count=2).axes if axes.images]
    assert [axes.get_ylabel() for axes in panels[::2]] == [f"C5 unit {unit}" for unit in alive[:4]]
