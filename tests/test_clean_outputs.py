"""The committed notebook and results read clean, as GitHub and Colab show them before any run:
no terminal colour codes, no TensorFlow C++ log lines, no path of the machine that recorded them."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_JSON = ["results.json", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "reports").glob("*.json"))]

ANSI_CODE = re.compile(r"\x1b\[")
# absl's log format (severity, date, time, thread id, file:line]), TensorFlow's own (date, time:
# severity file:line]) and TensorFlow's start-up words.
CPP_LOG = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\]|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "
    r"|absl::InitializeLog|cuInit|cuda drivers",
    re.M,
)
# A path that leaves the repository (../) or starts at the root: /work/..., '/tmp/x', (/home/...).
MACHINE_PATH = re.compile(r"\.\./|(?<![\w.:/~\\-])/[\w.-]+/")


def problems(text: str) -> list[str]:
    """One "kind: line" per offending line and kind."""
    found = []
    for line in text.splitlines():
        for name, pattern in (("terminal code", ANSI_CODE), ("C++ log", CPP_LOG), ("machine path", MACHINE_PATH)):
            if pattern.search(line):
                found.append(f"{name}: {line[:120]!r}")
    return found


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def notebook_texts() -> list[str]:
    """Every cell's source and every text output (images are not text)."""
    texts = []
    for cell in json.loads((ROOT / "lenet_5.ipynb").read_text())["cells"]:
        texts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")) + "".join(output.get("traceback", [])))
            texts += ["".join(value) for kind, value in output.get("data", {}).items() if kind.startswith("text/")]
    return texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Epoch 1/10\n\x1b[1m860/860\x1b[0m 8s 10ms/step", ["terminal code"]),
        ("I0000 00:00:1795791050.956596   30976 cudart_stub.cc:31] Could not find cuda drivers", ["C++ log"]),
        ("I0000 00:00:1795791050.955523   30976 port.cc:153] oneDNN custom operations are on.", ["C++ log"]),
        ("2026-11-28 19:12:51.144826: I tensorflow/core/util/port.cc:153] oneDNN custom", ["C++ log"]),
        ("source: ../shared/data/mnist.npz", ["machine path"]),
        ("--runs /tmp/beyond/variants", ["machine path"]),
        ("  File '/work/venv/lib/python3.11/site-packages/keras/x.py'", ["machine path"]),
        ("source: keras\n860/860 ━━━━ 8s 10ms/step - loss: 0.23\nhttps://github.com/a/b and T-shirt/top", []),
    ],
)
def test_the_checks_tell_clean_from_unclean(text, expected):
    assert [problem.split(":")[0] for problem in problems(text)] == expected


def test_committed_notebook_reads_clean():
    found = [problem for text in notebook_texts() for problem in problems(text)]
    assert not found, "lenet_5.ipynb (re-record it with tools/run_notebook.py):\n" + "\n".join(found)


def test_committed_notebook_metadata_holds_no_run_state():
    # What Colab and Jupyter need to open it; no widget state (tools/run_notebook.py drops the pad's), no timings.
    metadata = json.loads((ROOT / "lenet_5.ipynb").read_text())["metadata"]
    assert set(metadata) <= {"colab", "kernelspec", "language_info"}, sorted(metadata)


@pytest.mark.parametrize("name", COMMITTED_JSON)
def test_committed_results_read_clean(name):
    found = [problem for text in strings(json.loads((ROOT / name).read_text())) for problem in problems(text)]
    assert not found, f"{name}:\n" + "\n".join(found)
