"""Resuming an interrupted run. Not Keras's BackupAndRestore: it restores inside `fit`, after the dataset is built,
but our batches (epoch e's shuffle, each step's augmentation seed) must start at the resumed epoch when it is built;
and it keeps no history, and deletes its backup when `fit` returns, before results.json is written."""

import json
from pathlib import Path

import keras

from lenet import artifacts
from lenet.config import TrainConfig
from lenet.data import Split
from lenet.errors import CheckpointError
from lenet.progress import EpochRecord

STATE_FILE = "state.json"


def checkpoint_dir(output_dir: str | Path) -> Path:
    return Path(output_dir) / ".checkpoint"


def saved_epochs(output_dir: str | Path) -> int:
    """The epochs a run writing into `output_dir` has checkpointed (0 without a checkpoint)."""
    try:
        return int(json.loads((checkpoint_dir(output_dir) / STATE_FILE).read_text())["epochs_done"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def run_settings(config: dict, train_size: int) -> dict:
    """A saved config's fields with epochs and validation size resolved, so a run resumes whether they were given or
    left to the recipe (checkpoints from before recipes carried them record them as given)."""
    try:
        return {**config, **TrainConfig(**config).resolved(train_size)}
    except (TypeError, ValueError):  # not a TrainConfig (ConfigError is a ValueError): compared as it is
        return config


class Checkpoint(EpochRecord):
    """The run's record, saved after every epoch `fit` completes and restored on the next start."""

    def __init__(self, directory: str | Path, config: TrainConfig, split: Split) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.train_size = len(split.y_train) + len(split.y_val)  # before the validation set was held out
        # As state.json holds it: the run's epochs and validation size, whether given or left to the recipe.
        resolved = {"epochs": config.resolved_epochs, "validation_size": len(split.y_val)}
        self.config = {**json.loads(json.dumps(config.to_dict())), **resolved}
        self.fingerprint = split.fingerprint

    def restore(self, model: keras.Model) -> "Checkpoint":
        """Load the saved state, if any, into this record and a compiled model. Another run's checkpoint is refused,
        not restarted: that would lose the finished epochs, and other EPOCHS are not the run asked for."""
        if not (self.directory / STATE_FILE).is_file():
            return self
        try:
            state = json.loads((self.directory / STATE_FILE).read_text())
            history, model_file = state["history"], self.directory / state["model"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise self._error(f"unreadable ({error})") from None
        saved = run_settings(state.get("config") or {}, self.train_size)
        if changed := [
            f"{name}={saved.get(name)!r} (this run: {value!r})"
            for name, value in self.config.items()
            if saved.get(name) != value
        ]:
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
        self.history = history
        return self

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Record the epoch, then write the model, state.json (the commit point, naming a complete model file)
        and drop older model files: each atomically, so a kill leaves the previous or the new checkpoint."""
        super().on_epoch_end(epoch, logs)
        epochs_done = len(self.history["loss"])
        model_file = artifacts.save_model(self.directory / f"epoch-{epochs_done}.keras", self.model)
        state = {"epochs_done": epochs_done, "model": model_file.name, "history": self.history, "config": self.config}
        artifacts.save_json(self.directory / STATE_FILE, {**state, "fingerprint": self.fingerprint})
        for old in set(self.directory.glob("epoch-*.keras")) - {model_file}:
            old.unlink(missing_ok=True)

    def _error(self, problem: str) -> CheckpointError:
        path = self.directory
        return CheckpointError(
            f"{path}: checkpoint {problem}; to start over, delete {path} or choose another output directory"
        )
