"""Training on more than one device: the tf.distribute strategy a TrainConfig asks for.

- "default": TensorFlow's default strategy, one device (what a plain script gets).
- "mirrored": `tf.distribute.MirroredStrategy()`, one replica per GPU of this machine (or per
  logical CPU device); each step's global batch of `config.batch_size` images is split
  evenly across the replicas and their gradients are summed, so the recipe is unchanged.

There is no multi-worker strategy: Keras 3's `fit` does not train across several workers
(keras-team/keras#20585, tensorflow/tensorflow#72388; reproduced with TF 2.21, Keras 3.15 and
two workers on 127.0.0.1), and on one worker MultiWorkerMirroredStrategy is "mirrored".

Build and compile the model under `strategy.scope()` (lenet.experiment.compiled_lenet5 does).
"""

from __future__ import annotations

import tensorflow as tf

from lenet.config import TrainConfig


def strategy_for(config: TrainConfig) -> tf.distribute.Strategy:
    """The tf.distribute strategy named by `config.strategy`."""
    if config.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
