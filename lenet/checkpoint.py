"""Resuming an interrupted run: a checkpoint after every epoch, restored on the next start.

After each completed epoch the model (weights and Adam's state) and the history so far are
written to `<output_dir>/.checkpoint/`. A run started again with the same output directory,
config and data loads them and trains only the remaining epochs; since epoch e's shuffle
depends only on (seed, e), it ends with exactly the numbers of an uninterrupted run.

Why not Keras's `BackupAndRestore` (with our identity check on top): it restores the model
in `on_train_begin`, after `fit` has been given its dataset, but our batches (epoch e's
shuffle, the augmentation's per-step seeds) must start at the resumed epoch when the dataset
is built, so a resumed run would not see the batches an uninterrupted one sees. It also keeps
no history (a resumed run's results.json would lack the earlier epochs), and by default
deletes its backup when `fit` returns, before results.json is written. Ours stays.

A run started with other settings (EPOCHS among them) or other data is refused, never
restarted: a fresh start would throw away the finished epochs, and a resume with other EPOCHS
is not the run asked for (the cosine schedule spans all epochs). The message names the
setting, its saved value (set it back to resume) and the directory to delete to start over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras

from lenet import artifacts
from lenet.config import ConfigError, TrainConfig
from lenet.data import Split, arrays_sha256

CHECKPOINT_DIR = ".checkpoint"
STATE_FILE = "state.json"


class CheckpointError(ConfigError):
    """A checkpoint that cannot be resumed; the message names the directory and the way out."""


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where a run writing into `output_dir` keeps its checkpoint."""
    return Path(output_dir) / CHECKPOINT_DIR


def training_fingerprint(split: Split) -> str:
    """sha256 over the training and validation arrays: resuming on other data is refused."""
    return arrays_sha256((split.x_train, split.y_train, split.x_val, split.y_val))


def saved_epochs(output_dir: str | Path) -> int:
    """Epochs saved in the checkpoint of a run writing into `output_dir` (0 without one)."""
    try:
        return int(json.loads((checkpoint_dir(output_dir) / STATE_FILE).read_text())["epochs_done"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def remove_checkpoint(directory: str | Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


class Checkpoint:
    """The checkpoint of one run: what it must match, and how to restore and extend it."""

    def __init__(self, directory: str | Path, config: TrainConfig, fingerprint: str) -> None:
        self.directory = Path(directory)
        # Through JSON, so it compares equal to what state.json holds.
        self.config = json.loads(json.dumps(config.to_dict()))
        self.fingerprint = fingerprint

    def restore(self, model: keras.Model) -> dict[str, list[float]]:
        """Load the saved state into a compiled model; return the history so far ({} if none).

        A checkpoint of another config or other data is refused, never silently discarded.
        """
        state_path = self.directory / STATE_FILE
        if not state_path.is_file():
            return {}
        try:
            state = json.loads(state_path.read_text())
            history, model_file = state["history"], self.directory / state["model"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise self._error(f"unreadable ({error})") from None
        saved = state.get("config") or {}
        changed = [
            f"{name}={saved.get(name)!r} (this run: {value!r})"
            for name, value in self.config.items()
            if saved.get(name) != value
        ]
        if changed:
            raise self._error(f"was made with {', '.join(changed)}; to resume it, set these back")
        if state.get("fingerprint") != self.fingerprint:
            raise self._error(
                f"was made with other data (saved: {state.get('fingerprint')}; this run: {self.fingerprint})"
            )
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)  # so its saved state loads too
        try:
            model.load_weights(model_file)
        except Exception as error:  # h5py, zipfile and Keras errors alike
            raise self._error(f"{model_file.name} is unreadable ({error})") from None
        return history

    def save(self, model: keras.Model, history: dict[str, list[float]]) -> None:
        """Write the model, then state.json (the commit point), then drop older model files.

        Each file is written atomically, and state.json names a model file that is complete,
        so a kill at any moment leaves the previous or the new checkpoint, never a mix.
        """
        epochs_done = len(history["loss"])
        model_file = artifacts.save_model(self.directory / f"epoch-{epochs_done}.keras", model)
        state = {
            "epochs_done": epochs_done,
            "model": model_file.name,
            "history": history,
            "config": self.config,
            "fingerprint": self.fingerprint,
        }
        artifacts.save_json(self.directory / STATE_FILE, state)
        for old in self.directory.glob("epoch-*.keras"):
            if old != model_file:
                old.unlink(missing_ok=True)

    def _error(self, problem: str) -> CheckpointError:
        return CheckpointError(
            f"{self.directory}: checkpoint {problem}; to start over, delete {self.directory} "
            "or choose another output directory"
        )


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Saves a checkpoint after every epoch that was not stopped (by TerminateOnNaN, say:
    `fit` then removes the checkpoint, since the same config would diverge again).
    (`save_artifacts` removes it once a run's results are written: nothing is left to resume.)"""

    def __init__(self, checkpoint: Checkpoint, history: dict[str, list[float]]) -> None:
        super().__init__()
        self.checkpoint = checkpoint
        self.history = history  # the caller's record, already holding this epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self.model.stop_training:
            self.checkpoint.save(self.model, self.history)
