"""A quick, quiet start: --help, usage errors and `lenet plot` load no TensorFlow, and TensorFlow's start-up lines
stay off the command line's stderr while errors do not."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from lenet import startup

ROOT = Path(__file__).resolve().parents[1]
START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796160882.654676    4997 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
    "2026-11-28 19:12:51.144826: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.\n"
)


def python(*arguments: str, **environment: str | None) -> subprocess.CompletedProcess:
    """A fresh interpreter that imports this checkout's lenet; a variable given as None is unset."""
    env = {key: value for key, value in {**os.environ, "PYTHONPATH": str(ROOT), **environment}.items() if value}
    return subprocess.run([sys.executable, *arguments], env=env, capture_output=True, text=True, timeout=300)


def test_start_up_lines_are_dropped_and_anything_else_is_replayed(capfd):
    with startup.start_up_log_hidden():
        os.write(2, (START_UP + "a real warning\n").encode())
    assert capfd.readouterr().err == "a real warning\n"


def test_everything_is_replayed_when_asked_or_when_the_block_fails(capfd, monkeypatch):
    with startup.start_up_log_hidden(show_log=True):  # --debug
        os.write(2, START_UP.encode())
    assert capfd.readouterr().err == START_UP
    with monkeypatch.context() as patch, startup.start_up_log_hidden():
        patch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user asked for TensorFlow's log
        os.write(2, START_UP.encode())
    assert capfd.readouterr().err == START_UP
    with pytest.raises(ImportError), startup.start_up_log_hidden():
        os.write(2, START_UP.encode())
        raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
    assert capfd.readouterr().err == START_UP


@pytest.mark.slow
def test_a_fresh_lenet_loads_tensorflow_only_where_needed_and_starts_quietly(tmp_path, sample):
    """One fresh process, as `python -m lenet ...`: --help and usage errors load neither TensorFlow nor NumPy nor
    PIL, `lenet plot` no TensorFlow, `lenet predict` prints nothing on stderr; every public name loads, without Ray."""
    shutil.copy(ROOT / "results.json", tmp_path / "results.json")
    Image.fromarray(255 - sample.x_test[0]).save(tmp_path / "digit.png")
    probe = (
        "import runpy, sys\n"
        "results, image = sys.argv[1:]\n"
        "def run(*arguments):\n"
        "    sys.argv = ['lenet', *arguments]\n"
        "    try:\n"
        "        runpy.run_module('lenet', run_name='__main__')\n"
        "    except SystemExit as exit:\n"
        "        return exit.code\n"
        "def loaded(after):\n"
        "    names = [name for name in ('numpy', 'PIL', 'tensorflow', 'keras', 'ray') if name in sys.modules]\n"
        "    print(f'== {after} loaded:', *names, file=sys.stderr, flush=True)\n"
        "for command in ('train', 'evaluate', 'predict', 'export', 'plot', 'reproduce', 'sweep'):\n"
        "    assert run(command, '--help') == 0\n"
        "assert run('--help') == 0 and run('train', '--epochs', 'two') == 2\n"
        "assert run('train', '--epochs', '0') == 2  # TrainConfig's refusal\n"
        "loaded('help and usage errors')\n"
        "assert run('plot', results) == 0\n"
        "loaded('plot')\n"
        "assert run('predict', image) == 0\n"
        "loaded('predict')\n"
        "import lenet, lenet.sweep\n"
        "missing = [name for name in lenet.__all__ if getattr(lenet, name, None) is None]\n"
        "assert not missing and set(lenet.__all__) <= set(dir(lenet)), missing\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    result = python("-c", probe, str(tmp_path / "results.json"), str(tmp_path / "digit.png"), TF_CPP_MIN_LOG_LEVEL=None)
    assert result.returncode == 0, result.stderr
    loaded = dict(line[3:].split(" loaded:") for line in result.stderr.splitlines() if line.startswith("== "))
    assert loaded["help and usage errors"] == ""
    assert "tensorflow" not in loaded["plot"] and "keras" not in loaded["plot"]
    with Image.open(tmp_path / "results.png") as again, Image.open(ROOT / "results.png") as committed:
        assert again.size == committed.size  # written next to RESULTS_JSON
    # TensorFlow's start-up lines hidden (lenet's default TF_CPP_MIN_LOG_LEVEL). With LiteRT's own package
    # (`lenet[lite]`, requirements.txt) the shipped LiteRT file predicts without TensorFlow (docs/performance.md).
    assert result.stderr.split(" plot loaded:")[1].split("\n", 1)[1].startswith("== predict loaded:")
    assert ("tensorflow" in loaded["predict"]) == (importlib.util.find_spec("ai_edge_litert") is None)
    assert "--batch-size" in result.stdout and "--top K" in result.stdout and "digit.png" in result.stdout


@pytest.mark.slow
def test_run_notebook_names_the_failing_cell_and_its_error_in_a_few_lines(tmp_path):
    # The notebook's own first steps, cut short where its data fails to load (before TensorFlow starts).
    import nbformat

    cells = ["import lenet", 'data = lenet.load_mnist("missing.npz")', "print('never')"]
    notebook = tmp_path / "steps.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells]), notebook)
    before = notebook.read_bytes()
    result = python(str(ROOT / "tools" / "run_notebook.py"), str(notebook))
    assert result.returncode == 1
    assert "\x1b[" not in result.stderr and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert lines[0].startswith("steps.ipynb: cell 1") and "lenet.load_mnist(" in lines[0]
    assert lines[1].startswith("  failed with DataError: ") and "missing.npz" in lines[1]
    assert notebook.read_bytes() == before  # left unchanged
