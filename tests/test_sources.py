"""Every data source README and docs/beyond.md list trains end to end through `lenet train` (not only loads);
the shipped sample: conftest's trained_on_sample."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

import lenet
from lenet import cli
from lenet.data import IDX_FILES, aligned
from test_idx import write_idx  # tests/ is on sys.path (pytest's prepend import mode)

TRAIN, TEST = 640, 100  # a few batches each: enough for one real epoch in about a second


@pytest.fixture(scope="module")
def tiny(sample) -> dict[str, np.ndarray]:
    return {
        "x_train": sample.x_train[:TRAIN],
        "y_train": sample.y_train[:TRAIN],
        "x_test": sample.x_test[:TEST],
        "y_test": sample.y_test[:TEST],
    }


def train_one_epoch(data: str, out) -> dict:
    code = cli.main(["train", "--data", data, "--epochs", "1", "--validation-size", "64", "--out", str(out)])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["data"]["sizes"] == {"train": TRAIN - 64, "validation": 64, "test": TEST}
    assert np.isfinite(results["history"]["loss"][0]) and 0 <= results["test"]["accuracy"] <= 1
    return results


def test_a_keras_layout_npz_trains_even_read_only(tmp_path, tiny):
    np.savez(tmp_path / "mnist.npz", **tiny)
    os.chmod(tmp_path / "mnist.npz", stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    train_one_epoch(str(tmp_path / "mnist.npz"), tmp_path / "run")


def test_keras_reads_lenet_mnist_path_and_trains(tmp_path, tiny, monkeypatch):
    np.savez(tmp_path / "mnist.npz", **tiny)
    monkeypatch.setenv("LENET_MNIST_PATH", str(tmp_path / "mnist.npz"))
    train_one_epoch("keras", tmp_path / "run")


def test_an_idx_directory_trains_with_plain_and_gzipped_files(tmp_path, tiny):
    folder = tmp_path / "idx"
    folder.mkdir()
    for index, (key, stem) in enumerate(IDX_FILES.items()):
        write_idx(folder / (f"{stem}.gz" if index % 2 else stem), tiny[key])
    train_one_epoch(str(folder), tmp_path / "run")


def test_arrays_tensorflow_must_not_share_are_copied_and_batched(tmp_path, tiny):
    """Read-only and memory-mapped arrays (a user's own Mnist) become copies, never refused;
    an aligned writeable array is shared (test_steps_per_execution)."""
    from lenet.training import shared_tensor, training_batches

    np.save(tmp_path / "x.npy", tiny["x_train"])
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    read_only = aligned(tiny["x_train"])
    read_only.flags.writeable = False
    for array in (mapped, read_only):
        tensor = shared_tensor(array)
        np.testing.assert_array_equal(tensor.numpy(), array)
        assert tensor.numpy().ctypes.data != array.ctypes.data  # its own memory: a copy
    images, labels = next(iter(training_batches(mapped, tiny["y_train"], lenet.TrainConfig(epochs=1))))
    assert images.shape == (64, 28, 28, 1) and labels.shape == (64,)


def test_an_unexpected_failure_is_one_line_and_a_saved_traceback(tmp_path, capsys, monkeypatch):
    from lenet import experiment

    def broken(*args, **kwargs):
        raise BufferError("something in our code went wrong")

    monkeypatch.setattr(experiment, "fit", broken)
    code = cli.main(["train", "--data", "sample", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "lenet: error: unexpected BufferError in experiment.train_and_evaluate (experiment.py:"
    )
    saved = lines[0].split("the full traceback is in ")[1].split(" ")[0]
    assert "Traceback (most recent call last)" in open(saved).read()
    os.remove(saved)
    with pytest.raises(BufferError):
        cli.main(["--debug", "train", "--data", "sample", "--epochs", "1", "--out", str(tmp_path / "run")])
