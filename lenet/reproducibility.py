"""Identical numbers on every machine: what lenet pins before TensorFlow starts, and what a run records.

Three things change a run's numbers on a CPU (measured, docs/reproducibility.md): whether
TensorFlow uses oneDNN's kernels, how many threads split an op (TensorFlow's intra-op pool:
the summation order of a convolution's gradient), and the instruction set oneDNN picks its
kernels for (AVX-512 kernels accumulate in another order than AVX2 ones). So `import lenet`
turns oneDNN on, sets one intra-op thread and, on x86-64, caps oneDNN at AVX2, which nearly
every x86-64 CPU made since about 2015 has. TensorFlow reads them only when it is imported
or starts, hence environment variables set at import. A variable the user set wins, and is
recorded as theirs. Inter-op threads and
tf.data's threads do not change the numbers (each op's arithmetic is fixed by the above, and
the input pipeline's map is deterministic), so they stay at TensorFlow's defaults.
"""

from __future__ import annotations

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
# oneDNN's instruction sets, each of which we can tell from /proc/cpuinfo, weakest first;
# ONEDNN_MAX_CPU_ISA caps the choice, and oneDNN takes the best the CPU has below the cap.
ISA_FLAGS = (("SSE41", "sse4_1"), ("AVX", "avx"), ("AVX2", "avx2"), ("AVX512_CORE", "avx512f"))


def pins() -> dict[str, str]:
    """The environment lenet sets unless the user already did.

    oneDNN's kernels on (TensorFlow 2.21 turns them on for some CPUs only, and reads this when
    it is imported; off, training is ~2.5x slower, benchmarks/), one intra-op thread (read at
    TensorFlow's first op), and on x86-64 oneDNN capped at AVX2 (read at its first kernel).
    """
    pinned = {ONEDNN_OPTS: "1", INTRA_OP_THREADS: "1"}
    if platform.machine().lower() in X86_64:
        pinned[MAX_CPU_ISA] = "AVX2"
    return pinned


# Variable -> "lenet" (our pin) or "user" (set before lenet was imported), filled by apply_pins.
_ORIGIN: dict[str, str] = {}
# Our pins that came after TensorFlow had read them (TensorFlow imported or run before lenet).
_TOO_LATE: list[str] = []


def apply_pins() -> None:
    """Set the pins (a user's own setting wins); say once, in one line, if TensorFlow read them first."""
    imported, started = "tensorflow" in sys.modules, tensorflow_started()
    for variable, value in pins().items():
        _ORIGIN[variable] = "user" if variable in os.environ else "lenet"
        if variable not in os.environ and (started or (imported and variable == ONEDNN_OPTS)):
            _TOO_LATE.append(variable)
        os.environ.setdefault(variable, value)
    if _TOO_LATE:
        print(
            f"lenet: warning: TensorFlow {'ran' if started else 'was imported'} before lenet, too early for "
            f"lenet's {', '.join(_TOO_LATE)}: numbers may differ from other machines' (import lenet first)",
            file=sys.stderr,
        )


def tensorflow_started() -> bool:
    """Whether TensorFlow has built its runtime (thread pools, kernels) in this process.

    Importing TensorFlow does not: it reads the thread count when its eager context starts,
    at the first op. There is no public way to ask, hence the private attribute.
    """
    context = sys.modules.get("tensorflow.python.eager.context")
    if context is None:
        return False
    current = context.context_safe()
    return current is not None and getattr(current, "_context_handle", None) is not None


def cpu() -> dict[str, str]:
    """The CPU's model name and vendor (Linux's /proc/cpuinfo; platform's answer elsewhere)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return {
        "cpu": fields.get("model name", platform.processor()),
        "cpu_vendor": fields.get("vendor_id", ""),
        "cpu_flags": fields.get("flags", ""),
    }


def onednn_isa(flags: str, cap: str | None) -> str:
    """The instruction set oneDNN's kernels use: the CPU's best one at or below the cap.

    oneDNN does not report it through TensorFlow, so this reads the CPU's flags; on a CPU
    with AVX-512 and no cap it says AVX512_CORE (oneDNN may use a newer extension still).
    """
    have = set(flags.split())
    names = [name for name, _flag in ISA_FLAGS]
    limit = names.index(cap.upper()) if cap and cap.upper() in names else len(names) - 1
    best = [name for name, flag in ISA_FLAGS[: limit + 1] if flag in have]
    return best[-1] if best else "unknown"


def environment() -> dict[str, Any]:
    """What the numbers depend on: the CPU, oneDNN's instruction set, the threads, the versions."""
    import keras
    import numpy
    import tensorflow

    machine = cpu()
    cap = os.environ.get(MAX_CPU_ISA)
    return {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": machine["cpu"],
        "cpu_vendor": machine["cpu_vendor"],
        "onednn": os.environ.get(ONEDNN_OPTS, ""),
        "onednn_max_cpu_isa": cap or "",
        "onednn_isa": onednn_isa(machine["cpu_flags"], cap) if platform.machine().lower() in X86_64 else "",
        # "": TensorFlow's default (one per core).
        "intra_op_threads": os.environ.get(INTRA_OP_THREADS, ""),
        "inter_op_threads": os.environ.get(INTER_OP_THREADS, ""),
        "set_by": {variable: _ORIGIN.get(variable, "user") for variable in pins()},
        "pins_too_late": list(_TOO_LATE),
    }


# Environment fields that can change the numbers; `lenet reproduce` names those that differ.
NUMBER_FIELDS = ("tensorflow", "keras", "machine", "cpu", "onednn", "onednn_isa", "intra_op_threads")


def differences(recorded: dict[str, Any], reproduced: dict[str, Any]) -> list[str]:
    """One line per epoch (and for the test), saying whether every number is bit-identical.

    Compared as Python floats from JSON, which hold float32 results exactly.
    """

    def line(label: str, expected: dict[str, Any], actual: dict[str, Any]) -> str:
        changed = [
            f"{name} {actual.get(name)!r} (recorded {value!r})"
            for name, value in expected.items()
            if actual.get(name) != value
        ]
        return f"{label}: " + ("DIFFERENT: " + ", ".join(changed) if changed else "identical")

    history, again = recorded["history"], reproduced["history"]
    lines = [
        line(
            f"epoch {epoch + 1}",
            {name: values[epoch] for name, values in history.items()},
            {name: values[epoch] for name, values in again.items() if epoch < len(values)},
        )
        for epoch in range(len(history["loss"]))
    ]
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
