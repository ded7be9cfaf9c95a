"""results.json, results.png and the saved model, each written atomically (write_atomically)."""

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lenet.errors import OutputError, ResultsError

RESULTS_JSON = "results.json"
RESULTS_PNG = "results.png"
MODEL_FILE = "lenet5.keras"


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary_path), then rename the temporary file onto `path`, so that a crash never leaves
    half a file or destroys the previous one; OutputError if it cannot be written."""
    path = Path(path)
    # Beside `path`, with its suffix (Keras and matplotlib pick the format from it); the writer creates it.
    temporary = path.with_name(f".{path.stem}-{uuid.uuid4().hex}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"{path}: cannot be written ({error.strerror or error})") from error
    finally:
        if temporary.exists():  # only after a failure (or an interruption): on success it was renamed
            temporary.unlink()
    return path


def save_json(path: Path, content: dict[str, Any]) -> Path:
    return write_atomically(path, lambda temporary: temporary.write_text(json.dumps(content, indent=2) + "\n"))


def save_figure(path: Path, figure: Any) -> Path:
    return write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=120))


def save_model(path: Path, model: Any) -> Path:
    return write_atomically(path, lambda temporary: model.save(temporary))


def load_results(path: Path) -> dict[str, Any]:
    """A results.json's content; ResultsError if it is not one."""
    try:
        results = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(results, dict) or "history" not in results:
        raise ResultsError(f"{path}: not a lenet results file (no 'history')")
    return results
