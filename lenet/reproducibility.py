"""Identical numbers on every machine: what lenet pins before TensorFlow starts, and what a run records of what
the numbers depend on (measured: docs/reproducibility.md)."""

import contextlib
import functools
import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lenet.errors import ConfigError

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
# float16 on an x86-64 CPU. TensorFlow 2.21 gives a float16 op to oneDNN, not to Eigen, when its oneDNN opts are on
# and IsDataTypeSupportedByOneDNNOnThisCPU(DT_HALF) holds (tensorflow/core/util/util.cc, asked by the oneDNN graph
# rewrite through mkl_op_registry::IsMklOp in tensorflow/core/graph/mkl_graph_util.h; checked against the 2.21.0
# wheel's compiled code, built with oneDNN v3): (AVX512BW and (AVX512_FP16 or AMX_FP16)) or AVX_NE_CONVERT. oneDNN
# then needs, for any float16 kernel (its reference convolution too), platform::has_data_type_support(f16)
# (src/cpu/platform.cpp): mayiuse(avx512_core_fp16) or mayiuse(avx2_vnni_2) (src/cpu/x64/cpu_isa_traits.hpp), each
# only if ONEDNN_MAX_CPU_ISA allows it; else it fails the first step ("could not create a primitive descriptor").
# Without those CPU features TensorFlow runs float16 on Eigen's kernels, whatever the cap.
TF_FLOAT16_FLAGS = ("avx512bw", "avx512_fp16", "amx_fp16", "avx_ne_convert")  # TF's features, named as in Linux
# oneDNN's instruction sets with float16 kernels: the CPU flags mayiuse() needs, and the ONEDNN_MAX_CPU_ISA values at
# or above it (case-insensitive; unset, DEFAULT or a name oneDNN does not know caps nothing). AVX2_VNNI_2 is on a
# branch of its own: no AVX-512 cap includes it.
ONEDNN_FLOAT16_ISAS = {
    "AVX512_CORE_FP16": (
        set("avx2 avx_vnni avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16 avx512_fp16".split()),
        set("AVX512_CORE_FP16 AVX10_1_512 AVX512_CORE_AMX AVX10_1_512_AMX".split())
        | {"AVX512_CORE_AMX_FP16", "AVX10_1_512_AMX_FP16"},
    ),
    "AVX2_VNNI_2": ({"avx2", "avx_vnni", "avx_vnni_int8", "avx_ne_convert"}, {"AVX2_VNNI_2"}),
}
CAPS_WITHOUT_FLOAT16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16"}
# CPUID leaf 7 subleaf 1, EDX: features Linux keeps out of /proc/cpuinfo (KVM-only), which TF and oneDNN read.
CPUID_7_1_EDX_FLAGS = {4: "avx_vnni_int8", 5: "avx_ne_convert"}
# x86-64 System V machine code for cpuid(leaf, subleaf, out): stores eax, ebx, ecx, edx at out (rbx is callee-saved).
CPUID_CODE = bytes.fromhex("534989d089f889f10fa241890041895804418948084189500c5bc3")
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


def float16_refusal(flags: Iterable[str], cap: str | None, onednn: bool) -> str | None:
    """Why float16 ops cannot run on an x86-64 CPU with these `flags` (cpu_flags'), ONEDNN_MAX_CPU_ISA `cap` and
    TF_ENABLE_ONEDNN_OPTS `onednn`, and what to do; None if they run (module comment above: TensorFlow's choice)."""
    have, limit = set(flags), (cap or "").upper()
    if not onednn or not (
        ("avx512bw" in have and have & {"avx512_fp16", "amx_fp16"}) or "avx_ne_convert" in have
    ):  # TensorFlow keeps float16 on Eigen
        return None
    known = CAPS_WITHOUT_FLOAT16.union(*(caps for _needs, caps in ONEDNN_FLOAT16_ISAS.values()))
    usable = [isa for isa, (needs, _caps) in ONEDNN_FLOAT16_ISAS.items() if needs <= have]
    if any(limit not in known or limit in ONEDNN_FLOAT16_ISAS[isa][1] for isa in usable):
        return None
    features = ", ".join(flag for flag in TF_FLOAT16_FLAGS[1:] if flag in have)
    lift = f", or {MAX_CPU_ISA}={usable[0]} (numbers then are this CPU kind's own)" if usable else ""
    return (
        f"TensorFlow gives its float16 ops to oneDNN here ({features}), and oneDNN has no float16 kernels "
        + (f"under {MAX_CPU_ISA}={cap}" if usable else "for it")
        + f"; use float32 or a GPU, or set {ONEDNN_OPTS}=0 before importing lenet (float16 then runs on Eigen's "
        f"kernels, as on CPUs without AVX512-FP16){lift}"
    )


@functools.cache
def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags as Linux names them in /proc/cpuinfo, with the CPUID leaf 7.1 EDX ones it leaves out
    (avx_ne_convert among them); empty where there is no /proc/cpuinfo."""
    hidden: set[str] = set()
    if ON_X86_64 and sys.platform == "linux":
        with contextlib.suppress(OSError, ValueError):  # e.g. a system that forbids executable memory
            # The highest leaf, then leaf 7's highest subleaf: without them cpuid answers for another leaf.
            if cpuid(0, 0)[0] >= 7 and cpuid(7, 0)[0] >= 1:
                edx = cpuid(7, 1)[3]
                hidden = {name for bit, name in CPUID_7_1_EDX_FLAGS.items() if edx >> bit & 1}
    return frozenset(cpuinfo().get("flags", "").split()) | hidden


def cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """eax, ebx, ecx, edx of the cpuid instruction (x86-64 Linux), run as machine code: Python has no other way to
    ask the CPU, and Linux does not list every feature TensorFlow and oneDNN read."""
    import ctypes
    import mmap

    memory = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    memory.write(CPUID_CODE)
    function = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p)
    registers = (ctypes.c_uint32 * 4)()
    function(ctypes.addressof(ctypes.c_char.from_buffer(memory)))(leaf, subleaf, ctypes.addressof(registers))
    return tuple(registers)  # the page is unmapped once nothing points into it


def float16_problem() -> str | None:
    """float16_refusal on this machine, as its TensorFlow will run: None with a GPU, which takes the float16 ops."""
    # Unset, TensorFlow's default: on for every CPU this concerns (they have AVX512_VNNI or AVX_VNNI).
    opts = os.environ.get(ONEDNN_OPTS, "1").strip().lower() not in ("0", "false")
    if not ON_X86_64 or not (refusal := float16_refusal(cpu_flags(), os.environ.get(MAX_CPU_ISA), opts)):
        return None
    import tensorflow

    return None if tensorflow.config.list_physical_devices("GPU") else refusal


def check_float16(subject: str) -> None:
    """One line, before any step, instead of oneDNN failing the first one (a ConfigError: exit code 2)."""
    if problem := float16_problem():
        raise ConfigError(f"{subject} cannot run on this CPU: {problem}")


def cpuinfo() -> dict[str, str]:
    """The first processor's /proc/cpuinfo fields (Linux's; elsewhere empty)."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for key, _, value in (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()):
            fields.setdefault(key.strip(), value.strip())
    return fields


def environment() -> dict[str, Any]:
    """What the numbers depend on: the CPU, oneDNN's instruction set, the threads, the versions."""
    import keras
    import numpy
    import tensorflow

    cpuinfo_fields = cpuinfo()  # elsewhere than Linux, platform's answer
    cap = os.environ.get(MAX_CPU_ISA)
    return {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpuinfo_fields.get("model name", platform.processor()),
        "cpu_vendor": cpuinfo_fields.get("vendor_id", ""),
        "onednn": os.environ.get(ONEDNN_OPTS, ""),
        "onednn_max_cpu_isa": cap or "",
        "onednn_isa": onednn_isa(cpuinfo_fields.get("flags", ""), cap) if ON_X86_64 else "",
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
