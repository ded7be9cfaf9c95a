"""A whole run, as the notebook does it step by step: data, model, fit, test once, save."""

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from lenet import artifacts, reproducibility
from lenet.checkpoint import checkpoint_dir
from lenet.config import TrainConfig
from lenet.data import Mnist, Split, load_mnist, split_validation
from lenet.model import build_lenet5
from lenet.plots import plot_history
from lenet.sdlm import compile_for_sdlm, fit_sdlm
from lenet.training import compile_with_recipe, evaluate, fit, set_seed, steps_per_epoch

Results = dict[str, Any]  # results.json's content


def prepare_data(source: str | Mnist, config: TrainConfig) -> tuple[Mnist, Split]:
    """The data source (or data already loaded), and its split with the configured validation set held out."""
    data = source if isinstance(source, Mnist) else load_mnist(source)
    return data, split_validation(data, config.resolved_validation_size(len(data.y_train)))


def strategy_for(config: TrainConfig) -> tf.distribute.Strategy:
    """One device, or for "mirrored" a replica per GPU (or logical CPU device), each given a share of every batch
    and the gradients summed. Not multi-worker: Keras 3's `fit` fails across workers (keras-team/keras#20585)."""
    return tf.distribute.MirroredStrategy() if config.strategy == "mirrored" else tf.distribute.get_strategy()


def compiled_lenet5(config: TrainConfig, split: Split) -> keras.Model:
    """LeNet-5 built and compiled for `split` in `config.strategy`'s scope, so its state is on every replica."""
    with strategy_for(config).scope():
        model = build_lenet5(config.variant, mixed_precision=config.mixed_precision)
        if uses_sdlm(config):
            return compile_for_sdlm(model)
        return compile_with_recipe(model, config, steps_per_epoch(len(split.y_train), config.batch_size))


def uses_sdlm(config: TrainConfig) -> bool:
    """Whether the recipe is the 1998 paper's per-example training (lenet/sdlm.py) instead of Keras's fit."""
    return config.recipe_settings.optimizer == "sdlm"


def build_results(
    config: TrainConfig, data: Mnist, split: Split, history: dict[str, list[float]], test: dict[str, float] | None
) -> Results:
    """Everything needed to judge and reproduce a run, as JSON-ready data (test None: not tested)."""
    return {
        "config": config.to_dict(),  # as given: None where the recipe or the default decides
        "resolved": config.resolved(len(data.y_train)),  # what they decided: the run's epochs and validation size
        "recipe": {"name": config.recipe, **dataclasses.asdict(config.recipe_settings)},
        "data": {"source": data.source, "fingerprint": data.fingerprint, "sizes": split.sizes()},
        "history": {name: values for name, values in history.items() if name != "seconds"},
        "test": test,
        "seconds_per_epoch": history["seconds"],
        "environment": reproducibility.environment(),
    }


def save_artifacts(output_dir: str | Path, results: Results, model: keras.Model | None = None) -> dict[str, Path]:
    """Write results.json, results.png and, given one, the model: then the run is complete, and its checkpoint goes."""
    output_dir = Path(output_dir)
    written = {
        "results": artifacts.save_json(output_dir / artifacts.RESULTS_JSON, results),
        "figure": artifacts.save_figure(output_dir / artifacts.RESULTS_PNG, plot_history(results["history"])),
    }
    if model is not None:
        written["model"] = artifacts.save_model(output_dir / artifacts.MODEL_FILE, model)
        shutil.rmtree(checkpoint_dir(output_dir), ignore_errors=True)
    return written


def train_and_evaluate(
    config: TrainConfig,
    source: str | Mnist,
    output_dir: str | Path,
    verbose: str | int = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    evaluate_test: bool = True,
) -> Results:
    """Train on `source` with `config`, test once (not with `evaluate_test=False`: results["test"] is None), write
    the artifacts; return the results. Started again after an interruption, it resumes after the last completed
    epoch; bad data, a bad config or a NaN loss write nothing. `callbacks` go to Keras's fit."""
    output_dir = Path(output_dir)
    existed = output_dir.exists()
    data, split = prepare_data(source, config)
    try:
        set_seed(config.seed)
        model = compiled_lenet5(config, split)
        train = fit_sdlm if uses_sdlm(config) else fit
        history = train(model, split, config, verbose, callbacks, checkpoint_dir=checkpoint_dir(output_dir))
        test = evaluate(model, split.x_test, split.y_test) if evaluate_test else None
        results = build_results(config, data, split, history, test)
        save_artifacts(output_dir, results, model)
    except BaseException:
        if not existed and output_dir.is_dir() and not any(output_dir.iterdir()):
            output_dir.rmdir()
        raise
    return results
