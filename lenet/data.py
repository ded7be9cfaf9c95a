"""MNIST-layout data: the Keras download, Fashion-MNIST, a local .npz, a directory of IDX files or
the shipped sample, each checked the same way; and reading IDX files."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lenet.errors import DataError

SAMPLE_PATH = Path(__file__).resolve().parent / "sample" / "mnist_sample.npz"
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The sources load_mnist knows by name (a download, or the shipped sample); anything else is a path.
NAMED_SOURCES = ("keras", "fashion_mnist", "sample")
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NUM_CLASSES = 10
DIGIT_NAMES = tuple(str(digit) for digit in range(NUM_CLASSES))
# Fashion-MNIST's labels 0-9 (Xiao, Rasul and Vollgraf, 2017).
FASHION_NAMES = tuple("T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot".split(","))
# The four arrays, in the order the fingerprint hashes them, and their files in an IDX directory.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# TensorFlow shares a NumPy array's memory (no copy) only if it starts on this boundary.
ALIGNMENT = 64
OFFLINE_HINT = (
    "Without network, use a local Keras-layout mnist.npz: set LENET_MNIST_PATH=path/to/mnist.npz "
    "(the notebook and the CLI read it), pass --data path/to/mnist.npz to the CLI, or call "
    "load_mnist('path/to/mnist.npz')"
)


@dataclass(frozen=True)
class Mnist:
    """Images uint8 (N, 28, 28), labels uint8 (N,) in 0-9; `class_names[label]` is e.g. "7" or "Trouser".
    `source` is what results record: a file's or folder's name, never its path (results are shared)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    class_names: tuple[str, ...] = DIGIT_NAMES

    @functools.cached_property  # the arrays are never changed in place: hashed once per data object
    def fingerprint(self) -> str:
        """sha256 over the four arrays' bytes: names the content, not the file."""
        return arrays_sha256(getattr(self, key) for key in IDX_FILES)


def arrays_sha256(arrays: Iterable[np.ndarray]) -> str:
    """sha256 over the arrays' C-order uint8 bytes, each read in place (no copy of 47 MB of images)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.uint8))
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


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

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 over the training and validation arrays: what a checkpoint records of its run's data and checks
        when the run resumes."""
        return arrays_sha256((self.x_train, self.y_train, self.x_val, self.y_val))


def load_mnist(source: str | os.PathLike = "keras") -> Mnist:
    """Checked MNIST-style data from `source`: "keras" (MNIST, downloaded once and cached, or the local
    Keras-layout .npz LENET_MNIST_PATH names; LENET_MNIST_URL replaces the address), "fashion_mnist"
    (downloaded by Keras), "sample" (the shipped MNIST sample), the path of a Keras-layout .npz file
    (recorded as "keras" if it is a copy of Keras's) or of a directory of IDX files (`load_idx_directory`).
    """
    if source == "sample":
        return _load_npz(SAMPLE_PATH, "sample")
    if source == "keras":
        return _load_npz(Path(os.environ.get("LENET_MNIST_PATH") or download_mnist()), "keras")
    if source == "fashion_mnist":
        return download_fashion_mnist()
    path = Path(source)
    return load_idx_directory(path) if path.is_dir() else _load_npz(path)


def download_mnist() -> Path:
    """Keras's mnist.npz in Keras's cache (KERAS_HOME or ~/.keras), downloaded once.

    keras.utils.get_file checks the sha256 and downloads again over a damaged cached copy, but keeps a
    download that fails the check: we delete it, so a bad file never stays in the cache."""
    import keras  # imported here so that loading a local file never needs TensorFlow

    url = os.environ.get("LENET_MNIST_URL") or KERAS_MNIST_URL
    cache = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    with contextlib.suppress(OSError):  # get_file uses /tmp/.keras for a cache that does not exist yet
        (cache / "datasets").mkdir(parents=True, exist_ok=True)
    try:
        return Path(keras.utils.get_file("mnist.npz", url, file_hash=KERAS_MNIST_SHA256, cache_dir=cache))
    except ValueError:  # Keras's checksum mismatch
        (cache / "datasets" / "mnist.npz").unlink(missing_ok=True)
        raise DataError(
            f"{url}: the downloaded file is corrupted or truncated (its sha256 is not "
            f"{KERAS_MNIST_SHA256}); it was not kept. {OFFLINE_HINT}"
        ) from None
    except Exception as error:  # urllib and HTTP errors, refused connections
        raise DataError(f"could not download MNIST from {url}: {error}. {OFFLINE_HINT}") from None


def download_fashion_mnist() -> Mnist:
    import keras

    try:
        train, test = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # urllib, HTTP and archive errors all end here
        raise DataError(
            f"could not download Fashion-MNIST: {error}. Without network, point load_mnist at "
            "a directory holding its four IDX files (Debian: apt-get install "
            "dataset-fashion-mnist, then /usr/share/datasets/fashion-mnist)"
        ) from error
    return _checked("fashion_mnist", dict(zip(IDX_FILES, (*train, *test), strict=True)), "fashion_mnist", FASHION_NAMES)


def load_idx_directory(directory: Path) -> Mnist:
    """The four IDX files in `directory` (named as in IDX_FILES, plain or .gz). Class names: one a line in
    its `classes.txt` if there is one, else Fashion-MNIST's if its name contains "fashion", else digits."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        found = [directory / name for name in (stem, f"{stem}.gz") if (directory / name).is_file()]
        if not found:
            needed = ", ".join(IDX_FILES.values())
            raise DataError(f"{directory}: no {stem} or {stem}.gz (an IDX directory needs all of {needed})")
        arrays[key] = read_idx(found[0])
    name = directory.resolve().name
    class_names = FASHION_NAMES if "fashion" in name.lower() else DIGIT_NAMES
    listed = directory / "classes.txt"
    if listed.is_file():
        class_names = tuple(line.strip() for line in listed.read_text().splitlines() if line.strip())
        if len(class_names) != NUM_CLASSES:
            raise DataError(f"{listed}: lists {len(class_names)} class names, expected {NUM_CLASSES}")
    return _checked(directory, arrays, name, class_names)


def _load_npz(path: Path, source: str | None = None) -> Mnist:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if source is None:
        source = "keras" if file_sha256(path) == KERAS_MNIST_SHA256 else path.resolve().name
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in IDX_FILES if key in archive.files}
    except Exception as error:  # NumPy's, zipfile's and zlib's errors for a damaged or foreign file
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    missing = [key for key in IDX_FILES if key not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(missing)}")
    return _checked(path, arrays, source)


def _checked(path: str | Path, arrays: dict[str, np.ndarray], source: str, class_names=DIGIT_NAMES) -> Mnist:
    """Mnist from the four arrays once they pass the checks, as aligned copies with uint8 labels."""
    for x_name, y_name in (("x_train", "y_train"), ("x_test", "y_test")):
        images, labels = arrays[x_name], arrays[y_name]
        for name, array in ((x_name, images), (y_name, labels)):
            if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
                raise DataError(f"{path}: {name} holds NaN values (dtype {array.dtype})")
        if images.dtype != np.uint8:
            raise DataError(f"{path}: {x_name} has dtype {images.dtype}, expected uint8 pixels 0-255")
        if images.shape[1:] != (28, 28):
            raise DataError(f"{path}: {x_name} has shape {images.shape}, expected (N, 28, 28)")
        if len(images) == 0:
            raise DataError(f"{path}: {x_name} is empty")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"{path}: {y_name} has shape {labels.shape}, expected ({len(images)},) to match {x_name}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{path}: {y_name} has dtype {labels.dtype}, expected integer labels")
        if labels.min() < 0 or labels.max() >= NUM_CLASSES:
            raise DataError(f"{path}: {y_name} holds labels from {labels.min()} to {labels.max()}, expected 0-9")
    for key, array in arrays.items():  # one at a time: an original nothing else holds is freed before the next copy
        arrays[key] = aligned(array.astype(np.uint8, copy=False))
    return Mnist(**arrays, source=source, class_names=class_names)


def aligned(array: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `array` on an ALIGNMENT boundary, which training hands to TensorFlow without a copy."""
    buffer = np.empty(array.nbytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    result = buffer[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    result[...] = array
    return result


def split_validation(data: Mnist, validation_size: int) -> Split:
    """Hold out the last `validation_size` training images, so the test set stays unseen (0: no validation set)."""
    if not 0 <= validation_size < len(data.y_train):
        raise DataError(
            f"{data.source}: cannot hold out {validation_size} of {len(data.y_train)} training images for validation"
        )
    cut = len(data.y_train) - validation_size
    return Split(
        data.x_train[:cut], data.y_train[:cut], data.x_train[cut:], data.y_train[cut:], data.x_test, data.y_test
    )


def read_idx(path: str | Path) -> np.ndarray:
    """The uint8 array in an IDX file (plain or .gz): bytes 0, 0, 0x08 (unsigned bytes, MNIST's only type),
    the number of dimensions, then one big-endian uint32 per dimension and the values in C order."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as stream:
            content = stream.read()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: cannot read ({error})") from None
    if len(content) < 4:
        raise DataError(f"{path}: too short for an IDX header ({len(content)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or type_code != 0x08 or ndim == 0:
        raise DataError(
            f"{path}: bad magic number 0x{content[:4].hex()}, expected 0x000008NN (unsigned bytes, NN dimensions)"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path}: truncated header ({len(content)} bytes, {ndim} dimensions need {header})")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(content) - header != expected:
        raise DataError(f"{path}: holds {len(content) - header} data bytes, its header {shape} says {expected}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)
