"""The LiteRT fast path: used only where it gives Keras's predictions within lenet.lite.TOLERANCE."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import lenet
from lenet import cli, lite, model_file, training
from lenet.data import file_sha256

SHIPPED_CHECK = lite.check_path(model_file.SHIPPED_LITE)


@pytest.fixture(scope="module")
def keras_model():
    lenet.set_seed(3)
    return lenet.build_lenet5()  # untrained: its probabilities are spread out, a harder check


def test_the_shipped_lite_file_is_the_shipped_weights_and_predicts_as_keras_does(sample):
    record = json.loads(SHIPPED_CHECK.read_text())
    # Re-recorded weights need `lenet export --out lenet/weights/lenet5.tflite` again.
    assert record["model_sha256"] == file_sha256(model_file.SHIPPED_WEIGHTS)
    assert record["check"]["images"] == 10_000 and lite.agrees(record["check"])  # full MNIST's test set
    expected = lenet.predict_probabilities(lenet.load_model(), sample.x_test)
    actual = lenet.predict_probabilities(model_file.shipped_lite(), sample.x_test)
    np.testing.assert_array_equal(actual.argmax(axis=1), expected.argmax(axis=1))
    np.testing.assert_allclose(actual, expected, atol=lite.TOLERANCE, rtol=0)


def test_a_converted_model_agrees_with_keras_at_every_batch_size(keras_model, sample):
    converted = lenet.to_lite(keras_model, sample.x_test)  # its check: test_export_writes_a_checked_file...
    images = sample.x_test[:7]
    whole = lenet.predict_probabilities(converted, images)
    assert whole.shape == (7, 10) and whole.dtype == np.float32
    # One at a time, after another batch size: the interpreter's tensors are resized each time.
    one_by_one = np.concatenate([lenet.predict_probabilities(converted, images[i : i + 1]) for i in range(7)])
    np.testing.assert_array_equal(one_by_one, whole)
    np.testing.assert_allclose(whole, lenet.predict_probabilities(keras_model, images), atol=lite.TOLERANCE, rtol=0)
    assert lenet.predict_probabilities(converted, images[:0]).shape == (0, 10)


def test_a_lite_model_that_predicts_otherwise_is_refused(keras_model, sample, monkeypatch):
    lenet.set_seed(4)
    other = lenet.build_lenet5()
    keras_probabilities = training.probabilities
    monkeypatch.setattr(training, "probabilities", lambda model, images: keras_probabilities(other, images))
    with pytest.raises(lenet.LiteError, match="differs from the Keras model"):
        lenet.to_lite(keras_model, sample.x_test[:100])


def test_agreement_needs_the_same_predictions_and_probabilities_within_the_tolerance():
    assert lite.agrees({"different_predictions": 0, "max_probability_difference": lite.TOLERANCE})
    assert not lite.agrees({"different_predictions": 0, "max_probability_difference": 2 * lite.TOLERANCE})
    assert not lite.agrees({"different_predictions": 1, "max_probability_difference": 0.0})
    assert not lite.agrees({})  # nothing recorded: never used in Keras's place


def test_export_writes_a_checked_file_that_predict_uses_and_evaluate_refuses(sample, tmp_path, capsys):
    out = tmp_path / "model.tflite"
    assert cli.main(["export", "--data", "sample", "--out", str(out)]) == 0
    assert "the same predictions as Keras" in capsys.readouterr().out
    record = json.loads((tmp_path / "model.tflite.json").read_text())
    assert record["check"]["images"] == len(sample.x_test) and lite.agrees(record["check"])
    assert record["model_sha256"] == file_sha256(model_file.SHIPPED_WEIGHTS)
    for index in range(3):
        Image.fromarray(255 - sample.x_test[index]).save(tmp_path / f"digit-{index}.png")
    digits = [str(tmp_path / f"digit-{index}.png") for index in range(3)]
    assert cli.main(["predict", "--json", str(out), *digits]) == 0
    from_lite = json.loads(capsys.readouterr().out)["predictions"]
    assert cli.main(["predict", "--json", *digits]) == 0
    assert [p["digit"] for p in from_lite] == [p["digit"] for p in json.loads(capsys.readouterr().out)["predictions"]]
    assert cli.main(["evaluate", str(out), "--data", "sample"]) == 2
    assert "only predicts" in capsys.readouterr().err


def test_the_shipped_lite_file_is_used_only_while_its_check_names_the_shipped_weights(tmp_path, monkeypatch):
    assert model_file.shipped_lite_matches() and isinstance(model_file.shipped_lite(), lenet.LiteModel)
    assert not isinstance(lenet.load_model(), lenet.LiteModel)  # evaluate and the notebook get Keras
    copy = tmp_path / "lenet5.tflite"
    shutil.copy(model_file.SHIPPED_LITE, copy)
    record = json.loads(SHIPPED_CHECK.read_text())
    (tmp_path / "lenet5.tflite.json").write_text(json.dumps({**record, "model_sha256": "0" * 64}))
    monkeypatch.setattr(model_file, "SHIPPED_LITE", copy)
    assert not model_file.shipped_lite_matches()  # stale: other weights


def test_a_file_that_is_not_a_lite_model_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.tflite").write_text("not a model")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "digit.png")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["predict", "notes.tflite", "digit.png"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("lenet: error: notes.tflite: not a LiteRT model")
