"""Speed levers of the training path must not change a number: steps per execution, no copies."""

import pytest

import lenet
from lenet import training
from lenet.data import Split


@pytest.mark.parametrize(
    ("steps", "limit", "expected"),
    [(860, 100, 86), (57, 100, 57), (97, 100, 97), (101, 100, 1), (20, 1, 1), (1, 100, 1)],
)
def test_steps_per_execution_is_the_largest_divisor_within_the_limit(steps, limit, expected, monkeypatch):
    monkeypatch.setattr(training, "MAX_STEPS_PER_EXECUTION", limit)
    assert training.steps_per_execution(steps) == expected


def _history(split: Split, config: lenet.TrainConfig) -> tuple[dict, int]:
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    history = lenet.fit(model, split, config, verbose=0)
    del history["seconds"]
    return history, model.steps_per_execution


def test_steps_per_execution_keeps_the_history_identical(sample, monkeypatch):
    # 1,250 images: 19 full batches and one of 34, so the short last batch is covered too.
    split = Split(
        sample.x_train[:1250],
        sample.y_train[:1250],
        sample.x_train[-200:],
        sample.y_train[-200:],
        sample.x_test[:10],
        sample.y_test[:10],
    )
    config = lenet.TrainConfig(epochs=2, seed=3)
    batched, steps = _history(split, config)
    monkeypatch.setattr(training, "steps_per_execution", lambda steps: 1)
    single, one = _history(split, config)
    assert (steps, one) == (20, 1)
    assert batched == single


def test_loaded_images_are_shared_with_tensorflow_not_copied(sample):
    import numpy as np

    assert sample.x_train.ctypes.data % lenet.data.ALIGNMENT == 0
    images = lenet.data.aligned(sample.x_train[:8, ..., np.newaxis])
    tensor = training.shared_tensor(images)
    images[0, 0, 0, 0] = 255 - images[0, 0, 0, 0]
    assert int(tensor[0, 0, 0, 0]) == images[0, 0, 0, 0]  # the same memory
    unaligned = sample.x_train.reshape(-1)[1:785].reshape(1, 28, 28)
    assert (training.shared_tensor(unaligned).numpy() == unaligned).all()  # copied instead
