"""Checkpoints: a finished fit is restored, another run's checkpoint is refused (an interrupted
`lenet train` resuming with identical numbers: test_cli)."""

from pathlib import Path

import numpy as np
import pytest

import lenet
from lenet.checkpoint import STATE_FILE

REPO_ROOT = Path(__file__).resolve().parents[1]


def small_split(sample, size=640):
    data = lenet.Mnist(sample.x_train[:size], sample.y_train[:size], sample.x_test[:100], sample.y_test[:100], "small")
    return lenet.split_validation(data, 64)


def test_a_finished_fit_is_restored_without_training(tmp_path, sample):
    config = lenet.TrainConfig(epochs=1)
    split = small_split(sample)
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    checkpoint = lenet.checkpoint_dir(tmp_path)
    history = lenet.fit(model, split, config, verbose=0, checkpoint_dir=checkpoint)
    # E.g. the notebook's kernel restarted after fit, before the artifacts were saved.
    restored_model = lenet.compiled_lenet5(config, split)
    assert lenet.fit(restored_model, split, config, verbose=0, checkpoint_dir=checkpoint) == history
    for mine, theirs in zip(restored_model.weights, model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    lenet.save_artifacts(tmp_path, {"history": history}, restored_model)
    assert not checkpoint.exists()  # a saved run leaves no checkpoint behind


@pytest.mark.parametrize("change", [{"epochs": 2}, {"data": True}])
def test_a_checkpoint_of_another_run_is_refused_not_discarded(tmp_path, sample, change):
    config = lenet.TrainConfig(epochs=1)
    split = small_split(sample)
    model = lenet.compiled_lenet5(config, split)
    lenet.fit(model, split, config, verbose=0, checkpoint_dir=tmp_path)
    other_config = lenet.TrainConfig(epochs=change.get("epochs", 1))
    other_split = small_split(sample, size=576) if "data" in change else split
    problem = r"data \(saved" if "data" in change else r"epochs=1 \(this run: 2\); to resume it, set these back"
    with pytest.raises(lenet.CheckpointError, match=f"{tmp_path}: checkpoint was made with (other )?{problem}"):
        lenet.fit(
            lenet.compiled_lenet5(other_config, other_split),
            other_split,
            other_config,
            verbose=0,
            checkpoint_dir=tmp_path,
        )
    assert (tmp_path / STATE_FILE).is_file()
