"""Per-epoch callbacks: the history a run records, and one plain log line per epoch.

Keras's progress bar redraws itself with carriage returns, which fills log files and CI
output with noise; verbose=2 still prints two lines per epoch. EpochLines prints exactly one.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import keras


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch, training and validation together."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self._start


class EpochRecord(EpochTimer):
    """The per-epoch history as Keras logs it, plus `seconds`; it can start from a checkpoint's
    history, so a resumed run reports every epoch."""

    def __init__(self, history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {name: list(values) for name, values in (history or {}).items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.history.setdefault("seconds", []).append(round(self.seconds(), 3))


class EpochLines(EpochTimer):
    """Prints `epoch 3/10  loss 0.0412  accuracy 0.9871  val_loss ...  4.6 s` after each epoch."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        # Loss before accuracy, training before validation, as in results.json.
        names = sorted(logs, key=lambda name: (name.startswith("val_"), name.removeprefix("val_") != "loss", name))
        metrics = "  ".join(f"{name} {float(logs[name]):.4f}" for name in names)
        line = f"epoch {epoch + 1}/{self.params.get('epochs', '?')}  {metrics}  {self.seconds():.1f} s"
        print(line, file=self.stream or sys.stdout, flush=True)
