"""Training on more than one device: the tf.distribute strategy a TrainConfig asks for.

- "default": TensorFlow's default strategy, one device (what a plain script gets).
- "mirrored": `tf.distribute.MirroredStrategy()`, one replica per GPU of this machine (or per
  logical CPU device); each step's global batch of `config.batch_size` images is split
  evenly across the replicas and their gradients are summed, so the recipe is unchanged.
- "multiworker": `tf.distribute.MultiWorkerMirroredStrategy()`, which reads the cluster from
  the TF_CONFIG environment variable. Keras 3's `fit` does not work across several workers
  (keras-team/keras#20585, tensorflow/tensorflow#72388; reproduced here with TF 2.21 and
  Keras 3.15 and two workers on 127.0.0.1: fit fails with "Attempt to convert a value
  (PerReplica...) with an unsupported type"), so a TF_CONFIG with more than one worker is
  refused with a ConfigError; without TF_CONFIG, or with a one-worker cluster, it trains
  like "mirrored" on this machine's devices.

Build and compile the model under `strategy.scope()` (lenet.experiment.compiled_lenet5 does).
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lenet.config import ConfigError, TrainConfig


def strategy_for(config: TrainConfig) -> tf.distribute.Strategy:
    """The tf.distribute strategy named by `config.strategy`."""
    if config.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if config.strategy == "multiworker":
        workers = cluster_workers(os.environ.get("TF_CONFIG", ""))
        if workers > 1:
            raise ConfigError(
                f"TF_CONFIG describes {workers} workers, but Keras 3's fit cannot train across "
                "workers with MultiWorkerMirroredStrategy (keras-team/keras#20585); use "
                "strategy='mirrored' on one machine with several GPUs instead"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def cluster_workers(tf_config: str) -> int:
    """How many workers (chief included) a TF_CONFIG value describes; 0 when it is unset."""
    if not tf_config.strip():
        return 0
    try:
        cluster = json.loads(tf_config).get("cluster", {})
        return len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    except (ValueError, AttributeError):
        raise ConfigError(
            f'TF_CONFIG is not JSON of the form {{"cluster": {{"worker": [...]}}, "task": ...}}: {tf_config[:80]!r}'
        ) from None
