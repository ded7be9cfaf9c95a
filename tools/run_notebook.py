"""Execute lenet_5.ipynb headless, in place, and save it with clean, compact outputs.

    python tools/run_notebook.py [NOTEBOOK]

Like `jupyter nbconvert --execute --inplace`, but it stores the outputs as a reader should see
them: Keras's progress-bar updates merged into their final lines (the raw stream is ~1 MB of
backspaces), as plain text without terminal colour codes, and without TensorFlow's C++ start-up
lines (timestamps, a process id, "Could not find cuda drivers"), which TensorFlow prints before
any setting can hide them; the lines it drops are printed here instead. It records no timing
metadata, prints each cell as it finishes, and replaces the notebook only after every cell has run.
A cell that fails ends the run with its number and its error in two lines, exit code 1.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.artifacts import write_atomically
from lenet.startup import CPP_LOG_LINE

# nbformat's notice that cells of nbformat 4.5 should have ids: the notebook is saved as it was read.
warnings.filterwarnings("ignore", message="Cell is missing an id field")
# Terminal colour and style codes, e.g. Keras's bold step counts: "\x1b[1m860/860\x1b[0m".
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A widget's output (lenet.DrawPad): saved without its state, it would show an error where the picture is.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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
        if WIDGET_VIEW in output.get("data", {}) and "image/png" in output.data:
            del output.data[WIDGET_VIEW]  # a widget lives only with its kernel: keep the picture it came with
        kept.append(output)
    cell.outputs = kept
    return dropped


def first_line(cell) -> str:
    return cell.source.splitlines()[0][:60] if cell.source else ""


def run(path: Path) -> int:
    """Execute the notebook and save it; 1 (nothing saved) if a cell fails."""
    notebook = nbformat.read(path, as_version=4)
    total = sum(cell.cell_type == "code" for cell in notebook.cells)
    started = time.perf_counter()

    failed: list[int] = []

    def report(cell, cell_index: int, execute_reply: dict | None = None, **_: object) -> None:
        failed_here = execute_reply is not None and execute_reply["content"]["status"] == "error"
        outcome = "failed" if failed_here else "done"
        print(f"[{time.perf_counter() - started:6.1f}s] cell {cell_index:2d} {outcome}: {first_line(cell)}", flush=True)

    client = NotebookClient(
        notebook,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        coalesce_streams=True,
        on_cell_executed=report,
        on_cell_error=lambda cell_index, **_: failed.append(cell_index),
    )
    print(f"executing {path} ({total} code cells)", flush=True)
    # The kernel's own stderr (TensorFlow's start-up lines, Jupyter's notices) goes to a file,
    # shown only if the kernel itself fails.
    with tempfile.TemporaryFile("w+") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except CellExecutionError as error:  # its text is the cell's whole coloured traceback
            index = failed[-1] if failed else None
            where = f"cell {index}: {first_line(notebook.cells[index])}" if index is not None else "a cell"
            message = ANSI_CODE.sub("", f"{error.ename}: {error.evalue}")
            print(f"{path.name}: {where}\n  failed with {message}\n{path.name} was left unchanged", file=sys.stderr)
            return 1
        except Exception:
            kernel_log.seek(0)
            sys.stderr.write(CPP_LOG_LINE.sub("", kernel_log.read()))
            raise
    for cell in notebook.cells:
        for line in clean_outputs(cell) if cell.cell_type == "code" else []:
            print(f"  dropped from the outputs: {line}", flush=True)
    notebook.metadata.pop("widgets", None)  # the pad's state (its pixels, its script): alive only with the kernel
    write_atomically(path, lambda temporary: nbformat.write(notebook, temporary))
    print(f"saved {path} in {time.perf_counter() - started:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "lenet_5.ipynb").resolve()))
