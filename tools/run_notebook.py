"""Execute lenet_5.ipynb headless, in place, and save it with clean, compact outputs.

    python tools/run_notebook.py [NOTEBOOK]

Like `jupyter nbconvert --execute --inplace`, but it merges Keras's progress-bar updates into
their final lines (the raw stream is ~1 MB of backspaces), records no timing metadata, prints
each cell as it finishes, and replaces the notebook only after every cell has run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.artifacts import write_atomically  # noqa: E402


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
    write_atomically(path, lambda temporary: nbformat.write(notebook, temporary))
    print(f"saved {path} in {time.perf_counter() - started:.0f}s", flush=True)


if __name__ == "__main__":
    run(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "lenet_5.ipynb").resolve())
