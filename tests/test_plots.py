import numpy as np

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


def test_misclassified_titles_use_class_names(sample):
    probabilities = np.full((3, 10), 0.05)
    probabilities[:, 7] = 0.55
    labels = np.array([1, 2, 7])
    figure = lenet.plot_misclassified(sample.x_test[:3], labels, probabilities, [0, 1], class_names=NAMES)
    assert [axes.get_title() for axes in figure.axes if axes.images] == ["one→seven 55%", "two→seven 55%"]


def test_digit_class_names_leave_mnist_plots_as_they_were(sample):
    digits = tuple(str(label) for label in range(10))
    matrix = lenet.confusion_matrix(sample.y_test, sample.y_test)
    plain, named = (lenet.plot_confusion_matrix(matrix, class_names=names).axes[0] for names in (None, digits))
    assert named.get_xlabel() == plain.get_xlabel() == "predicted digit"
    assert [t.get_text() for t in named.get_xticklabels()] == [t.get_text() for t in plain.get_xticklabels()]


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
