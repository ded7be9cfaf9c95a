"""tf.distribute strategies: the choice of strategy, and two replicas that train like one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh process: logical devices must be configured before TensorFlow starts.
# One epoch on 512 sample images, seeded identically, on one device and on two replicas.
TWO_REPLICAS = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import lenet
from lenet.data import Split
data = lenet.load_mnist("sample")
split = Split(data.x_train[:512], data.y_train[:512], data.x_train[-200:], data.y_train[-200:],
              data.x_test, data.y_test)
report = {}
for strategy in ("default", "mirrored"):
    config = lenet.TrainConfig(epochs=1, strategy=strategy)
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    history = lenet.fit(model, split, config, verbose=0)
    report[strategy] = {
        "replicas": lenet.strategy_for(config).num_replicas_in_sync,
        "variable": type(model.get_layer("c1").kernel.value).__name__,
        "loss": history["loss"][0],
        "val_loss": history["val_loss"][0],
    }
print(json.dumps(report))
"""


@pytest.mark.slow
def test_two_mirrored_replicas_train_like_one_device():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", TWO_REPLICAS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["default"]["replicas"] == 1 and report["mirrored"]["replicas"] == 2
    assert report["mirrored"]["variable"] == "MirroredVariable"
    # Each replica gets half of every global batch of 64 and the gradients are summed: the
    # same updates up to float32 summation order (measured: relative difference ~1e-7).
    for metric in ("loss", "val_loss"):
        assert report["mirrored"][metric] == pytest.approx(report["default"][metric], rel=1e-4)
