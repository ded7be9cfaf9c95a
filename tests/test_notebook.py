"""One recipe, two readers: the notebook's visible Keras code trains what `lenet train` trains."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest

import lenet
from test_clean_outputs import CPP_LOG  # tests/ is on sys.path (pytest's prepend import mode)

ROOT = Path(__file__).resolve().parents[1]


def code_cells() -> list[str]:
    """The notebook's code cells as Python: an IPython magic line (%pip, %matplotlib) becomes `pass`."""
    cells = json.loads((ROOT / "lenet_5.ipynb").read_text())["cells"]
    return [
        re.sub(r"^(\s*)%.*$", r"\1pass", "".join(cell["source"]), flags=re.M)
        for cell in cells
        if cell["cell_type"] == "code"
    ]


def run_cells(cells: list[str], namespace: dict) -> dict:
    for number, source in enumerate(cells):
        exec(compile(source, f"lenet_5.ipynb code cell {number}", "exec"), namespace)
    return namespace


def test_the_notebooks_cells_give_lenet_trains_numbers(trained_on_sample, tmp_path, monkeypatch):
    _out, expected, _printed = trained_on_sample  # `lenet train --data sample` (conftest.py)
    for variable, value in {
        "LENET_DATA": "sample",
        "LENET_EPOCHS": expected["config"]["epochs"],
        "LENET_SEED": expected["config"]["seed"],
        "LENET_OUTPUT_DIR": tmp_path,
    }.items():
        monkeypatch.setenv(variable, str(value))
    namespace = run_cells(code_cells(), {"__name__": "__main__"})
    assert isinstance(namespace["schedule"], keras.optimizers.schedules.CosineDecay)  # the code shown
    # Its compile runs several steps per call into TensorFlow, as lenet's does (57 steps: all of them).
    assert namespace["model"].steps_per_execution == lenet.steps_per_execution(namespace["steps_per_epoch"]) > 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"] == expected["config"] and results["data"] == expected["data"]
    assert results["history"] == expected["history"]  # every per-epoch number, exactly
    assert results["test"] == expected["test"]


SCHEDULE_CELL = next(cell for cell in code_cells() if "schedule = " in cell)


# The recipes whose schedule the notebook writes out in Keras (the others it takes from lenet.learning_rate_schedule).
NOTEBOOK_SCHEDULES = sorted(
    name for name, recipe in lenet.RECIPES.items() if recipe.schedule == "cosine" and not recipe.warmup_epochs
)


@pytest.mark.parametrize("recipe", NOTEBOOK_SCHEDULES)
def test_the_notebooks_learning_rate_is_the_recipes_at_every_step(recipe, sample):
    config = lenet.TrainConfig(recipe=recipe, epochs=2)
    split = lenet.split_validation(sample, config.resolved_validation_size(len(sample.y_train)))
    # A lenet without learning_rate_schedule: the cell's own Keras code must make the schedule compared below.
    shown = types.SimpleNamespace(steps_per_epoch=lenet.steps_per_epoch, plot_learning_rate=lambda *arguments: None)
    namespace = run_cells([SCHEDULE_CELL], {"config": config, "split": split, "lenet": shown, "keras": keras})
    steps_per_epoch = lenet.steps_per_epoch(len(split.y_train), config.batch_size)
    expected = lenet.learning_rate_schedule(config.recipe_settings, config.epochs, steps_per_epoch)
    steps = range(config.epochs * steps_per_epoch + 1)

    def rates(schedule):  # step by step: the warm-up's schedule takes one step at a time
        return [schedule if np.isscalar(schedule) else float(schedule(step)) for step in steps]

    assert rates(namespace["schedule"]) == rates(expected)


@pytest.mark.slow
def test_a_fresh_kernel_imports_lenet_before_tensorflow_starts_and_hides_its_cpp_log(tmp_path):
    """Colab's first run: the notebook's cells up to `import lenet` in a fresh process must set the pins
    before TensorFlow reads them, and hide the C++ log TensorFlow lets us hide (at its first op,
    without a GPU, "failed call to cuInit", an ERROR)."""
    cells = code_cells()
    first = next(number for number, source in enumerate(cells) if "import lenet" in source)
    script = "\n".join(cells[: first + 1])
    script += "\nimport tensorflow as tf\ntf.constant(1) + 1\nfrom lenet import reproducibility\n"
    script += "assert not reproducibility._TOO_LATE, reproducibility._TOO_LATE\nprint('ran')\n"
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("TF_", "ONEDNN_"))}
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=300
    )
    assert result.returncode == 0 and result.stdout.endswith("ran\n"), result.stderr[-2000:]
    # Lines printed while TensorFlow loads come before any setting is read (TensorFlow 2.21).
    after_loading = [line for line in result.stderr.splitlines() if not re.match(r"[IW]\d{4} |WARNING: All log", line)]
    assert not [line for line in after_loading if CPP_LOG.search(line)], result.stderr
