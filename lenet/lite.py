"""LiteRT (TensorFlow Lite): a trained LeNet-5 as one small file that predicts one image in microseconds,
without TensorFlow's millisecond of per-call work, and whose package imports in a fraction of a second."""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lenet import startup
from lenet.errors import LiteError, ModelError, first_line

LITE_SUFFIX = ".tflite"
CHECK_SUFFIX = ".json"  # what an exported file was checked against, beside it: FILE.tflite.json
# The largest difference from Keras's probabilities an exported model may show on any image and class, and
# still be used in Keras's place (float32 kernels that sum in another order differ in the last bits).
TOLERANCE = 1e-5


class LiteModel:
    """A LiteRT model of softmax(model(images)): uint8 images (N, 28, 28, 1) in, probabilities out;
    `check` says how it compared with the Keras model, if known."""

    def __init__(self, content: bytes, check: dict[str, Any] | None = None) -> None:
        self.content, self.check = content, check
        try:  # the small ai-edge-litert package: no TensorFlow import, about 0.2 s instead of several
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        with quiet(), warnings.catch_warnings():  # and TensorFlow 2.20's notice that LiteRT is the way on
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
            self._interpreter = Interpreter(model_content=content, num_threads=1)
        self._batch = 0  # the batch size the interpreter's tensors are allocated for

    @classmethod
    def load(cls, path: str | Path) -> LiteModel:
        """The file `lenet export` wrote, with the check recorded beside it if there is one."""
        try:
            return cls(Path(path).read_bytes(), check_record(Path(path)).get("check"))
        except (ValueError, RuntimeError) as error:  # the interpreter's answer to a file it cannot read
            raise ModelError(f"{path}: not a LiteRT model ({first_line(error)})") from None

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 10) class probabilities for uint8 images (N, 28, 28, 1)."""
        images = np.ascontiguousarray(images, dtype=np.uint8)
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        interpreter = self._interpreter
        input_index = interpreter.get_input_details()[0]["index"]
        resized = len(images) != self._batch
        with quiet() if resized else contextlib.nullcontext():  # LiteRT's notices on a new size (its delegate)
            if resized:  # reallocating costs more than a call: only on a change
                interpreter.resize_tensor_input(input_index, images.shape)
                interpreter.allocate_tensors()
                self._batch = len(images)
            interpreter.set_tensor(input_index, images)
            interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def quiet() -> Any:
    """LiteRT's start-up notices kept off stderr, as TensorFlow's are (lenet/startup.py)."""
    return startup.start_up_log_hidden(show_log=startup.log_wanted())


def check_record(path: Path) -> dict[str, Any]:
    """What `lenet export` recorded beside `path` (FILE.tflite.json), or {} if nothing."""
    record = path.with_name(path.name + CHECK_SUFFIX)
    return json.loads(record.read_text()) if record.is_file() else {}


def convert(model: Any) -> bytes:
    """The LiteRT file of predict_probabilities' traced softmax(model(images)) for uint8 images, float32."""
    import tensorflow as tf

    from lenet.training import probability_function

    # The converter freezes the variables its trackable object holds; Keras 3's own variables
    # are not TensorFlow trackables, the tf.Variables inside them are.
    holder = tf.Module()
    holder.weights = [variable.value for variable in model.variables]
    function = probability_function(model, np.dtype(np.uint8))
    return tf.lite.TFLiteConverter.from_concrete_functions([function], holder).convert()


def to_lite(model: Any, check_images: np.ndarray) -> LiteModel:
    """`model` converted to LiteRT, once its probabilities on `check_images` (uint8 (N, 28, 28), e.g. the
    test set) were found to agree with Keras's; else LiteError."""
    from lenet.training import predict_probabilities

    lite = LiteModel(convert(model))
    expected, actual = predict_probabilities(model, check_images), lite.probabilities(check_images[..., np.newaxis])
    lite.check = {
        "images": len(expected),
        "different_predictions": int((expected.argmax(axis=1) != actual.argmax(axis=1)).sum()),
        "max_probability_difference": float(np.abs(expected - actual).max()) if len(expected) else 0.0,
    }
    if not agrees(lite.check):
        raise LiteError(
            f"the LiteRT model differs from the Keras model on {lite.check['different_predictions']} of "
            f"{lite.check['images']} predictions, by up to {lite.check['max_probability_difference']:.2g} "
            f"in a probability (tolerance {TOLERANCE:g})"
        )
    return lite


def agrees(check: dict[str, float]) -> bool:
    """Whether a LiteRT model may stand in for Keras: the same predictions, probabilities within TOLERANCE."""
    differences = check.get("different_predictions", 1)  # an empty record never agrees
    return differences == 0 and check.get("max_probability_difference", np.inf) <= TOLERANCE
