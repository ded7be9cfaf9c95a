import pytest

import lenet


def test_short_training_on_the_sample_reaches_90_percent(trained_on_sample):
    _output_dir, results, _ = trained_on_sample
    assert results["test"]["accuracy"] >= 0.90
    assert len(results["history"]["val_accuracy"]) == 3


def test_run_writes_results_figure_and_model(trained_on_sample):
    output_dir, results, _ = trained_on_sample
    assert {path.name for path in output_dir.iterdir()} == {"results.json", "results.png", "lenet5.keras"}
    saved = lenet.load_results(output_dir / "results.json")
    assert saved["data"]["sizes"] == {"train": 3600, "validation": 400, "test": 1000}
    assert saved["data"]["fingerprint"] == lenet.load_mnist("sample").fingerprint
    assert saved["config"]["epochs"] == 3 and len(saved["seconds_per_epoch"]) == 3
    assert set(saved["environment"]) >= {"python", "tensorflow", "keras", "numpy", "platform"}


def test_the_saved_model_predicts_as_tested_and_the_fast_path_equals_keras_predict(trained_on_sample, sample):
    import numpy as np
    import tensorflow as tf

    output_dir, results, _ = trained_on_sample
    model = lenet.load_model(output_dir / "lenet5.keras")  # raw uint8 images in, no preprocessing
    x = np.concatenate([sample.x_test, sample.x_train[:100]])  # more than one of its 1,024-image batches
    probabilities = lenet.predict_probabilities(model, x)
    assert np.mean(probabilities[: len(sample.y_test)].argmax(axis=1) == sample.y_test) == pytest.approx(
        results["test"]["accuracy"], abs=1e-6
    )
    # The traced fast path computes what softmax(model.predict(...)) computes, for one image or many.
    expected = tf.nn.softmax(model.predict(x[..., np.newaxis], batch_size=1024, verbose=0)).numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
    singles = np.concatenate([lenet.predict_probabilities(model, x[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(singles, expected[:20], rtol=0, atol=1e-6)
    as_floats = lenet.predict_probabilities(model, x[:20].astype(np.float32))
    np.testing.assert_allclose(as_floats, expected[:20], rtol=0, atol=1e-6)
