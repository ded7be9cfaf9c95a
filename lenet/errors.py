"""What can go wrong, one exception class per concern, each message naming the file or setting and the way out; kept
apart from the modules that raise them, so `lenet --help` and `lenet plot` tell them apart without importing NumPy."""


class ConfigError(ValueError): ...  # refused before any data is loaded


class DataError(ValueError): ...


class ModelError(ValueError): ...


class CheckpointError(ValueError): ...  # one that cannot be resumed


class ResultsError(ValueError): ...  # a results.json that is missing, unreadable or incomplete


class OutputError(OSError): ...  # an artifact (results.json, a figure, a model) that could not be written


class ImageError(ValueError): ...  # an image lenet predict reports on its own line, then goes on


class LiteError(ValueError): ...  # an exported model that does not predict what the Keras model predicts


class TrainingError(RuntimeError): ...  # e.g. a NaN loss


class SweepError(RuntimeError): ...  # a sweep that cannot start (no Ray, a node without the data)


class RunsFailed(SweepError): ...  # some runs failed; the others finished and sweep.json records them


def exit_code(error: BaseException) -> int | None:
    """1 for a failed input or run (its good neighbours still done) or an unwritten output; 2 for what the user must
    change before trying again (a flag, the data, config, model or results file); None for a defect."""
    if isinstance(error, (RunsFailed, TrainingError, LiteError, OSError)):
        return 1  # checked first: RunsFailed is a SweepError
    if isinstance(error, (ConfigError, DataError, ModelError, CheckpointError, ResultsError, SweepError)):
        return 2
    return None


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first non-empty line of a library's message (or the exception's name), for one-line errors."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)[:limit]


def last_line(error: BaseException) -> str:
    """The last non-empty line: where a wrapped error (a Ray task's) says what went wrong."""
    return next((line.strip() for line in reversed(str(error).splitlines()) if line.strip()), type(error).__name__)
