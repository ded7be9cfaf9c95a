"""Loading MNIST-layout data: the Keras downloads, a local .npz, a directory of IDX files, or
the shipped sample."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lenet.idx import IdxError, read_idx

SAMPLE_PATH = Path(__file__).resolve().parent / "sample" / "mnist_sample.npz"
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
NUM_CLASSES = 10
DIGIT_NAMES = tuple(str(digit) for digit in range(NUM_CLASSES))
# Fashion-MNIST's labels 0-9 (Xiao, Rasul and Vollgraf, 2017).
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The four files of an MNIST-style IDX distribution, each plain or .gz.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
CLASSES_FILE = "classes.txt"
# TensorFlow shares a NumPy array's memory (no copy) only if it starts on this boundary.
ALIGNMENT = 64


class DataError(ValueError):
    """Data that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Mnist:
    """MNIST-layout arrays: images uint8 (N, 28, 28), labels uint8 (N,) in 0-9.

    `class_names[label]` is what a label means: "0".."9" for MNIST, or e.g. "Trouser".
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    class_names: tuple[str, ...] = DIGIT_NAMES

    @property
    def fingerprint(self) -> str:
        """sha256 over the raw bytes of the four arrays: names the content, not the file."""
        return arrays_sha256(getattr(self, key) for key in ARRAY_KEYS)


def arrays_sha256(arrays: Iterable[np.ndarray]) -> str:
    """sha256 over the arrays' C-order bytes as uint8, in order.

    The digest reads each array's buffer in place: no bytes copy of a 47 MB image array.
    """
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.uint8))
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
    """Load MNIST-style data from one of these sources:

    - `"keras"`: MNIST, downloaded once and cached; LENET_MNIST_PATH (a local Keras-layout
      .npz) takes the place of the download when set, LENET_MNIST_URL replaces its address;
    - `"fashion_mnist"`: Fashion-MNIST, downloaded once by `keras.datasets.fashion_mnist`;
    - `"sample"`: the shipped MNIST sample;
    - a path to a Keras-layout .npz file;
    - a path to a directory of the four IDX files (see `load_idx_directory`).
    """
    if source == "sample":
        return _load_npz(SAMPLE_PATH, source="sample")
    if source == "keras":
        local = os.environ.get("LENET_MNIST_PATH")
        if local:  # the user's copy of Keras's MNIST: recorded as the source asked for, with its fingerprint
            return _load_npz(Path(local), source="keras")
        return _load_npz(download_mnist(), source="keras")
    if source == "fashion_mnist":
        return download_fashion_mnist()
    if Path(source).is_dir():
        return load_idx_directory(Path(source))
    return _load_npz(Path(source), source=recorded_source(Path(source)))


def recorded_source(path: Path) -> str:
    """How local data is named in results: `"keras"` for a copy of Keras's mnist.npz (its
    sha256), else the file's or folder's name.

    Results are shared, and a folder on the machine that made them means nothing elsewhere;
    the fingerprint, not the name, says which data it was.
    """
    if path.is_file() and file_sha256(path) == KERAS_MNIST_SHA256:
        return "keras"
    return path.resolve().name


def download_fashion_mnist() -> Mnist:
    """Fashion-MNIST from Keras's download (cached in ~/.keras/datasets), checked like MNIST."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # urllib, HTTP and archive errors all end here
        raise DataError(
            f"could not download Fashion-MNIST: {error}. Without network, point load_mnist at "
            "a directory holding its four IDX files (Debian: apt-get install "
            "dataset-fashion-mnist, then /usr/share/datasets/fashion-mnist)"
        ) from error
    return _checked(
        Path("fashion_mnist"),
        {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
        source="fashion_mnist",
        class_names=FASHION_NAMES,
    )


def load_idx_directory(directory: Path) -> Mnist:
    """The four MNIST-style IDX files in `directory`, each named as in IDX_FILES, plain or .gz.

    Class names: one per line from `classes.txt` in the directory if there is one; otherwise
    Fashion-MNIST's names if the directory's name contains "fashion", else the digits.
    """
    try:
        # Aligned copies: read_idx's arrays are read-only views of the file's bytes.
        arrays = {key: aligned(read_idx(_idx_file(directory, stem))) for key, stem in IDX_FILES.items()}
    except IdxError as error:
        raise DataError(str(error)) from None
    return _checked(directory, arrays, source=recorded_source(directory), class_names=_class_names(directory))


def _idx_file(directory: Path, stem: str) -> Path:
    for name in (stem, f"{stem}.gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"{directory}: no {stem} or {stem}.gz (an IDX directory needs all of {', '.join(IDX_FILES.values())})"
    )


def _class_names(directory: Path) -> tuple[str, ...]:
    listed = directory / CLASSES_FILE
    if listed.is_file():
        names = tuple(line.strip() for line in listed.read_text().splitlines() if line.strip())
        if len(names) != NUM_CLASSES:
            raise DataError(f"{listed}: lists {len(names)} class names, expected {NUM_CLASSES}")
        return names
    return FASHION_NAMES if "fashion" in directory.resolve().name.lower() else DIGIT_NAMES


def download_mnist(url: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Download Keras's mnist.npz into the Keras cache (KERAS_HOME or ~/.keras), once.

    `keras.utils.get_file` checks the sha256 KERAS_MNIST_SHA256 of the cached copy on every
    call (a damaged or cut-short one is downloaded again) and of each download, and deletes
    an interrupted one. What it lacks, and we add: a complete download that fails the check
    is deleted too, where get_file leaves it in the cache.
    """
    import keras  # imported here so that loading a local file never needs TensorFlow

    url = url or os.environ.get("LENET_MNIST_URL") or KERAS_MNIST_URL
    target = Path(cache_dir or keras_cache_dir()) / "datasets" / "mnist.npz"
    target.parent.mkdir(parents=True, exist_ok=True)  # else get_file would fall back to /tmp/.keras
    try:
        keras.utils.get_file(
            "mnist.npz",
            origin=url,
            file_hash=KERAS_MNIST_SHA256,
            hash_algorithm="sha256",
            cache_dir=target.parent.parent,
        )
    except ValueError:  # Keras's checksum mismatch
        target.unlink(missing_ok=True)
        raise DataError(
            f"{url}: the downloaded file is corrupted or truncated (its sha256 is not "
            f"{KERAS_MNIST_SHA256}); it was not kept. {OFFLINE_HINT}"
        ) from None
    except Exception as error:  # urllib and HTTP errors, refused connections (get_file removes the part)
        raise DataError(f"could not download MNIST from {url}: {error}. {OFFLINE_HINT}") from None
    return target


OFFLINE_HINT = (
    "Without network, use a local Keras-layout mnist.npz: set LENET_MNIST_PATH=path/to/mnist.npz "
    "(the notebook and the CLI read it), pass --data path/to/mnist.npz to the CLI, or call "
    "load_mnist('path/to/mnist.npz')"
)


def keras_cache_dir() -> Path:
    """Keras's cache folder, as keras.datasets uses it: KERAS_HOME, else ~/.keras.

    Like Keras, it falls back to the temporary folder when the home folder is read-only.
    """
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"])
    home = Path.home() if os.access(Path.home(), os.W_OK) else Path(tempfile.gettempdir())
    return home / ".keras"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    return _checked(path, arrays, source=source)


def _checked(
    path: Path, arrays: dict[str, np.ndarray], source: str, class_names: tuple[str, ...] = DIGIT_NAMES
) -> Mnist:
    """Mnist from the four arrays once they pass the checks; labels become uint8."""
    for part in ("train", "test"):
        _check_part(path, part, arrays[f"x_{part}"], arrays[f"y_{part}"])
        arrays[f"y_{part}"] = arrays[f"y_{part}"].astype(np.uint8)  # one label dtype everywhere
    return Mnist(**arrays, source=source, class_names=class_names)


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
    for name, array in ((x_name, images), (y_name, labels)):
        if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
            raise DataError(f"{path}: {name} holds NaN values (dtype {array.dtype})")
    if images.dtype != np.uint8:
        raise DataError(f"{path}: {x_name} has dtype {images.dtype}, expected uint8 pixels 0-255")
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{path}: {x_name} has shape {images.shape}, expected (N, 28, 28)")
    if len(images) == 0:
        raise DataError(f"{path}: {x_name} is empty")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{path}: {y_name} has shape {labels.shape}, expected ({len(images)},) to match {x_name}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: {y_name} has dtype {labels.dtype}, expected integer labels")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(
            f"{path}: {y_name} holds labels from {labels.min()} to {labels.max()}, expected 0-{NUM_CLASSES - 1}"
        )


def split_validation(data: Mnist, validation_size: int) -> Split:
    """Hold out the last `validation_size` training images, so the test set stays unseen."""
    if not 0 < validation_size < len(data.y_train):
        raise DataError(
            f"{data.source}: cannot hold out {validation_size} of {len(data.y_train)} training images for validation"
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
