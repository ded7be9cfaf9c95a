"""IDX files, written here byte by byte from the format's description, not by lenet."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import lenet
from lenet.data import read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """`array` as an IDX file, gzip-compressed if the name ends in .gz (the tests' folders of tiny data)."""
    content = idx_bytes(np.ascontiguousarray(array, dtype=np.uint8))
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def write_mnist_dir(directory, compress: bool, train: int = 12, test: int = 4):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(test, dtype=np.uint8) % 10,
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(directory / (f"{name}.gz" if compress else name), array)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_a_directory_of_idx_files_loads_like_mnist(tmp_path, compress):
    arrays = write_mnist_dir(tmp_path / "mnist", compress)
    data = lenet.load_mnist(tmp_path / "mnist")
    np.testing.assert_array_equal(data.x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    assert data.source == "mnist"
    assert data.class_names == tuple("0123456789")


def test_class_names_from_classes_txt_or_a_fashion_directory(tmp_path):
    write_mnist_dir(tmp_path / "fashion-mnist", compress=True)
    fashion = lenet.load_mnist(tmp_path / "fashion-mnist")
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    write_mnist_dir(tmp_path / "kmnist", compress=True)
    names = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    (tmp_path / "kmnist" / "classes.txt").write_text("\n".join(names) + "\n")
    assert lenet.load_mnist(tmp_path / "kmnist").class_names == tuple(names)
    (tmp_path / "kmnist" / "classes.txt").write_text("a\nb\n")
    with pytest.raises(lenet.DataError, match="classes.txt: lists 2 class names, expected 10"):
        lenet.load_mnist(tmp_path / "kmnist")


def test_a_missing_file_is_named(tmp_path):
    write_mnist_dir(tmp_path / "mnist", compress=False)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(lenet.DataError, match="mnist: no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz"):
        lenet.load_mnist(tmp_path / "mnist")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00\x08", "too short for an IDX header"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4, "bad magic number 0x00000d01"),
        (b"\x1f\x8b\x08\x03" + b"\x00" * 12, "bad magic number 0x1f8b0803"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
        (
            idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-5],
            "holds 1563 data bytes, its header \\(2, 28, 28\\) says 1568",
        ),
    ],
)
def test_malformed_idx_gets_one_clear_error(tmp_path, content, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(lenet.DataError, match=f"train-images-idx3-ubyte: {message}"):
        read_idx(path)


def test_malformed_file_in_a_directory_is_a_data_error(tmp_path):
    write_mnist_dir(tmp_path / "mnist", compress=True)
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(lenet.DataError, match="train-labels-idx1-ubyte.gz: cannot read"):
        lenet.load_mnist(tmp_path / "mnist")


def test_labels_outside_0_9_are_refused(tmp_path):
    arrays = write_mnist_dir(tmp_path / "emnist", compress=False)
    labels = arrays["train-labels-idx1-ubyte"].copy()
    labels[3] = 25
    (tmp_path / "emnist" / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(lenet.DataError, match="y_train holds labels from 0 to 25, expected 0-9"):
        lenet.load_mnist(tmp_path / "emnist")


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_reads_any_number_of_dimensions_plain_or_gzipped(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, array)), array)
