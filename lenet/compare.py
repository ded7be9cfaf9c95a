"""Repeated runs for comparisons: each run in a fresh process, summarised as mean and spread.

scripts/seed_spread.py (one recipe, several seeds) and scripts/compare_variants.py (modern
vs classic, several seeds each) are thin command lines over these functions.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
from pathlib import Path
from typing import Any

from lenet.config import TrainConfig


def _train(config: TrainConfig, data: str, output_dir: str) -> None:
    from lenet.run import train_and_evaluate

    train_and_evaluate(config, data, output_dir, verbose=2)


def train_in_fresh_process(config: TrainConfig, data: str, output_dir: str | Path) -> dict[str, Any]:
    """Train and test once in a new Python process (as the notebook would); return results.json.

    A fresh process means no TensorFlow state, graph or seed carries over between runs.
    """
    process = multiprocessing.get_context("spawn").Process(
        target=_train, args=(config, data, str(output_dir))
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{output_dir}: training failed with exit code {process.exitcode}")
    return json.loads((Path(output_dir) / "results.json").read_text())


def run_summary(results: dict[str, Any]) -> dict[str, Any]:
    """The numbers a comparison table needs from one run's results.json."""
    return {
        "seed": results["config"]["seed"],
        "test_accuracy": results["test"]["accuracy"],
        "test_loss": results["test"]["loss"],
        "seconds_per_epoch": statistics.median(results["seconds_per_epoch"]),
        "val_accuracy": results["history"]["val_accuracy"],
    }


def accuracy_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, sample standard deviation, min and max of the runs' test accuracy."""
    accuracies = [run["test_accuracy"] for run in runs]
    return {
        "n": len(runs),
        "mean": statistics.mean(accuracies),
        "std": statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
        "min": min(accuracies),
        "max": max(accuracies),
    }


def shared_config(results: dict[str, Any], varied: tuple[str, ...]) -> dict[str, Any]:
    """The run's config without the fields the comparison varies."""
    return {key: value for key, value in results["config"].items() if key not in varied}
