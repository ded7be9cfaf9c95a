"""A quiet start: TensorFlow's start-up lines stay off the command line's stderr, errors do not."""

from __future__ import annotations

import importlib.util
import os
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


def test_start_up_lines_are_dropped_and_anything_else_is_replayed(capfd):
    with startup.start_up_log_hidden():
        os.write(2, (START_UP + "a real warning\n").encode())
    assert capfd.readouterr().err == "a real warning\n"


def test_everything_is_replayed_when_asked_or_when_the_block_fails(capfd):
    with startup.start_up_log_hidden(show_log=True):
        os.write(2, START_UP.encode())
    assert capfd.readouterr().err == START_UP
    with pytest.raises(ImportError), startup.start_up_log_hidden():
        os.write(2, START_UP.encode())
        raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
    assert capfd.readouterr().err == START_UP


@pytest.mark.slow
def test_lenet_predict_prints_no_tensorflow_start_up_lines(tmp_path, sample):
    image = tmp_path / "digit.png"
    Image.fromarray(255 - sample.x_test[0]).save(image)
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}

    def predict(**extra: str) -> subprocess.CompletedProcess:
        # As `lenet predict IMAGE`, and saying whether TensorFlow was imported.
        code = "import sys; from lenet.cli import main; main(sys.argv[1:]); print('tensorflow' in sys.modules)"
        command = [sys.executable, "-c", code, "predict", str(image)]
        return subprocess.run(command, env={**env, **extra}, capture_output=True, text=True, timeout=300)

    quiet = predict()
    assert quiet.returncode == 0 and "digit.png" in quiet.stdout
    assert quiet.stderr == ""
    # With LiteRT's own package (`lenet[lite]`, requirements.txt), the shipped LiteRT file predicts
    # without TensorFlow's seconds of start-up (docs/performance.md); without it, through TensorFlow's.
    assert quiet.stdout.splitlines()[-1] == str(importlib.util.find_spec("ai_edge_litert") is None)
    asked = predict(TF_CPP_MIN_LOG_LEVEL="0")  # the user asked for TensorFlow's log: it is there
    assert asked.returncode == 0 and startup.CPP_LOG_LINE.search(asked.stderr), asked.stderr


@pytest.mark.slow
def test_run_notebook_names_the_failing_cell_and_its_error_in_a_few_lines(tmp_path):
    notebook = tmp_path / "lenet_5.ipynb"
    notebook.write_bytes((ROOT / "lenet_5.ipynb").read_bytes())
    env = {**os.environ, "LENET_DATA": str(tmp_path / "missing.npz")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_notebook.py"), str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "\x1b[" not in result.stderr and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert lines[0].startswith("lenet_5.ipynb: cell ") and "lenet.load_mnist(" in lines[0]
    assert lines[1].startswith("  failed with DataError: ") and "missing.npz" in lines[1]
    assert notebook.read_bytes() == (ROOT / "lenet_5.ipynb").read_bytes()  # left unchanged
