"""DrawPad: draw a digit in the notebook and watch LeNet-5 read it, as each stroke ends.

An anywidget (docs/pad.md says why): pad.js draws the strokes in the browser and sends the canvas's grey levels;
here they go through `lenet predict`'s own steps (images.mnist_style, model_file.predict_probabilities) and a check
that the drawing is a digit at all, and the answer goes back to the page.
"""

from __future__ import annotations

import base64
import io
import weakref
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from lenet.images import drawing_problem, mnist_style, read_image
from lenet.model_file import load_model, predict_probabilities

SIDE = 280  # the canvas, in pixels: ten times MNIST's 28
PEN = 18  # the pen's width: a digit drawn as tall as the box then has MNIST's stroke, about 2 of 20 pixels
EXAMPLE = Path(__file__).resolve().parent / "sample" / "drawing.png"  # on the pad until it is cleared
# Not a digit (docs/pad.md): unlike what real digits give, in any of three signals: the network's C5 features, the
# answer's steadiness under the shifts the model was trained to ignore, and the drawing's likeness in pixels to real
# digits of the class it is read as. Each limit flags FLAGGED_REAL_DIGITS of the shipped sample's held-out real digits;
# together at most 1 in 30, what the issue allows on drawn digits. The top probability alone is no test: it is near 1
# on letters too.
FLAGGED_REAL_DIGITS = 0.0125
MIN_CONFIDENCE = 0.5  # below it, the answer is "unsure between the top two"
SHIFTS = [(dy, dx) for dy in (-2, 0, 2) for dx in (-2, 0, 2)]  # pixels, as training's augmentation (shift-2e-3)
_FAMILIARITY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> Familiarity, built once


def blurred(digits: np.ndarray) -> np.ndarray:
    """Digits (N, 28, 28) smoothed by a 3x3 binomial filter and scaled to unit length, (N, 784) float32: their cosine
    is their likeness in pixels, forgiving a pixel's offset and the pen's width."""
    padded = np.pad(digits.astype(np.float32), ((0, 0), (1, 1), (1, 1)))
    weights = np.array([1, 2, 1], np.float32) / 4
    smooth = sum(
        padded[:, i : i + 28, j : j + 28] * (weights[i] * weights[j]) for i in range(3) for j in range(3)
    ).reshape(len(digits), -1)
    return smooth / np.maximum(np.linalg.norm(smooth, axis=1, keepdims=True), 1e-6)


class Familiarity:
    """How a digit compares with real MNIST digits, in three signals measured on the shipped sample:
    - distance: its C5 features' Mahalanobis distance to the nearest class mean, one covariance shared by the classes
      (Lee et al., NeurIPS 2018), fitted on the sample's 4,000 training digits;
    - steadiness: its top probability averaged over SHIFTS (trained to ignore them, the model holds its answer on a
      real digit; on a shape that is not one it wavers);
    - likeness: the cosine of its blurred pixels with the nearest of the sample's training digits of the class it is
      read as, a check outside the network, which a letter can fool (docs/pad.md: a W read as a 4 like no real 4).
    Each limit flags FLAGGED_REAL_DIGITS of the sample's 1,000 held-out digits."""

    def __init__(self, model: Any) -> None:
        import keras
        import tensorflow as tf

        from lenet.data import load_mnist

        outputs = [model.get_layer("c5").output, model.outputs[0]]  # C5: 1x1x120 in both LeNet-5 variants
        extractor = keras.Model(model.inputs, outputs)
        signature = tf.TensorSpec((None, 28, 28, 1), tf.uint8)

        def signals(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            features, logits = extractor(images, training=False)
            return features, tf.nn.softmax(logits)

        self._signals = tf.function(signals, input_signature=[signature])
        sample = load_mnist("sample")
        features = self.signals(sample.x_train)[0]
        self.means = np.stack([features[sample.y_train == digit].mean(axis=0) for digit in range(10)])
        centred = features - self.means[sample.y_train]
        covariance = centred.T @ centred / len(centred)
        ridge = 1e-3 * np.trace(covariance) / len(covariance)  # dead ReLUs have no variance: keep the inverse finite
        self.precision = np.linalg.inv(covariance + ridge * np.eye(len(covariance)))
        self.references = [blurred(sample.x_train[sample.y_train == digit]) for digit in range(10)]  # by class
        distances, steadiness, likeness = self.measure(sample.x_test)
        self.distance_limit = float(np.quantile(distances, 1 - FLAGGED_REAL_DIGITS))
        self.steadiness_limit = float(np.quantile(steadiness, FLAGGED_REAL_DIGITS))
        self.likeness_limit = float(np.quantile(likeness, FLAGGED_REAL_DIGITS))

    def signals(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features float64 (N, F) and probabilities (N, 10) for uint8 images (N, 28, 28), 1,024 at a time."""
        batches = [self._signals(images[i : i + 1024, ..., np.newaxis]) for i in range(0, len(images), 1024)]
        features, probabilities = (
            np.concatenate([np.asarray(batch[k], np.float64) for batch in batches]) for k in (0, 1)
        )
        return features.reshape(len(images), -1), probabilities

    def measure(self, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each digit's squared Mahalanobis distance, steadiness and likeness (the class is the unshifted digit's
        answer), each (N,), for uint8 digits (N, 28, 28)."""
        shifted = np.stack([np.roll(digits, shift, axis=(1, 2)) for shift in SHIFTS], axis=1)  # (N, 9, 28, 28)
        features, probabilities = self.signals(shifted.reshape(-1, 28, 28))
        features, probabilities = features[4 :: len(SHIFTS)], probabilities.reshape(len(digits), len(SHIFTS), -1)
        offsets = features[:, np.newaxis, :] - self.means[np.newaxis]  # (N, 10, F); SHIFTS[4] is (0, 0)
        distances = np.einsum("ncf,fg,ncg->nc", offsets, self.precision, offsets).min(axis=1)
        answers = probabilities[:, 4].argmax(axis=1)
        steadiness = probabilities.mean(axis=1)[np.arange(len(digits)), answers]
        likeness, pixels = np.empty(len(digits)), blurred(digits)
        for digit in np.unique(answers):  # each against its answer's real digits only: one class, a tenth of the work
            read = answers == digit
            likeness[read] = (pixels[read] @ self.references[digit].T).max(axis=1)
        return distances, steadiness, likeness

    def is_digit(self, digit: np.ndarray) -> bool:
        distance, steadiness, likeness = (value[0] for value in self.measure(digit[np.newaxis]))
        return (
            distance <= self.distance_limit and steadiness >= self.steadiness_limit and likeness >= self.likeness_limit
        )


def familiarity(model: Any) -> Familiarity:
    if model not in _FAMILIARITY:
        _FAMILIARITY[model] = Familiarity(model)
    return _FAMILIARITY[model]


def read_drawing(model: Any, image: np.ndarray) -> dict[str, Any]:
    """What the pad shows for a grey-level drawing (H, W): the 28x28 digit the model sees, its probabilities (as
    `lenet predict` gives them), the answer (None for a bad drawing or one that is not a digit) and a message."""
    digit = mnist_style(image)
    problem = drawing_problem(image)
    if problem:
        return {"digit": digit, "probabilities": None, "answer": None, "message": problem}
    probabilities = predict_probabilities(model, digit[np.newaxis])[0]
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    answer = None
    if not familiarity(model).is_digit(digit):
        message = f"This does not look like a digit to the model (its nearest guess: {best})."
    elif confidence < MIN_CONFIDENCE:
        second = int(np.argsort(probabilities)[-2])
        message = f"Unsure: {best} ({confidence:.0%}) or {second} ({probabilities[second]:.0%})?"
    else:
        answer, message = best, f"{best}, with probability {confidence:.0%}."
    return {"digit": digit, "probabilities": probabilities, "answer": answer, "message": message}


class DrawPad(anywidget.AnyWidget):
    """Draw a digit with the mouse, a pen or a finger; as each stroke ends, the pad shows the 28x28 image the model
    sees, its ten probabilities and its answer. `model`: a Keras digit model (default: the one shipped with lenet)."""

    _esm = Path(__file__).with_name("pad.js")
    _css = Path(__file__).with_name("pad.css")
    side = traitlets.Int(SIDE).tag(sync=True)
    pen = traitlets.Int(PEN).tag(sync=True)
    # The canvas's grey levels, uint8 row by row (255 is the white paper); the browser sends them as a stroke ends.
    pixels = traitlets.Bytes().tag(sync=True, from_json=lambda value, _widget: bytes(value))
    result = traitlets.Dict().tag(sync=True)  # what read_drawing found, for the page

    def __init__(self, model: Any = None) -> None:
        super().__init__()
        self.model = load_model() if model is None else model
        self.reading: dict[str, Any] = {}
        self.observe(self._read, names="pixels")
        self.pixels = read_image(EXAMPLE).tobytes()

    @property
    def image(self) -> np.ndarray:
        """The drawing as a grey-level image, uint8 (SIDE, SIDE), as `save` writes it."""
        return np.frombuffer(self.pixels, np.uint8).reshape(SIDE, SIDE)

    def save(self, path: str | Path) -> None:
        """Save the drawing as a PNG: `lenet predict MODEL.keras PATH` reads the same image back."""
        from PIL import Image

        Image.fromarray(self.image).save(path)

    def _read(self, _change: object = None) -> None:
        self.reading = read_drawing(self.model, self.image)
        probabilities = self.reading["probabilities"]
        self.result = {
            "digit": self.reading["digit"].ravel().tolist(),
            "probabilities": [] if probabilities is None else probabilities.tolist(),
            "answer": self.reading["answer"],
            "message": self.reading["message"],
            "count": self.result.get("count", 0) + 1,  # every reading changes the page, even to the same answer
        }

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        """The widget, and a picture of the pad for where no widget can show (a headless run, a saved notebook)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None or self.reading.get("probabilities") is None:
            return bundle
        from lenet.plots import plot_prediction

        buffer = io.BytesIO()
        figure = plot_prediction(self.image, self.reading["digit"], self.reading["probabilities"])
        figure.savefig(buffer, format="png", dpi=80)
        data, metadata = bundle
        return {**data, "image/png": base64.b64encode(buffer.getvalue()).decode("ascii")}, metadata
