"""Runs that cannot succeed stop with one clear error and write nothing."""

import keras
import numpy as np
import pytest

import lenet


def tiny_npz(path, sample, train=640, **overrides):
    arrays = dict(
        x_train=sample.x_train[:train],
        y_train=sample.y_train[:train],
        x_test=sample.x_test[:100],
        y_test=sample.y_test[:100],
    )
    np.savez(path, **{**arrays, **overrides})
    return path


def test_a_nan_loss_stops_training_with_a_clear_error_and_writes_nothing(tmp_path, sample):
    output_dir = tmp_path / "run"
    config = lenet.TrainConfig(epochs=2, learning_rate=1e6, validation_size=64)
    with pytest.raises(
        lenet.TrainingError, match=r"loss became (nan|inf) in epoch 1 of 2 \(learning_rate=1e\+06\); lower"
    ):
        lenet.train_and_evaluate(config, str(tiny_npz(tmp_path / "tiny.npz", sample)), output_dir, verbose=0)
    assert not output_dir.exists()  # no results, no model, no checkpoint


class PoisonedAtEpoch2(keras.callbacks.Callback):
    """NaN logits from epoch 2 on, so the loss diverges after epoch 1 was checkpointed."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == 1:
            self.model.get_layer("logits").bias.assign(np.full(10, np.nan, np.float32))


@pytest.mark.parametrize("existing", [False, True])
def test_a_later_nan_loss_removes_the_checkpoint_and_only_a_new_output_dir(tmp_path, sample, existing):
    output_dir = tmp_path / "run"
    if existing:
        output_dir.mkdir()
        (output_dir / "notes.txt").write_text("mine")
    config, data = lenet.TrainConfig(epochs=2, validation_size=64), str(tiny_npz(tmp_path / "tiny.npz", sample))
    with pytest.raises(lenet.TrainingError, match=r"loss became (nan|inf) in epoch 2 of 2"):
        lenet.train_and_evaluate(config, data, output_dir, verbose=0, callbacks=[PoisonedAtEpoch2()])
    # Epoch 1's checkpoint is gone (the same config would diverge again), and so is the directory the run made.
    if existing:
        assert sorted(path.name for path in output_dir.iterdir()) == ["notes.txt"]
    else:
        assert not output_dir.exists()


@pytest.mark.parametrize(
    "config, overrides, problem",
    [
        (lenet.TrainConfig(validation_size=640), {}, "cannot hold out 640 of 640 training images"),
        (lenet.TrainConfig(), {"y_train": np.full(640, 10, np.uint8)}, "y_train holds labels"),
        (lenet.TrainConfig(), {"x_test": np.full((100, 28, 28), np.nan)}, "x_test holds NaN values"),
    ],
)
def test_bad_data_or_config_is_refused_before_anything_is_written(tmp_path, sample, config, overrides, problem):
    output_dir = tmp_path / "run"
    with pytest.raises(lenet.DataError, match=problem):
        lenet.train_and_evaluate(config, str(tiny_npz(tmp_path / "bad.npz", sample, **overrides)), output_dir)
    assert not output_dir.exists()
