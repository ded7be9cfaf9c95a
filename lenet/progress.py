"""Per-epoch callbacks: the history a run records, and one log line per epoch where Keras's bar would redraw itself."""

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Starts each epoch's wall clock, which runs through training and validation."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()


class EpochRecord(EpochTimer):
    """The per-epoch history as Keras logs it, plus `seconds`."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.history.setdefault("seconds", []).append(round(time.perf_counter() - self.start, 3))


class EpochLines(EpochTimer):
    """Prints `epoch 3/10  loss 0.0412  accuracy 0.9871  val_loss ...  4.6 s`, in results.json's order."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        names = sorted(logs, key=lambda name: (name.startswith("val_"), name.removeprefix("val_") != "loss", name))
        metrics = "  ".join(f"{name} {float(logs[name]):.4f}" for name in names)
        line = f"epoch {epoch + 1}/{self.params['epochs']}  {metrics}  {time.perf_counter() - self.start:.1f} s"
        print(line, flush=True)
