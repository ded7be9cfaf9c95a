"""What can go wrong, as one exception class per concern, and what each means to a shell.

Every message names the file or setting and the way out, so the command line prints it in
one line, never a traceback. Kept apart from the modules that raise them so that `lenet
--help` and `lenet plot` can tell a usage error from a failed input without importing NumPy.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that cannot make sense, raised before any data is loaded."""


class DataError(ValueError):
    """Data that cannot be used; the message names the file and the problem."""


class IdxError(ValueError):
    """A file that is not a well-formed unsigned-byte IDX file."""


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file and the problem."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; the message names the directory and the way out."""


class ResultsError(ValueError):
    """A results.json that is missing, unreadable or incomplete."""


class OutputError(OSError):
    """An artifact (results.json, a figure, a model) that could not be written; names the file."""


class ImageError(ValueError):
    """An input that cannot be read as a digit image; the message names the file and the problem."""


class LiteError(ValueError):
    """An exported model that does not predict what the Keras model predicts."""


class TrainingError(RuntimeError):
    """Training that went wrong (e.g. a NaN loss); the message says what to change."""


class SweepError(RuntimeError):
    """A sweep that cannot start (no Ray, a node without the data); raised before any run."""


class RunsFailed(SweepError):
    """Some runs failed (the others finished and sweep.json records them); names them and why."""


# The exit code of each failure (its class or nearest listed base): 2 for what the user must
# change before trying again (flags, data, config, model or results file), 1 for a failed
# input or run whose good neighbours were still done, or an output that could not be written.
EXIT_CODES: dict[type[BaseException], int] = {
    ConfigError: 2,
    DataError: 2,
    ModelError: 2,
    CheckpointError: 2,
    ResultsError: 2,
    SweepError: 2,
    RunsFailed: 1,
    TrainingError: 1,
    LiteError: 1,
    ImageError: 1,
    OSError: 1,
}


def exit_code(error: BaseException) -> int | None:
    """The exit code for an expected failure, or None for a defect (an unexpected exception)."""
    return next((EXIT_CODES[kind] for kind in type(error).__mro__ if kind in EXIT_CODES), None)


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first non-empty line of a library's message (or the exception's name), for one-line errors."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:limit]


def last_line(error: BaseException) -> str:
    """The last non-empty line: where a wrapped error (a Ray task's) says what went wrong."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
