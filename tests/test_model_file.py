"""Saved models load with Keras's safe mode; bad files are one clear line (a Lambda layer's refusal: test_cli)."""

import zipfile

import keras
import pytest

import lenet
from lenet.model_file import ModelError, load_model


def test_a_saved_lenet5_loads_and_predicts_the_same(tmp_path, sample):
    model = lenet.build_lenet5()
    model.save(tmp_path / "lenet5.keras")
    loaded = load_model(tmp_path / "lenet5.keras")
    assert loaded.count_params() == 61_706
    x = sample.x_test[:8]
    assert (lenet.predict_probabilities(loaded, x) == lenet.predict_probabilities(model, x)).all()


def test_files_that_are_not_keras_models_are_refused(tmp_path):
    (tmp_path / "notes.keras").write_text("not a model")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip, but not a Keras model")
    for name, problem in [("notes.keras", "not a Keras model"), ("other.keras", "not a Keras model")]:
        with pytest.raises(ModelError, match=problem) as raised:
            load_model(tmp_path / name)
        assert str(raised.value).startswith(str(tmp_path / name)) and "\n" not in str(raised.value)


def test_a_model_for_other_inputs_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(10)])
    model.save(tmp_path / "dense.keras")
    with pytest.raises(ModelError, match="not a digit model"):
        load_model(tmp_path / "dense.keras")
