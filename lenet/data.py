"""Loading MNIST-layout data: the Keras download, a local .npz, or the shipped sample."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_PATH = Path(__file__).resolve().parent / "sample" / "mnist_sample.npz"
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
NUM_CLASSES = 10
# TensorFlow shares a NumPy array's memory (no copy) only if it starts on this boundary.
ALIGNMENT = 64


class DataError(ValueError):
    """Data that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Mnist:
    """MNIST-layout arrays: images uint8 (N, 28, 28), labels uint8 (N,) in 0-9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def fingerprint(self) -> str:
        """sha256 over the raw bytes of the four arrays: names the content, not the file."""
        digest = hashlib.sha256()
        for key in ARRAY_KEYS:
            digest.update(np.ascontiguousarray(getattr(self, key), dtype=np.uint8).tobytes())
        return digest.hexdigest()


@dataclass(frozen=True)
class Split:
    """Train, validation and test arrays; validation is carved from the training set."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def load_mnist(source: str | os.PathLike = "keras") -> Mnist:
    """Load MNIST from `"keras"` (download, cached), `"sample"` (shipped) or an .npz path.

    For `"keras"`, LENET_MNIST_PATH (a local Keras-layout .npz) takes the place of the
    download when set, and LENET_MNIST_URL replaces the download's address.
    """
    if source == "sample":
        return _load_npz(SAMPLE_PATH, source="sample")
    if source == "keras":
        local = os.environ.get("LENET_MNIST_PATH")
        if local:
            return _load_npz(Path(local), source=str(local))
        return _load_npz(download_mnist(), source="keras")
    return _load_npz(Path(source), source=str(source))


def download_mnist(url: str | None = None) -> Path:
    """Download Keras's mnist.npz into the Keras cache, verifying its sha256."""
    import keras  # imported here so that loading a local file never needs TensorFlow

    url = url or os.environ.get("LENET_MNIST_URL") or KERAS_MNIST_URL
    try:
        return Path(keras.utils.get_file("mnist.npz", origin=url, file_hash=KERAS_MNIST_SHA256))
    except Exception as error:  # urllib, HTTP and checksum errors all end here
        raise DataError(
            f"could not download MNIST from {url}: {error}. Without network, use a local "
            "Keras-layout mnist.npz: load_mnist('path/to/mnist.npz'), or set "
            "LENET_MNIST_PATH=path/to/mnist.npz (the notebook and CLI read it)"
        ) from error


def _load_npz(path: Path, source: str) -> Mnist:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ARRAY_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {', '.join(missing)}")
            arrays = {key: aligned(archive[key]) for key in ARRAY_KEYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    for part in ("train", "test"):
        _check_part(path, part, arrays[f"x_{part}"], arrays[f"y_{part}"])
        arrays[f"y_{part}"] = arrays[f"y_{part}"].astype(np.uint8)  # one label dtype everywhere
    return Mnist(**arrays, source=source)


def aligned(array: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `array` that starts on a 64-byte boundary.

    Loading copies each array anyway; aligned, the training pipeline can hand the images to
    TensorFlow without a second copy of them.
    """
    buffer = np.empty(array.nbytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    result = buffer[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    result[...] = array
    return result


def _check_part(path: Path, part: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Raise DataError unless images are uint8 (N, 28, 28) and labels integers 0-9 (N,)."""
    x_name, y_name = f"x_{part}", f"y_{part}"
    if images.dtype != np.uint8:
        raise DataError(f"{path}: {x_name} has dtype {images.dtype}, expected uint8 pixels 0-255")
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{path}: {x_name} has shape {images.shape}, expected (N, 28, 28)")
    if len(images) == 0:
        raise DataError(f"{path}: {x_name} is empty")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{path}: {y_name} has shape {labels.shape}, expected ({len(images)},) "
            f"to match {x_name}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: {y_name} has dtype {labels.dtype}, expected integer labels")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(
            f"{path}: {y_name} holds labels from {labels.min()} to {labels.max()}, "
            f"expected 0-{NUM_CLASSES - 1}"
        )


def split_validation(data: Mnist, validation_size: int) -> Split:
    """Hold out the last `validation_size` training images, so the test set stays unseen."""
    if not 0 < validation_size < len(data.y_train):
        raise DataError(
            f"{data.source}: cannot hold out {validation_size} of {len(data.y_train)} "
            "training images for validation"
        )
    cut = len(data.y_train) - validation_size
    return Split(
        x_train=data.x_train[:cut],
        y_train=data.y_train[:cut],
        x_val=data.x_train[cut:],
        y_val=data.y_train[cut:],
        x_test=data.x_test,
        y_test=data.y_test,
    )
