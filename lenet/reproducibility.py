"""Identical numbers on every machine: what lenet pins before TensorFlow starts, and what a run records of what
the numbers depend on (measured: docs/reproducibility.md)."""

import contextlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

ONEDNN_OPTS = "TF_ENABLE_ONEDNN_OPTS"
INTRA_OP_THREADS = "TF_NUM_INTRAOP_THREADS"
INTER_OP_THREADS = "TF_NUM_INTEROP_THREADS"
MAX_CPU_ISA = "ONEDNN_MAX_CPU_ISA"
X86_64 = ("x86_64", "amd64")
ON_X86_64 = platform.machine().lower() in X86_64
# What changes a run's numbers on a CPU, set unless the user did: oneDNN's kernels on (TensorFlow 2.21 turns them
# on for some CPUs only; off, training is ~2.5x slower), one intra-op thread (the summation order of a convolution's
# gradient) and on x86-64 oneDNN capped at AVX2, which nearly every x86-64 CPU since about 2015 has (AVX-512 kernels
# accumulate in another order). Inter-op and tf.data threads change no number.
PINS = {ONEDNN_OPTS: "1", INTRA_OP_THREADS: "1", **({MAX_CPU_ISA: "AVX2"} if ON_X86_64 else {})}
# oneDNN's instruction sets that /proc/cpuinfo tells apart, weakest first, with their flags.
ISA_FLAGS = (("SSE41", "sse4_1"), ("AVX", "avx"), ("AVX2", "avx2"), ("AVX512_CORE", "avx512f"))
# Environment fields that can change the numbers; `lenet reproduce` names those that differ.
NUMBER_FIELDS = ("tensorflow", "keras", "machine", "cpu", "onednn", "onednn_isa", "intra_op_threads")


# Variable -> "lenet" (our pin) or "user" (set before lenet was imported), filled by apply_pins.
_ORIGIN: dict[str, str] = {}
# Our pins that came after TensorFlow had read them (TensorFlow imported or run before lenet).
_TOO_LATE: list[str] = []


def apply_pins() -> None:
    """Set the pins (a user's own setting wins); say once, in one line, if TensorFlow read them first: it reads
    ONEDNN_OPTS when it is imported, the others when its runtime starts (at the first op)."""
    context = sys.modules.get("tensorflow.python.eager.context")  # no public way to ask if it started
    started = getattr(context and context.context_safe(), "_context_handle", None) is not None
    for variable, value in PINS.items():
        _ORIGIN[variable] = "user" if variable in os.environ else "lenet"
        if variable not in os.environ and (started or ("tensorflow" in sys.modules and variable == ONEDNN_OPTS)):
            _TOO_LATE.append(variable)
        os.environ.setdefault(variable, value)
    if _TOO_LATE:
        print(
            f"lenet: warning: TensorFlow {'ran' if started else 'was imported'} before lenet, too early for "
            f"lenet's {', '.join(_TOO_LATE)}: numbers may differ from other machines' (import lenet first)",
            file=sys.stderr,
        )


def onednn_isa(flags: str, cap: str | None) -> str:
    """The instruction set oneDNN's kernels use: the CPU's best at or below the cap, read from its flags, as
    oneDNN does not report it through TensorFlow (with AVX-512 and no cap it may use a newer extension still)."""
    have, names = set(flags.split()), [name for name, _flag in ISA_FLAGS]
    limit = names.index(cap.upper()) if cap and cap.upper() in names else len(names) - 1
    best = [name for name, flag in ISA_FLAGS[: limit + 1] if flag in have]
    return best[-1] if best else "unknown"


def environment() -> dict[str, Any]:
    """What the numbers depend on: the CPU, oneDNN's instruction set, the threads, the versions."""
    import keras
    import numpy
    import tensorflow

    cpuinfo: dict[str, str] = {}
    with contextlib.suppress(OSError):  # Linux's; elsewhere, platform's answer
        for key, _, value in (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()):
            cpuinfo.setdefault(key.strip(), value.strip())
    cap = os.environ.get(MAX_CPU_ISA)
    return {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpuinfo.get("model name", platform.processor()),
        "cpu_vendor": cpuinfo.get("vendor_id", ""),
        "onednn": os.environ.get(ONEDNN_OPTS, ""),
        "onednn_max_cpu_isa": cap or "",
        "onednn_isa": onednn_isa(cpuinfo.get("flags", ""), cap) if ON_X86_64 else "",
        "intra_op_threads": os.environ.get(INTRA_OP_THREADS, ""),  # "": TensorFlow's default (one per core)
        "inter_op_threads": os.environ.get(INTER_OP_THREADS, ""),
        "set_by": {variable: _ORIGIN.get(variable, "user") for variable in PINS},
        "pins_too_late": list(_TOO_LATE),
    }


def differences(recorded: dict[str, Any], reproduced: dict[str, Any]) -> list[str]:
    """One line per epoch (and for the test), saying whether every number is bit-identical (as JSON's Python
    floats, which hold float32 results exactly)."""

    def line(label: str, expected: dict[str, Any], actual: dict[str, Any]) -> str:
        changed = [
            f"{name} {actual.get(name)!r} (recorded {value!r})"
            for name, value in expected.items()
            if actual.get(name) != value
        ]
        return f"{label}: " + ("DIFFERENT: " + ", ".join(changed) if changed else "identical")

    history, again = recorded["history"], reproduced["history"]
    lines = []
    for epoch in range(len(history["loss"])):
        actual = {name: values[epoch] for name, values in again.items() if epoch < len(values)}
        lines.append(line(f"epoch {epoch + 1}", {name: values[epoch] for name, values in history.items()}, actual))
    if recorded.get("test") is not None:
        lines.append(line("test", recorded["test"], reproduced["test"] or {}))
    return lines


def environment_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The recorded environment fields that can change the numbers and differ here."""
    return [
        f"{name}: {current.get(name)!r} here, {recorded.get(name)!r} recorded"
        for name in NUMBER_FIELDS
        if recorded.get(name) != current.get(name)
    ]
