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
from test_reproducibility import SAMPLE_RUN  # the notebook's quick mode (conftest.py), run by `lenet train`

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


def notebook_results(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """results.json of the notebook's quick-mode run: nbval's, which ran before this test in this worker
    (conftest.py groups them), or where this file runs without the notebook, a run of its own in a kernel."""
    if any(item.path.name == "lenet_5.ipynb" for item in request.session.items):
        written = Path(os.environ["LENET_OUTPUT_DIR"]) / "results.json"
        assert written.is_file(), "nbval's run of the notebook wrote no results.json: see its failing cell"
        return json.loads(written.read_text())
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LENET_OUTPUT_DIR", str(tmp_path))
    notebook = nbformat.read(ROOT / "lenet_5.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    return json.loads((tmp_path / "results.json").read_text())


def test_the_notebooks_cells_give_lenet_trains_numbers(request, tmp_path, monkeypatch):
    expected, results = json.loads(SAMPLE_RUN.read_text()), notebook_results(request, tmp_path, monkeypatch)
    assert results["config"] == expected["config"] and results["data"] == expected["data"]
    assert results["history"] == expected["history"]  # every per-epoch number, exactly
    assert results["test"] == expected["test"]


def cell_with(text: str) -> str:
    return next(cell for cell in code_cells() if text in cell)


def test_the_notebooks_compile_runs_several_steps_per_call_as_lenets_does():
    # The cell's own model.compile (a LeNet-5 built by the cell before it), with the schedule the notebook shows.
    namespace = {"config": lenet.TrainConfig(), "lenet": lenet, "keras": keras, "steps_per_epoch": 57, "schedule": 1e-3}
    namespace = run_cells([cell_with("lenet.build_lenet5("), cell_with("model.compile(")], namespace)
    assert namespace["model"].steps_per_execution == lenet.steps_per_execution(57) > 1  # 57 steps: all of them
    assert isinstance(namespace["model"].optimizer, keras.optimizers.Adam)


SCHEDULE_CELL = cell_with("schedule = ")


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
