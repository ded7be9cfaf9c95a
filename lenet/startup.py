"""TensorFlow's C++ code logs a few lines while it loads ("Could not find cuda drivers..."), before it reads
TF_CPP_MIN_LOG_LEVEL, to file descriptor 2: the command line imports it with fd 2 captured and replays the rest."""

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# Lines in absl's format (until absl is initialised, the time is seconds since 1970) and TensorFlow's; three notices.
CPP_LOG_LINE = re.compile(
    r"(?m)^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] .*"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|WARNING: Attempting to use a delegate that only supports static-sized tensors .*)\n?"
)
QUIET_LEVEL = "3"  # lenet's default TF_CPP_MIN_LOG_LEVEL: any other value asks for the log


def hide_cpp_log() -> None:
    """Hide TensorFlow's C++ log (INFO, WARNING and ERROR) unless the user set TF_CPP_MIN_LOG_LEVEL: without a GPU its
    one error is the harmless "failed call to cuInit". Python exceptions still say what went wrong; set
    TF_CPP_MIN_LOG_LEVEL=0 to see the C++ log, e.g. to debug a GPU setup. Lines that TensorFlow prints while it loads,
    before it reads this setting, cannot be hidden (start_up_log_hidden keeps them off the command line's stderr)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LEVEL)


def log_wanted() -> bool:
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") != QUIET_LEVEL


@contextlib.contextmanager
def start_up_log_hidden(show_log: bool = False) -> Iterator[None]:
    """Capture file descriptor 2 inside the block, then replay it without C++ log lines; all of it with `show_log`,
    when TF_CPP_MIN_LOG_LEVEL asks for the log, or when the block raises (so errors still surface)."""
    sys.stderr.flush()
    saved, failed = os.dup(2), True
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            sys.stderr.write(text if show_log or failed or log_wanted() else CPP_LOG_LINE.sub("", text))


def import_tensorflow(show_log: bool = False) -> None:
    with start_up_log_hidden(show_log):  # once loaded, TensorFlow prints nothing more here
        importlib.import_module("tensorflow")
        importlib.import_module("keras")
