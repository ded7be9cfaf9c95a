import pytest

import lenet
from lenet.training import epoch_orders


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


def test_saved_model_takes_raw_images_and_agrees(trained_on_sample, sample):
    import keras
    import numpy as np

    output_dir, results, _ = trained_on_sample
    model = keras.models.load_model(output_dir / "lenet5.keras", safe_mode=True)
    predicted = lenet.predict_probabilities(model, sample.x_test).argmax(axis=1)
    assert np.mean(predicted == sample.y_test) == pytest.approx(results["test"]["accuracy"], abs=1e-6)


def test_predict_probabilities_equals_keras_predict_for_one_image_or_many(trained_on_sample, sample):
    # The traced fast path computes what softmax(model.predict(...)) computed before it.
    import numpy as np
    import tensorflow as tf

    output_dir, _results, _ = trained_on_sample
    model = lenet.load_model(output_dir / "lenet5.keras")
    x = sample.x_test
    expected = tf.nn.softmax(model.predict(x[..., np.newaxis], batch_size=1024, verbose=0)).numpy()
    np.testing.assert_allclose(lenet.predict_probabilities(model, x), expected, rtol=0, atol=1e-6)
    singles = np.concatenate([lenet.predict_probabilities(model, x[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(singles, expected[:20], rtol=0, atol=1e-6)
    as_floats = lenet.predict_probabilities(model, x[:20].astype(np.float32))
    np.testing.assert_allclose(as_floats, expected[:20], rtol=0, atol=1e-6)


def test_each_epoch_has_its_own_order_that_depends_only_on_seed_and_epoch():
    orders = epoch_orders(100, seed=1, first_epoch=0, epochs=3)
    assert orders.shape == (3, 100)
    assert all(sorted(order) == list(range(100)) for order in orders)
    assert (orders[0] != orders[1]).any()
    assert (epoch_orders(100, seed=1, first_epoch=2, epochs=3)[0] == orders[2]).all()
    assert (epoch_orders(100, seed=2, first_epoch=0, epochs=1)[0] != orders[0]).any()
