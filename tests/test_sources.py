"""Every data source README and docs/beyond.md list trains end to end through `lenet train` (not only loads)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

import lenet
from lenet import cli
from lenet.data import IDX_FILES
from lenet.idx import write_idx

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


def test_the_shipped_sample_trains(tmp_path):
    assert cli.main(["train", "--data", "sample", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["data"]["source"] == "sample"


def test_a_keras_layout_npz_trains(tmp_path, tiny):
    np.savez(tmp_path / "mnist.npz", **tiny)
    train_one_epoch(str(tmp_path / "mnist.npz"), tmp_path / "run")


def test_a_read_only_npz_trains(tmp_path, tiny):
    np.savez(tmp_path / "mnist.npz", **tiny)
    os.chmod(tmp_path / "mnist.npz", stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    train_one_epoch(str(tmp_path / "mnist.npz"), tmp_path / "run")


def test_keras_reads_lenet_mnist_path_and_trains(tmp_path, tiny, monkeypatch):
    np.savez(tmp_path / "mnist.npz", **tiny)
    monkeypatch.setenv("LENET_MNIST_PATH", str(tmp_path / "mnist.npz"))
    train_one_epoch("keras", tmp_path / "run")


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_an_idx_directory_trains(tmp_path, tiny, suffix):
    folder = tmp_path / "idx"
    folder.mkdir()
    for key, stem in IDX_FILES.items():
        write_idx(folder / f"{stem}{suffix}", tiny[key])
    train_one_epoch(str(folder), tmp_path / "run")


def test_read_only_and_memory_mapped_arrays_train(tmp_path, tiny):
    """Arrays TensorFlow must not share (read-only, memory-mapped) are copied, not refused."""
    arrays = {}
    for key, array in tiny.items():
        np.save(tmp_path / f"{key}.npy", array)
        arrays[key] = np.load(tmp_path / f"{key}.npy", mmap_mode="r")
        assert not arrays[key].flags.writeable
    data = lenet.Mnist(**arrays, source="memory-mapped")
    config = lenet.TrainConfig(epochs=1, validation_size=64)
    split = lenet.split_validation(data, 64)
    lenet.set_seed(config.seed)
    history = lenet.fit(lenet.compiled_lenet5(config, split), split, config, verbose=0)
    assert np.isfinite(history["loss"][0])


def test_shared_tensor_copies_a_read_only_array_even_when_aligned():
    from lenet.data import aligned
    from lenet.training import shared_tensor

    array = aligned(np.arange(4096, dtype=np.uint8).reshape(64, 64))
    array.flags.writeable = False
    tensor = shared_tensor(array)
    np.testing.assert_array_equal(tensor.numpy(), array)


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
