"""Mixed precision on every CPU kind: float16 runs, or one clear line says why not and what to do, before any step;
never oneDNN's abort (issue 32). The decision is checked against each CPU kind's flag sets, whatever this one is."""

import contextlib
import io
import json
import struct
import sys

import pytest

import lenet
from lenet import cli, reproducibility
from lenet.reproducibility import MAX_CPU_ISA, ONEDNN_OPTS, float16_refusal

# Flag sets as /proc/cpuinfo (and cpu_flags, for the CPUID features Linux leaves out) gives them.
AVX2_ONLY = set("sse4_1 avx avx2 fma f16c".split())  # e.g. AMD EPYC Zen 2/3
AVX512_NO_FP16 = AVX2_ONLY | set("avx_vnni avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16".split())  # Zen 5
AVX512_FP16 = AVX512_NO_FP16 | set("avx512_fp16 amx_tile amx_int8 amx_bf16".split())  # Sapphire/Emerald Rapids
AMX_FP16 = AVX512_FP16 | {"amx_fp16"}  # Granite Rapids
AVX_NE_CONVERT = AVX2_ONLY | {"avx_vnni", "avx_vnni_int8", "avx_ne_convert"}  # e.g. Arrow Lake, Sierra Forest
# TensorFlow's features without those oneDNN's float16 kernels need: no cap helps.
AMX_FP16_ALONE = AVX512_NO_FP16 | {"amx_fp16"}

RUNS, REFUSED = "runs", "refused"
CAPS = [None, "AVX2", "AVX512_CORE", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "avx512_core_amx"]
CAPS += ["AVX10_1_512_AMX_FP16", "AVX2_VNNI_2", "DEFAULT", "AVX10_2_512"]  # the last: a name this oneDNN does not know
# Per CPU kind, the caps under which TensorFlow's float16 ops reach oneDNN and find no kernel.
REFUSING_CAPS = {
    "AVX2 only": (AVX2_ONLY, set()),
    "AVX-512 without FP16": (AVX512_NO_FP16, set()),
    "AVX512-FP16 and AMX": (AVX512_FP16, {"AVX2", "AVX512_CORE", "AVX512_CORE_BF16", "AVX2_VNNI_2"}),
    "AMX-FP16": (AMX_FP16, {"AVX2", "AVX512_CORE", "AVX512_CORE_BF16", "AVX2_VNNI_2"}),
    "AVX-NE-CONVERT": (
        AVX_NE_CONVERT,
        {"AVX2", "AVX512_CORE", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "avx512_core_amx"}
        | {"AVX10_1_512_AMX_FP16"},
    ),
    "AMX-FP16 without oneDNN's float16 ISA": (AMX_FP16_ALONE, set(CAPS)),
}


@pytest.mark.parametrize("cpu", REFUSING_CAPS)
@pytest.mark.parametrize("cap", CAPS)
def test_the_decision_follows_tensorflow_and_onednn_for_each_cpu_kind_and_cap(cpu, cap):
    flags, refusing = REFUSING_CAPS[cpu]
    expected = REFUSED if cap in refusing else RUNS
    assert (RUNS if float16_refusal(flags, cap, onednn=True) is None else REFUSED) == expected
    assert float16_refusal(flags, cap, onednn=False) is None  # oneDNN's opts off: Eigen runs float16 everywhere


@pytest.mark.parametrize(
    ("flags", "cap", "lift"),
    [
        (AVX512_FP16, "AVX2", f"{MAX_CPU_ISA}=AVX512_CORE_FP16"),
        (AVX_NE_CONVERT, "AVX2", f"{MAX_CPU_ISA}=AVX2_VNNI_2"),
        (AVX_NE_CONVERT, "AVX512_CORE_AMX", f"{MAX_CPU_ISA}=AVX2_VNNI_2"),
        (AMX_FP16_ALONE, None, None),
    ],
)
def test_the_refusal_says_why_and_what_to_do_in_one_line(flags, cap, lift):
    refusal = float16_refusal(flags, cap, onednn=True)
    assert "\n" not in refusal and "TensorFlow gives its float16 ops to oneDNN here" in refusal
    assert f"{ONEDNN_OPTS}=0" in refusal and "GPU" in refusal
    if lift:
        assert f"under {MAX_CPU_ISA}={cap}" in refusal and lift in refusal and "this CPU kind's own" in refusal
    else:  # oneDNN has no float16 kernel for this CPU at all: no cap to suggest
        assert "no float16 kernels for it" in refusal and MAX_CPU_ISA not in refusal


@pytest.mark.skipif(not (reproducibility.ON_X86_64 and sys.platform == "linux"), reason="cpuid: x86-64 Linux")
def test_cpu_flags_are_linuxs_and_the_cpuid_features_it_does_not_list():
    _highest, ebx, ecx, edx = reproducibility.cpuid(0, 0)
    assert struct.pack("<III", ebx, edx, ecx).decode() == reproducibility.cpuinfo()["vendor_id"]  # the code runs
    listed = set(reproducibility.cpuinfo()["flags"].split())
    edx_7_1 = reproducibility.cpuid(7, 1)[3]
    extra = {name for bit, name in reproducibility.CPUID_7_1_EDX_FLAGS.items() if edx_7_1 >> bit & 1}
    assert reproducibility.cpu_flags() == listed | extra


@pytest.fixture
def avx512_fp16_cpu(monkeypatch):
    """This machine as a CPU with AVX512-FP16 (where the README's tests failed) under lenet's AVX2 cap, no GPU."""
    monkeypatch.setattr(reproducibility, "cpu_flags", lambda: frozenset(AVX512_FP16))
    monkeypatch.setattr(reproducibility, "ON_X86_64", True)
    monkeypatch.setenv(MAX_CPU_ISA, "AVX2")
    monkeypatch.setenv(ONEDNN_OPTS, "1")
    monkeypatch.setattr("tensorflow.config.list_physical_devices", lambda kind=None: [])


def test_mixed_precision_is_refused_before_any_step_where_float16_cannot_run(avx512_fp16_cpu, monkeypatch):
    with pytest.raises(
        lenet.ConfigError, match=r"^mixed precision cannot run on this CPU: TensorFlow gives its float16"
    ):
        lenet.build_lenet5(mixed_precision=True)
    assert lenet.build_lenet5().count_params() == 61_706  # float32 is untouched
    monkeypatch.setenv(MAX_CPU_ISA, "AVX512_CORE_AMX")  # the cap lifted by the user: oneDNN's float16 kernels
    assert lenet.build_lenet5(mixed_precision=True).get_layer("c1").compute_dtype == "float16"
    monkeypatch.setenv(MAX_CPU_ISA, "AVX2")
    monkeypatch.setattr("tensorflow.config.list_physical_devices", lambda kind=None: ["a GPU"])  # TF uses it
    assert lenet.build_lenet5(mixed_precision=True).get_layer("c1").compute_dtype == "float16"


def test_a_saved_mixed_precision_model_is_refused_where_float16_cannot_run(tmp_path, monkeypatch, avx512_fp16_cpu):
    monkeypatch.setenv(MAX_CPU_ISA, "AVX512_CORE_AMX")  # only to build it here, without running it
    lenet.build_lenet5(mixed_precision=True).save(tmp_path / "mixed.keras")
    lenet.build_lenet5().save(tmp_path / "plain.keras")
    monkeypatch.setenv(MAX_CPU_ISA, "AVX2")
    with pytest.raises(
        lenet.ConfigError, match="mixed.keras: a mixed-precision .float16. model cannot run on this CPU"
    ):
        lenet.load_model(tmp_path / "mixed.keras")
    assert lenet.load_model(tmp_path / "plain.keras").get_layer("c1").compute_dtype == "float32"


def test_lenet_train_mixed_precision_on_an_avx512_fp16_cpu_is_one_line_and_writes_nothing(tmp_path, avx512_fp16_cpu):
    out, printed, errors = tmp_path / "run", io.StringIO(), io.StringIO()
    arguments = ["train", "--mixed-precision", "--data", "sample", "--epochs", "1", "--out", str(out)]
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        assert cli.main(arguments) == 2
    assert errors.getvalue().startswith("lenet: error: mixed precision cannot run on this CPU: TensorFlow gives")
    assert errors.getvalue().count("\n") == 1 and "Traceback" not in errors.getvalue()
    assert f"{MAX_CPU_ISA}=AVX512_CORE_FP16" in errors.getvalue() and not out.exists()


def test_lenet_train_mixed_precision_here_ends_with_results_or_the_one_line(tmp_path):
    """The real path on this machine, whichever CPU it has: results where float16 runs, else the clear line. In this
    process: conftest imported lenet first, so TensorFlow and oneDNN run under the pins a fresh `lenet train` sets."""
    assert reproducibility.environment()["pins_too_late"] == []
    out, printed, errors = tmp_path / "run", io.StringIO(), io.StringIO()
    arguments = ["train", "--mixed-precision", "--data", "sample", "--epochs", "1", "--out", str(out)]
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = cli.main(arguments)  # oneDNN's abort would end this process: the test fails all the same
    assert "Traceback" not in errors.getvalue() and "could not create a primitive descriptor" not in errors.getvalue()
    if problem := reproducibility.float16_problem():
        assert code == 2 and not out.exists()
        assert (
            errors.getvalue().strip().splitlines()[-1]
            == f"lenet: error: mixed precision cannot run on this CPU: {problem}"
        )
    else:
        assert code == 0, errors.getvalue()
        assert printed.getvalue().splitlines()[-2].startswith("test accuracy ")
        assert json.loads((out / "results.json").read_text())["config"]["mixed_precision"] is True
