"""Training progress for logs: one plain line per epoch instead of Keras's progress bar.

Keras's bar redraws itself with carriage returns, which fills log files and CI output
with noise; verbose=2 still prints two lines per epoch. This prints exactly one.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import keras


class EpochTimer(keras.callbacks.Callback):
    """Times each epoch (training and validation): `seconds()` in on_epoch_end; the
    per-epoch record (lenet.training.EpochRecord) and the lines below both use it."""

    _start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self._start


class EpochLines(EpochTimer):
    """Prints `epoch 3/10  loss 0.0412  accuracy 0.9871  val_loss ...  4.6 s` after each epoch."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        # Loss before accuracy, training before validation, as in results.json.
        names = sorted(logs, key=_metric_order)
        metrics = "  ".join(f"{name} {float(logs[name]):.4f}" for name in names)
        line = f"epoch {epoch + 1}/{self.params.get('epochs', '?')}  {metrics}  {self.seconds():.1f} s"
        print(line, file=self.stream or sys.stdout, flush=True)


def _metric_order(name: str) -> tuple[bool, bool, str]:
    metric = name.removeprefix("val_")
    return name != metric, metric != "loss", metric
