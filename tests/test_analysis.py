import numpy as np

import lenet

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2])


def test_confusion_matrix_rows_are_truth_columns_predictions():
    matrix = lenet.confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.shape == (10, 10) and matrix.sum() == len(Y_TRUE)  # every digit has its row, seen or not
    np.testing.assert_array_equal(matrix[:3, :3], [[1, 1, 0], [0, 2, 0], [1, 0, 2]])


def test_per_class_accuracy_is_recall_and_nan_for_absent_classes():
    accuracy = lenet.per_class_accuracy(lenet.confusion_matrix(Y_TRUE, Y_PRED))
    np.testing.assert_allclose(accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(accuracy[3])


def test_misclassified_lists_mistakes_most_confident_first():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    assert lenet.misclassified(np.array([0, 0, 0, 1]), probabilities).tolist() == [1, 3, 2]
