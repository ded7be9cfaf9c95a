"""Data the loaders do not make (read-only, memory-mapped arrays) still trains; a defect in
our own code path is one line and a saved traceback.

Each source README lists loads in test_data and test_idx; once loaded, every source takes
the same path through `lenet train` that conftest's sample run exercises.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import lenet
from lenet import cli

TRAIN, TEST = 640, 100  # a few batches each: enough for one real epoch in about a second


@pytest.fixture(scope="module")
def tiny(sample) -> dict[str, np.ndarray]:
    return {
        "x_train": sample.x_train[:TRAIN],
        "y_train": sample.y_train[:TRAIN],
        "x_test": sample.x_test[:TEST],
        "y_test": sample.y_test[:TEST],
    }


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
