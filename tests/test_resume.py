"""Interrupted runs resume from their last completed epoch and end with identical numbers."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import lenet
from lenet.checkpoint import STATE_FILE

REPO_ROOT = Path(__file__).resolve().parents[1]

# Trains 3 epochs on the sample like the trained_on_sample fixture, in fresh processes (so the
# comparison also shows that processes give identical numbers); with a kill point it
# SIGKILLs itself (no cleanup, no Python exit handlers) at the first batch end Keras reports
# in that epoch: before its validation and its checkpoint. (fit runs several steps per
# execution, so Keras reports batch ends only every few dozen batches.)
TRAIN = textwrap.dedent(
    """
    import os, signal, sys
    import keras
    import lenet
    from lenet import experiment, training

    class KillAt(keras.callbacks.Callback):
        def __init__(self, epoch):
            super().__init__()
            self.epoch, self.current = epoch, 0
        def on_epoch_begin(self, epoch, logs=None):
            self.current = epoch
        def on_train_batch_end(self, batch, logs=None):
            if self.current == self.epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    if len(sys.argv) > 2:
        epoch = int(sys.argv[2])
        experiment.fit = lambda *args, callbacks=None, **kwargs: training.fit(
            *args, callbacks=[KillAt(epoch), *(callbacks or [])], **kwargs
        )
    lenet.train_and_evaluate(lenet.TrainConfig(epochs=3), "sample", sys.argv[1], verbose=0)
    """
)


def train(output_dir, *kill_at):
    return subprocess.run(
        [sys.executable, "-c", TRAIN, str(output_dir), *map(str, kill_at)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_and_ends_with_identical_numbers(tmp_path, trained_on_sample):
    _uninterrupted_dir, uninterrupted, _ = trained_on_sample
    killed = train(tmp_path, 1)  # during the second epoch
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = json.loads((tmp_path / ".checkpoint" / STATE_FILE).read_text())
    assert state["epochs_done"] == 1 and not (tmp_path / "results.json").exists()

    resumed = train(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    results = lenet.load_results(tmp_path / "results.json")
    assert results["history"] == uninterrupted["history"]
    assert results["test"] == uninterrupted["test"]
    assert len(results["seconds_per_epoch"]) == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lenet5.keras", "results.json", "results.png"]


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
