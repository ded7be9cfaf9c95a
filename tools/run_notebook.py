"""Execute lenet_5.ipynb headless, in place, and save it with clean, compact outputs.

    python tools/run_notebook.py [NOTEBOOK]

Like `jupyter nbconvert --execute --inplace`, but it stores the outputs as a reader should see
them: Keras's progress-bar updates merged into their final lines (the raw stream is ~1 MB of
backspaces), as plain text without terminal colour codes, and without TensorFlow's C++ start-up
lines (timestamps, a process id, "Could not find cuda drivers"), which TensorFlow prints before
any setting can hide them; the lines it drops are printed here instead. It records no timing
metadata, prints each cell as it finishes, and replaces the notebook only after every cell has run.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.artifacts import write_atomically

# Terminal colour and style codes, e.g. Keras's bold step counts: "\x1b[1m860/860\x1b[0m".
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# C++ log lines of TensorFlow and XLA, in absl's format (severity, date, time, thread id,
# file:line]; before absl is initialised the time is seconds since 1970: "I0000 00:00:1795...")
# or TensorFlow's own ("2026-11-28 19:12:51.144826: E file.cc:51] ..."), and absl's notice that
# it logs to stderr before it is initialised.
CPP_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] .*"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)\n?",
    flags=re.M,
)


def clean_outputs(cell) -> list[str]:
    """Strip colour codes from a code cell's text outputs and drop C++ log lines from its stderr.

    Returns the dropped lines; a stream left empty is removed.
    """
    dropped: list[str] = []
    kept = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            text = ANSI_CODE.sub("", output.text)
            if output.name == "stderr":
                dropped += [line.rstrip("\n") for line in CPP_LOG_LINE.findall(text)]
                text = CPP_LOG_LINE.sub("", text)
            if not text:
                continue
            output.text = text
        elif "text/plain" in output.get("data", {}):
            output.data["text/plain"] = ANSI_CODE.sub("", output.data["text/plain"])
        kept.append(output)
    cell.outputs = kept
    return dropped


def run(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    total = sum(cell.cell_type == "code" for cell in notebook.cells)
    started = time.perf_counter()

    def report(cell, cell_index: int, **_: object) -> None:
        first_line = cell.source.splitlines()[0] if cell.source else ""
        print(f"[{time.perf_counter() - started:6.1f}s] cell {cell_index:2d} done: {first_line[:60]}", flush=True)

    client = NotebookClient(
        notebook,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        coalesce_streams=True,
        on_cell_executed=report,
    )
    print(f"executing {path} ({total} code cells)", flush=True)
    client.execute()
    for cell in notebook.cells:
        for line in clean_outputs(cell) if cell.cell_type == "code" else []:
            print(f"  dropped from the outputs: {line}", flush=True)
    write_atomically(path, lambda temporary: nbformat.write(notebook, temporary))
    print(f"saved {path} in {time.perf_counter() - started:.0f}s", flush=True)


if __name__ == "__main__":
    run(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "lenet_5.ipynb").resolve())
