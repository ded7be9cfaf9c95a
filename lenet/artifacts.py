"""results.json, results.png and the saved model, each written atomically.

Every artifact is written to a temporary file in the same directory and renamed into
place, so a crash never leaves half a file or destroys the previous one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS_JSON = "results.json"
RESULTS_PNG = "results.png"
MODEL_FILE = "lenet5.keras"


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary_path), then rename the temporary file onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the suffix: Keras and matplotlib pick the format from it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary only
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_json(path: Path, content: dict[str, Any]) -> Path:
    text = json.dumps(content, indent=2) + "\n"
    return write_atomically(path, lambda temporary: temporary.write_text(text))


def save_figure(path: Path, figure: Any) -> Path:
    return write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=120))


def save_model(path: Path, model: Any) -> Path:
    return write_atomically(path, lambda temporary: model.save(temporary))


def load_results(path: Path) -> dict[str, Any]:
    """Read a results.json; a DataError (a ValueError) if it is not one."""
    from lenet.data import DataError

    try:
        results = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(results, dict) or "history" not in results:
        raise DataError(f"{path}: not a lenet results file (no 'history')")
    return results
