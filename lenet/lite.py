"""LiteRT (TensorFlow Lite): a trained LeNet-5 as one small file that predicts one image in microseconds.

TensorFlow spends about a millisecond of per-call work on one image; LiteRT's interpreter
runs the same arithmetic without it, and its package imports in a fraction of a second
where TensorFlow takes seconds, so `lenet predict` on an exported file starts quickly too.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lenet.errors import LiteError

LITE_SUFFIX = ".tflite"
# What an exported file was checked against, beside it: FILE.tflite.json.
CHECK_SUFFIX = ".json"
# The largest difference from Keras's probabilities that an exported model may show on any
# image and class, and still be used in Keras's place (float32 kernels that sum in another
# order differ in the last bits; measured differences are reported by `lenet export`).
TOLERANCE = 1e-5


class LiteModel:
    """A LiteRT model of softmax(model(images)): uint8 images (N, 28, 28, 1) in, probabilities out."""

    def __init__(self, content: bytes, source: str = "memory", check: dict[str, Any] | None = None) -> None:
        self.content, self.source = content, source
        self.check = check  # how it compared with the Keras model (`disagreement`), if known
        with quiet():
            self._interpreter = interpreter_class()(model_content=content, num_threads=1)
        self._batch = 0  # the batch size the interpreter's tensors are allocated for

    @classmethod
    def load(cls, path: str | Path) -> LiteModel:
        """The file `lenet export` wrote, with the check recorded beside it if there is one."""
        path = Path(path)
        record = check_record(path)
        return cls(path.read_bytes(), source=str(path), check=record.get("check"))

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 10) class probabilities for uint8 images (N, 28, 28, 1)."""
        images = np.ascontiguousarray(images, dtype=np.uint8)
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        interpreter = self._interpreter
        input_index = interpreter.get_input_details()[0]["index"]
        resized = len(images) != self._batch
        if resized:  # reallocating costs more than a call: only on a change
            with quiet():  # where LiteRT announces its XNNPACK delegate on stderr
                interpreter.resize_tensor_input(input_index, images.shape)
                interpreter.allocate_tensors()
            self._batch = len(images)
        interpreter.set_tensor(input_index, images)
        with quiet() if resized else contextlib.nullcontext():  # older LiteRT's first-call notices
            interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def quiet() -> Any:
    """LiteRT's start-up notices kept off stderr, as TensorFlow's are (lenet/startup.py)."""
    from lenet import startup

    return startup.start_up_log_hidden(show_log=startup.log_wanted())


def check_record(path: Path) -> dict[str, Any]:
    """What `lenet export` recorded beside `path` (FILE.tflite.json), or {} if nothing."""
    record = path.with_name(path.name + CHECK_SUFFIX)
    return json.loads(record.read_text()) if record.is_file() else {}


def interpreter_class() -> Any:
    """LiteRT's interpreter: the small ai-edge-litert package if installed (no TensorFlow
    import, about 0.2 s instead of several), else the one inside TensorFlow."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        def Interpreter(**arguments: Any) -> Any:  # stands in for the class
            with warnings.catch_warnings():  # TensorFlow 2.20's notice that LiteRT is the way on
                warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
                return tf.lite.Interpreter(**arguments)

    return Interpreter


def convert(model: Any) -> bytes:
    """The LiteRT file of softmax(model(images)) for uint8 images of any batch size, float32."""
    import tensorflow as tf

    signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.uint8)
    function = tf.function(lambda images: tf.nn.softmax(model(images, training=False)), input_signature=[signature])
    # The converter freezes the variables its trackable object holds; Keras 3's own variables
    # are not TensorFlow trackables, the tf.Variables inside them are.
    holder = tf.Module()
    holder.weights = [variable.value for variable in model.variables]
    return tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], holder).convert()


def to_lite(model: Any, check_images: np.ndarray) -> LiteModel:
    """`model` converted to LiteRT, once its probabilities on `check_images` (uint8 (N, 28, 28),
    e.g. the test set) were found within TOLERANCE of Keras's; else LiteError."""
    from lenet.training import predict_probabilities

    lite = LiteModel(convert(model))
    lite.check = disagreement(
        predict_probabilities(model, check_images), lite.probabilities(check_images[..., np.newaxis])
    )
    if not agrees(lite.check):
        raise LiteError(
            f"the LiteRT model differs from the Keras model on {lite.check['different_predictions']} of "
            f"{lite.check['images']} predictions, by up to {lite.check['max_probability_difference']:.2g} "
            f"in a probability (tolerance {TOLERANCE:g})"
        )
    return lite


def disagreement(expected: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """How two (N, 10) probability arrays differ: predictions that differ, and the largest
    difference of any probability."""
    return {
        "images": len(expected),
        "different_predictions": int((expected.argmax(axis=1) != actual.argmax(axis=1)).sum()),
        "max_probability_difference": float(np.abs(expected - actual).max()) if len(expected) else 0.0,
    }


def agrees(difference: dict[str, float]) -> bool:
    """Whether a LiteRT model may stand in for Keras: the same predictions, within TOLERANCE."""
    differences = difference.get("different_predictions", 1)  # an empty record never agrees
    return differences == 0 and difference.get("max_probability_difference", np.inf) <= TOLERANCE
