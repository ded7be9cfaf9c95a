"""A saved model: loaded safely, with one clear line when the file is not what it should be, and its predictions
whichever kind it is (Keras, or LiteRT without importing TensorFlow)."""

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from lenet.data import file_sha256  # NumPy only
from lenet.errors import ModelError, first_line
from lenet.lite import LITE_SUFFIX, LiteModel, agrees, check_path  # NumPy only until it converts
from lenet.reproducibility import check_float16

# The weights of the committed full run (its results.json beside them): weights, not a .keras file, as
# an older Keras (Colab's 3.13) refuses a model config saved by a newer one but reads build_lenet5's weights.
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lenet5.weights.h5"
SHIPPED_LITE = SHIPPED_WEIGHTS.with_name("lenet5.tflite")  # their `lenet export`, used while its check names them
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", LITE_SUFFIX)


def load_model(path: str | Path | None = None) -> Any:
    """A `.keras` digit model (28x28 in, 10 scores out) in Keras's safe mode, which refuses a file's code (Lambda
    layers), a `lenet export` file (a LiteModel), or without a path the shipped weights (their export: `shipped_lite`).
    """
    if path is None:
        from lenet.model import build_lenet5  # only now: it imports Keras

        if not SHIPPED_WEIGHTS.is_file():
            raise ModelError(f"{SHIPPED_WEIGHTS}: no such file (this installation ships no trained weights)")
        model = build_lenet5()
        model.load_weights(SHIPPED_WEIGHTS)
        return model
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    if path.suffix.lower() == LITE_SUFFIX:
        return LiteModel.load(path)
    if path.suffix.lower() not in MODEL_SUFFIXES[1:] and not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a Keras model (not a .keras zip archive)")
    import keras  # only now: the checks above answer without loading TensorFlow

    import lenet.paper  # noqa: F401  (registers the 1998 network's layers, which safe mode then loads by name)

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises ValueError, KeyError, zip and JSON errors alike
        if "Lambda" in str(error) or "safe_mode" in str(error):
            raise ModelError(
                f"{path}: refused: the model contains a Lambda layer, which runs arbitrary Python code, so Keras's "
                "safe mode does not load it; only load such a file with keras.saving.load_model(path, "
                "safe_mode=False) if you trust where it came from"
            ) from None
        raise ModelError(f"{path}: not a Keras model ({first_line(error)})") from None
    if not isinstance(model, keras.Model):
        raise ModelError(f"{path}: not a Keras model (holds a {type(model).__name__})")
    takes, gives = (tuple(tensors[0].shape[1:]) if tensors else None for tensors in (model.inputs, model.outputs))
    if (takes, gives) != ((28, 28, 1), (10,)):
        raise ModelError(
            f"{path}: not a digit model: takes {takes} and gives {gives}, "
            "expected (28, 28, 1) images and 10 class scores"
        )
    if any(layer.compute_dtype == "float16" for layer in model.layers):  # saved from a mixed-precision run
        check_float16(f"{path}: a mixed-precision (float16) model")
    return model


def shipped_lite() -> LiteModel:
    return LiteModel.load(SHIPPED_LITE)


def shipped_lite_matches() -> bool:
    """Whether the shipped LiteRT file was exported from the shipped weights and agreed with them."""
    record = check_path(SHIPPED_LITE)
    if not (SHIPPED_LITE.is_file() and SHIPPED_WEIGHTS.is_file() and record.is_file()):
        return False
    recorded = json.loads(record.read_text())
    return recorded.get("model_sha256") == file_sha256(SHIPPED_WEIGHTS) and agrees(recorded.get("check", {}))


def predict_probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities float32 (N, 10) for uint8 images (N, 28, 28). A LiteModel runs LiteRT, 10x faster per
    image, within lite.TOLERANCE and without TensorFlow; a Keras model its traced softmax (training.probabilities)."""
    images = np.asarray(x)[..., np.newaxis]
    if isinstance(model, LiteModel):
        return model.probabilities(images)
    from lenet.training import probabilities  # only now: it imports TensorFlow

    return probabilities(model, images)
