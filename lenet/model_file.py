"""Loading a saved model safely, with one clear line when the file is not what it should be."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from lenet.config import first_line


# The trained weights that ship with the package, from the committed full run; its
# results.json, beside them, records how they were trained and their accuracy on the sample.
# Weights only, not a .keras file: a model's saved config is not readable by older Keras
# versions (Colab's 3.13 refuses 3.15's), while the weights of build_lenet5's layers are.
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lenet5.weights.h5"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file and the problem."""


def load_model(path: str | Path | None = None) -> Any:
    """Load a `.keras` digit model (28x28 in, 10 scores out) with Keras's safe mode on;
    without a path, LeNet-5 with the trained weights that ship with the package.

    Safe mode refuses to deserialise Python code (Lambda layers), so opening a model file
    from someone else cannot run their code; the shipped weights are only numbers.
    """
    if path is None:
        return shipped_model()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    if path.suffix.lower() not in MODEL_SUFFIXES[1:] and not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a Keras model (not a .keras zip archive)")
    import keras  # only now: the checks above answer without loading TensorFlow

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises ValueError, KeyError, zip and JSON errors alike
        message = str(error)
        if "Lambda" in message or "safe_mode" in message:
            raise ModelError(
                f"{path}: refused: the model contains a Lambda layer, which runs arbitrary Python "
                "code, so Keras's safe mode does not load it; only load such a file with "
                "keras.saving.load_model(path, safe_mode=False) if you trust where it came from"
            ) from None
        raise ModelError(f"{path}: not a Keras model ({first_line(error)[:200]})") from None
    if not isinstance(model, keras.Model):
        raise ModelError(f"{path}: not a Keras model (holds a {type(model).__name__})")
    check_digit_model(model, path)
    return model


def shipped_model() -> Any:
    """build_lenet5() holding the shipped weights (uncompiled: it predicts, it does not train)."""
    from lenet.model import build_lenet5

    if not SHIPPED_WEIGHTS.is_file():
        raise ModelError(f"{SHIPPED_WEIGHTS}: no such file (this installation ships no trained weights)")
    model = build_lenet5()
    model.load_weights(SHIPPED_WEIGHTS)
    return model


def check_digit_model(model: Any, path: str | Path) -> None:
    """Refuse a model that does not take 28x28 images and give 10 class scores."""
    input_shape = tuple(model.inputs[0].shape[1:]) if model.inputs else None
    output_shape = tuple(model.outputs[0].shape[1:]) if model.outputs else None
    if input_shape != (28, 28, 1) or output_shape != (10,):
        raise ModelError(
            f"{path}: not a digit model: takes {input_shape} and gives {output_shape}, "
            "expected (28, 28, 1) images and 10 class scores"
        )
