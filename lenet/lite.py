"""LiteRT (TensorFlow Lite): a trained LeNet-5 as one small file that predicts one image in microseconds,
without TensorFlow's millisecond of per-call work, and whose package imports in a fraction of a second."""

import contextlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lenet import startup
from lenet.errors import LiteError, ModelError, first_line

LITE_SUFFIX = ".tflite"
# The largest difference from Keras's probabilities an exported model may show on any image and class, and
# still be used in Keras's place (float32 kernels that sum in another order differ in the last bits).
TOLERANCE = 1e-5


def check_path(path: Path) -> Path:
    """Where `lenet export` records what the file at `path` was checked against: FILE.tflite.json beside it."""
    return path.with_name(path.name + ".json")


class LiteModel:
    """A LiteRT model of softmax(model(images)): uint8 images (N, 28, 28, 1) in, probabilities out."""

    def __init__(self, content: bytes) -> None:
        self.content, self.check = content, None  # check: how to_lite found it compared with Keras
        try:  # the small ai-edge-litert package: no TensorFlow import, about 0.2 s instead of several
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        # LiteRT's start-up notices kept off stderr as TensorFlow's are; TensorFlow 2.20's that LiteRT is the way on.
        with startup.start_up_log_hidden(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
            self._interpreter = Interpreter(model_content=content, num_threads=1)
        self._batch = 0  # the batch size the interpreter's tensors are allocated for

    @classmethod
    def load(cls, path: str | Path) -> "LiteModel":
        try:
            return cls(Path(path).read_bytes())
        except (ValueError, RuntimeError) as error:  # the interpreter's answer to a file it cannot read
            raise ModelError(f"{path}: not a LiteRT model ({first_line(error)})") from None

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 10) class probabilities for uint8 images (N, 28, 28, 1)."""
        images = np.ascontiguousarray(images, dtype=np.uint8)
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        interpreter, resized = self._interpreter, len(images) != self._batch
        input_index = interpreter.get_input_details()[0]["index"]
        with startup.start_up_log_hidden() if resized else contextlib.nullcontext():
            if resized:  # reallocating costs more than a call: only for a new batch size
                interpreter.resize_tensor_input(input_index, images.shape)
                interpreter.allocate_tensors()
                self._batch = len(images)
            interpreter.set_tensor(input_index, images)
            interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def to_lite(model: Any, check_images: np.ndarray) -> LiteModel:
    """`model`'s traced softmax(model(images)) (training.probabilities') as LiteRT, for uint8 images, once its
    probabilities on `check_images` (uint8 (N, 28, 28), e.g. the test set) agree with Keras's; else LiteError."""
    import tensorflow as tf

    from lenet.training import probabilities, probability_function

    # The converter freezes the variables its trackable holds: the tf.Variables inside Keras 3's own variables.
    holder = tf.Module()
    holder.weights = [variable.value for variable in model.variables]
    function = probability_function(model, np.dtype(np.uint8))
    lite = LiteModel(tf.lite.TFLiteConverter.from_concrete_functions([function], holder).convert())
    images = check_images[..., np.newaxis]
    expected, actual = probabilities(model, images), lite.probabilities(images)
    different = int((expected.argmax(axis=1) != actual.argmax(axis=1)).sum())
    largest = float(np.abs(expected - actual).max()) if len(expected) else 0.0
    lite.check = {"images": len(expected), "different_predictions": different, "max_probability_difference": largest}
    if not agrees(lite.check):
        raise LiteError(
            f"the LiteRT model differs from the Keras model on {different} of {len(expected)} predictions, "
            f"by up to {largest:.2g} in a probability (tolerance {TOLERANCE:g})"
        )
    return lite


def agrees(check: dict[str, float]) -> bool:
    """Whether a LiteRT model may stand in for Keras: the same predictions, probabilities within TOLERANCE
    (an empty record never agrees)."""
    return check.get("different_predictions", 1) == 0 and check.get("max_probability_difference", np.inf) <= TOLERANCE
