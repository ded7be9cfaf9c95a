"""Shared fixtures. Tests run offline on the shipped sample and write only to temporary dirs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# First, before any test module imports TensorFlow: lenet's pins (lenet/reproducibility.py).
import lenet

# The notebook, run by nbval in a kernel that inherits this environment, takes its
# quick-mode parameters from here: the shipped sample, 2 epochs, a temporary output dir.
_NOTEBOOK_OUTPUT = tempfile.mkdtemp(prefix="lenet-notebook-")
# Hypothesis keeps its example database here instead of .hypothesis/ in the working tree.
_HYPOTHESIS_STORAGE = tempfile.mkdtemp(prefix="lenet-hypothesis-")
os.environ.update(
    LENET_DATA="sample",
    LENET_EPOCHS="2",
    LENET_BATCH_SIZE="64",
    LENET_SEED="42",
    LENET_OUTPUT_DIR=_NOTEBOOK_OUTPUT,
    MPLBACKEND="Agg",
    HYPOTHESIS_STORAGE_DIRECTORY=_HYPOTHESIS_STORAGE,
)
# The notebook's committed outputs are the default model on one device.
for _variable in ("LENET_MNIST_PATH", "LENET_VARIANT", "LENET_STRATEGY", "LENET_MIXED_PRECISION", "TF_CONFIG"):
    os.environ.pop(_variable, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_NOTEBOOK_OUTPUT, ignore_errors=True)
    shutil.rmtree(_HYPOTHESIS_STORAGE, ignore_errors=True)


@pytest.fixture(scope="session")
def sample():
    return lenet.load_mnist("sample")


@pytest.fixture(scope="session")
def trained_on_sample(tmp_path_factory) -> tuple[Path, dict, str]:
    """One real 3-epoch `lenet train` on the sample, as a user runs it with its output going to
    a log (no terminal): (output dir, its results.json, what it printed). Every test that needs
    a trained model, or an uninterrupted run to compare with, shares this one."""
    from lenet import cli

    output_dir = tmp_path_factory.mktemp("run")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(["train", "--data", "sample", "--epochs", "3", "--out", str(output_dir)]) == 0
    return output_dir, json.loads((output_dir / "results.json").read_text()), printed.getvalue()


NOTEBOOK = "lenet_5.ipynb"


def scope(nodeid: str) -> str:
    """A test's pytest-xdist scope: as loadscope's, except that lenet_5.ipynb's cells (nbval) and
    tests/test_notebook.py share one, so the notebook runs once per suite and test_notebook checks the results.json
    that run wrote (LENET_OUTPUT_DIR above)."""
    file = nodeid.rsplit("::", 1)[0]  # loadscope's: the module (or class) of a test
    return NOTEBOOK if Path(file).name in (NOTEBOOK, "test_notebook.py") else file


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files with slow tests (fresh processes, Ray) first, so that pytest-xdist
    (`--dist loadscope --no-loadscope-reorder`, pyproject.toml) starts the longest files early
    and no worker is left running one alone at the end; the notebook's cells before test_notebook.py."""
    slow_scopes = {scope(item.nodeid) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: (scope(item.nodeid) not in slow_scopes, item.path.name != NOTEBOOK))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist's loadscope, one worker per test file, with test_notebook.py in the notebook's scope."""
    if config.getvalue("dist") != "loadscope":  # another --dist given: pytest-xdist's own scheduler
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookWithItsTests(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    return NotebookWithItsTests(config, log)
