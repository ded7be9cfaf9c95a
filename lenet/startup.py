"""TensorFlow's start-up lines, kept off a user's terminal.

TensorFlow's C++ code logs a few lines while it loads ("All log messages before
absl::InitializeLog()...", "Could not find cuda drivers..."), before it reads
TF_CPP_MIN_LOG_LEVEL, straight to file descriptor 2, where Python cannot filter them. The
command line imports TensorFlow with that descriptor captured and replays everything but those
lines; everything is replayed if the import fails, with --debug, or when TF_CPP_MIN_LOG_LEVEL
asks for a log (any level but 3, lenet's default).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# C++ log lines of TensorFlow and XLA, in absl's format (severity, date, time, thread id,
# file:line]; before absl is initialised the time is seconds since 1970: "I0000 00:00:1795...")
# or TensorFlow's own ("2026-11-28 19:12:51.144826: E file.cc:51] ..."), absl's notice that
# it logs to stderr before it is initialised, and LiteRT's notices about its CPU delegate.
CPP_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] .*"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|WARNING: Attempting to use a delegate that only supports static-sized tensors .*)\n?",
    flags=re.M,
)
# lenet/__init__.py's TF_CPP_MIN_LOG_LEVEL: TensorFlow's log off. Any other value asks for it.
QUIET_LEVEL = "3"


def log_wanted() -> bool:
    """Whether the user asked for TensorFlow's C++ log (TF_CPP_MIN_LOG_LEVEL other than 3)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", QUIET_LEVEL) != QUIET_LEVEL


@contextlib.contextmanager
def start_up_log_hidden(show_log: bool = False) -> Iterator[None]:
    """Capture file descriptor 2 inside the block; then replay it without C++ log lines.

    With `show_log`, or when the block raises, everything is replayed, so errors still surface.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            show_log = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            sys.stderr.write(text if show_log else CPP_LOG_LINE.sub("", text))
            sys.stderr.flush()


def import_tensorflow(show_log: bool = False) -> None:
    """Import TensorFlow and Keras, their start-up log lines kept off stderr unless `show_log`."""
    if "tensorflow" in sys.modules:  # already loaded: it has printed whatever it prints
        return
    with start_up_log_hidden(show_log):
        importlib.import_module("tensorflow")
        importlib.import_module("keras")
