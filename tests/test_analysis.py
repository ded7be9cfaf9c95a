import numpy as np
import pytest

import lenet

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2])


def test_confusion_matrix_rows_are_truth_columns_predictions():
    matrix = lenet.confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert matrix.sum() == len(Y_TRUE)


def test_per_class_accuracy_is_recall_and_nan_for_absent_classes():
    accuracy = lenet.per_class_accuracy(lenet.confusion_matrix(Y_TRUE, Y_PRED, num_classes=4))
    np.testing.assert_allclose(accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(accuracy[3])


def test_misclassified_lists_mistakes_most_confident_first():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    assert lenet.misclassified(np.array([0, 0, 0, 1]), probabilities).tolist() == [1, 3, 2]


def test_confusion_plot_shows_every_count_and_labels_axes():
    matrix = lenet.confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    (axes, _colorbar) = lenet.plot_confusion_matrix(matrix).axes
    assert [text.get_text() for text in axes.texts] == [str(count) for count in matrix.ravel()]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("predicted digit", "true digit")


def test_per_class_plot_has_one_bar_per_class():
    figure = lenet.plot_per_class_accuracy(np.array([0.99, 0.95, 1.0]))
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights == pytest.approx([99.0, 95.0, 100.0])


def test_misclassified_grid_titles_true_predicted_and_confidence(sample):
    probabilities = np.full((3, 10), 0.01)
    probabilities[[0, 1, 2], [3, 5, 7]] = 0.91
    figure = lenet.plot_misclassified(sample.x_test[:3], np.array([1, 2, 3]), probabilities, [2, 0])
    titles = [axes.get_title() for axes in figure.axes if axes.images]
    assert titles == ["3→7 91%", "1→3 91%"]
