import numpy as np
import pytest

import lenet
from lenet.data import Mnist

SAMPLE_FINGERPRINT = "d7f37ed83eb4176c5e64ffea8aefb79abc0a9baa4191dc81299a01e36ead7b7c"


def write_npz(path, **overrides):
    arrays = {
        "x_train": np.zeros((12, 28, 28), np.uint8),
        "y_train": np.arange(12, dtype=np.uint8) % 10,
        "x_test": np.zeros((4, 28, 28), np.uint8),
        "y_test": np.arange(4, dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_sample_is_balanced_real_mnist(sample):
    assert sample.x_train.shape == (4000, 28, 28) and sample.x_test.shape == (1000, 28, 28)
    assert sample.x_train.dtype == np.uint8 and sample.y_train.dtype == np.uint8
    assert np.bincount(sample.y_train).tolist() == [400] * 10
    assert np.bincount(sample.y_test).tolist() == [100] * 10
    assert sample.fingerprint == SAMPLE_FINGERPRINT
    assert sample.class_names == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_fingerprint_changes_with_any_pixel_label_or_the_arrays_order():
    # Its exact value is pinned by the sample's SAMPLE_FINGERPRINT above.
    arrays = [np.full((1, 28, 28), i, np.uint8) if i % 2 == 0 else np.array([i], np.uint8) for i in range(4)]
    data = Mnist(*arrays, source="test")
    swapped = Mnist(arrays[2], arrays[1], arrays[0], arrays[3], source="test")
    relabelled = Mnist(*arrays[:3], np.array([9], np.uint8), source="test")
    repainted = arrays[0].copy()
    repainted[0, 27, 27] += 1
    fingerprints = {
        data.fingerprint,
        swapped.fingerprint,
        relabelled.fingerprint,
        Mnist(repainted, *arrays[1:], source="test").fingerprint,
    }
    assert len(fingerprints) == 4 and Mnist(*arrays, source="other").fingerprint == data.fingerprint


# What a checkpoint of a run on the sample with 400 validation images records (state.json's "fingerprint"), as
# checkpoints have recorded it from the start: a changed value would refuse the checkpoints users already have.
SAMPLE_SPLIT_FINGERPRINT = "6e9869a6a0c796558fb3b4f2d94e8b9861761eb43c03b5a82d2364538d0d4d0c"


def test_the_data_and_its_split_are_hashed_once_each(sample, monkeypatch):
    calls = []
    monkeypatch.setattr(lenet.data, "arrays_sha256", lambda arrays: calls.append(list(arrays)) or "hashed")
    data = Mnist(sample.x_train, sample.y_train, sample.x_test, sample.y_test, source="sample")
    split = lenet.split_validation(data, 400)
    assert (data.fingerprint, data.fingerprint, split.fingerprint, split.fingerprint) == ("hashed",) * 4
    assert len(calls) == 2 and len(calls[0]) == 4 and calls[1][3] is split.y_val  # train, validation: 4 arrays
    monkeypatch.undo()
    assert lenet.split_validation(sample, 400).fingerprint == SAMPLE_SPLIT_FINGERPRINT


def test_local_npz_loads_and_labels_become_uint8(tmp_path):
    path = write_npz(tmp_path / "ok.npz", y_train=np.arange(12, dtype=np.int64) % 10)
    data = lenet.load_mnist(path)
    assert data.source == "ok.npz" and data.y_train.dtype == np.uint8 and len(data.x_test) == 4


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"y_test": None}, "missing array\\(s\\) y_test"),
        ({"x_train": np.zeros((12, 28, 28), np.float32)}, "x_train has dtype float32"),
        ({"x_train": np.zeros((12, 32, 32), np.uint8)}, "x_train has shape \\(12, 32, 32\\), expected \\(N, 28, 28\\)"),
        ({"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, np.uint8)}, "x_test is empty"),
        ({"y_train": np.full(12, 10, np.uint8)}, "y_train holds labels from 10 to 10, expected 0-9"),
        ({"x_test": np.zeros((5, 28, 28), np.uint8)}, "y_test has shape \\(4,\\), expected \\(5,\\) to match x_test"),
        ({"x_train": np.full((12, 28, 28), np.nan, np.float32)}, "x_train holds NaN values \\(dtype float32\\)"),
        ({"y_test": np.array([0, 1, np.nan, 3])}, "y_test holds NaN values \\(dtype float64\\)"),
        ({"y_test": np.array([0, 1, -1, 3], np.int8)}, "y_test holds labels from -1 to 3, expected 0-9"),
        ({"y_train": np.array(["1"] * 12)}, "y_train has dtype <U1, expected integer labels"),
        ({"x_train": np.array([None] * 12, dtype=object)}, "not a readable .npz file"),
    ],
)
def test_bad_arrays_get_one_clear_error_each(tmp_path, overrides, message):
    with pytest.raises(lenet.DataError, match=f"bad.npz: {message}"):
        lenet.load_mnist(write_npz(tmp_path / "bad.npz", **overrides))


def test_missing_file_and_non_npz_are_named(tmp_path):
    with pytest.raises(lenet.DataError, match="nope.npz: no such file"):
        lenet.load_mnist(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not an archive")
    with pytest.raises(lenet.DataError, match="junk.npz: not a readable .npz file"):
        lenet.load_mnist(junk)


def test_keras_mnist_is_recorded_as_keras_from_lenet_mnist_path_or_a_copy_not_by_its_path(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "mnist.npz")
    other = write_npz(tmp_path / "other.npz", x_test=np.ones((4, 28, 28), np.uint8))
    monkeypatch.setenv("LENET_MNIST_PATH", str(other))
    assert lenet.load_mnist("keras").source == "keras"  # the source asked for; no folder of this machine
    # A file with Keras's sha256 (made so by pointing the constant at this file's hash).
    monkeypatch.setattr(lenet.data, "KERAS_MNIST_SHA256", lenet.data.file_sha256(path))
    assert lenet.load_mnist(path).source == "keras"
    assert lenet.load_mnist(other).source == "other.npz"  # any other file: its name


def test_validation_is_the_end_of_the_training_set(sample):
    split = lenet.split_validation(sample, 400)
    assert split.sizes() == {"train": 3600, "validation": 400, "test": 1000}
    np.testing.assert_array_equal(split.x_val, sample.x_train[-400:])
    np.testing.assert_array_equal(split.y_train, sample.y_train[:3600])
    assert split.x_test is sample.x_test
    with pytest.raises(lenet.DataError, match="cannot hold out 4000 of 4000"):
        lenet.split_validation(sample, 4000)


def damaged(path, damage):
    """Damage a written .npz: cut it short, or flip bytes inside the compressed arrays."""
    content = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(content[: len(content) // 2])
    else:
        middle = len(content) // 2
        path.write_bytes(
            content[:middle] + bytes(b ^ 0xFF for b in content[middle : middle + 64]) + content[middle + 64 :]
        )
    return path


@pytest.mark.parametrize("damage, save", [("truncated", np.savez), ("corrupted", np.savez_compressed)])
def test_a_damaged_npz_is_refused_by_name(tmp_path, sample, damage, save):
    path = tmp_path / "bad.npz"
    save(
        path,
        x_train=sample.x_train[:200],
        y_train=sample.y_train[:200],
        x_test=sample.x_test[:50],
        y_test=sample.y_test[:50],
    )
    with pytest.raises(lenet.DataError, match="bad.npz: not a readable .npz file"):
        lenet.load_mnist(damaged(path, damage))


def test_fashion_mnist_source_has_the_ten_fashion_names(monkeypatch):
    import keras

    rng = np.random.default_rng(0)
    arrays = (
        (rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), np.arange(20, dtype=np.uint8) % 10),
        (rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), np.arange(10, dtype=np.uint8)),
    )
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: arrays)
    data = lenet.load_mnist("fashion_mnist")
    assert data.source == "fashion_mnist" and len(data.class_names) == 10
    assert (data.class_names[0], data.class_names[9]) == ("T-shirt/top", "Ankle boot")
    np.testing.assert_array_equal(data.x_test, arrays[1][0])


def test_failed_fashion_download_points_to_the_idx_files(monkeypatch):
    import keras

    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(lenet.DataError, match="could not download Fashion-MNIST: network is unreachable.*IDX"):
        lenet.load_mnist("fashion_mnist")
