"""Identical numbers on every machine: the pins, what a run records, and `lenet reproduce`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenet import cli, reproducibility

ROOT = Path(__file__).resolve().parents[1]
# `lenet train --data sample --epochs 2`, committed: every machine must reproduce it exactly.
SAMPLE_RUN = ROOT / "reports" / "sample_run.json"


def test_pins_are_set_unless_the_user_set_them_and_a_late_pin_is_reported(monkeypatch, capsys):
    import tensorflow as tf

    tf.constant(0)  # TensorFlow has started in this process: a pin set now comes too late
    monkeypatch.setattr(reproducibility, "_ORIGIN", {})
    monkeypatch.setattr(reproducibility, "_TOO_LATE", [])
    monkeypatch.delenv(reproducibility.INTRA_OP_THREADS, raising=False)
    monkeypatch.setenv(reproducibility.MAX_CPU_ISA, "SSE41")
    reproducibility.apply_pins()
    assert os.environ[reproducibility.INTRA_OP_THREADS] == "1"
    assert os.environ[reproducibility.MAX_CPU_ISA] == "SSE41"  # the user's setting wins
    origin = reproducibility.environment()["set_by"]
    assert origin[reproducibility.INTRA_OP_THREADS] == "lenet" and origin[reproducibility.MAX_CPU_ISA] == "user"
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("lenet: warning: TensorFlow ran before lenet")
    assert reproducibility.INTRA_OP_THREADS in line and reproducibility.MAX_CPU_ISA not in line


@pytest.mark.parametrize(
    ("flags", "cap", "isa"),
    [
        ("sse4_1 avx avx2 avx512f", "AVX2", "AVX2"),
        ("sse4_1 avx avx2 avx512f", None, "AVX512_CORE"),
        ("sse4_1 avx", "AVX2", "AVX"),  # a CPU without AVX2 computes otherwise: recorded as such
        ("sse4_1 avx avx2", "sse41", "SSE41"),
    ],
)
def test_the_recorded_instruction_set_is_the_cpus_best_under_the_cap(flags, cap, isa):
    assert reproducibility.onednn_isa(flags, cap) == isa


def test_results_record_what_the_numbers_depend_on(trained_on_sample):
    _out, results, _printed = trained_on_sample
    environment = results["environment"]
    assert environment["intra_op_threads"] == "1" and environment["onednn"] == "1"
    assert environment["pins_too_late"] == []
    assert environment["cpu"] and environment["cpu_vendor"] and environment["tensorflow"] and environment["keras"]
    if environment["machine"] in reproducibility.X86_64:
        assert environment["onednn_max_cpu_isa"] == "AVX2" and environment["onednn_isa"] in ("AVX2", "AVX")


def late_pins(value) -> list:
    """Every non-empty `pins_too_late` a results file holds, at any depth (studies embed runs)."""
    if isinstance(value, dict):
        own = [value["pins_too_late"]] if value.get("pins_too_late") else []
        return own + [late for item in value.values() for late in late_pins(item)]
    return [late for item in value for late in late_pins(item)] if isinstance(value, list) else []


COMMITTED = [
    ROOT / "results.json",
    *sorted((ROOT / "reports").glob("*.json")),
    ROOT / "lenet" / "weights" / "results.json",
]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.name)
def test_every_committed_result_was_trained_under_the_pins(path):
    """A script that imports TensorFlow before lenet trains with other kernels than `lenet reproduce` does."""
    assert late_pins(json.loads(path.read_text())) == [], f"{path.name}: re-record it with lenet imported first"


@pytest.mark.slow
def test_the_history_is_the_same_on_one_core_with_the_cap_set_by_hand(tmp_path):
    """The committed sample run's `lenet train` on one core (a one-thread pool) with the cap set by the user: without
    the pins, either one changes the last bits (test_reproduce_reproduces... checks every core, the cap lenet's)."""
    recorded = json.loads(SAMPLE_RUN.read_text())
    subprocess.run(
        [sys.executable, "-m", "lenet", "train", "--data", "sample", "--epochs", str(recorded["config"]["epochs"])]
        + ["--seed", str(recorded["config"]["seed"]), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), reproducibility.MAX_CPU_ISA: "AVX2"},
        preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
        timeout=300,
    )
    again = json.loads((tmp_path / "results.json").read_text())
    assert again["config"] == recorded["config"]
    assert again["history"] == recorded["history"] and again["test"] == recorded["test"]


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> tuple[int, str, dict]:
    """`lenet reproduce reports/sample_run.json --out DIR`, once: its exit code, what it printed, the
    results it trained again."""
    out = tmp_path_factory.mktemp("reproduced")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["reproduce", str(SAMPLE_RUN), "--out", str(out)])
    return code, printed.getvalue(), json.loads((out / "results.json").read_text())


def test_reproduce_reproduces_the_committed_sample_run_exactly(reproduced):
    code, printed, _again = reproduced
    epochs = json.loads(SAMPLE_RUN.read_text())["config"]["epochs"]
    assert code == 0
    assert [f"epoch {epoch}: identical" for epoch in range(1, epochs + 1)] + ["test: identical"] == [
        line for line in printed.splitlines() if line.startswith(("epoch ", "test:")) and "loss" not in line
    ]


def test_reproduce_names_the_first_difference_and_the_environment_that_differs(
    reproduced, tmp_path, capsys, monkeypatch
):
    from lenet import experiment

    monkeypatch.setattr(experiment, "train_and_evaluate", lambda *args, **kwargs: reproduced[2])  # trained once
    recorded = json.loads(SAMPLE_RUN.read_text())
    recorded["history"]["val_loss"][1] += 1e-6
    recorded["environment"]["cpu"] = "Another CPU"
    changed = tmp_path / "results.json"
    changed.write_text(json.dumps(recorded))
    assert cli.main(["reproduce", str(changed)]) == 1
    printed = capsys.readouterr().out
    assert "epoch 1: identical" in printed and "epoch 2: DIFFERENT: val_loss" in printed
    assert "first difference: epoch 2" in printed and "cpu: " in printed and "'Another CPU' recorded" in printed


def test_reproduce_refuses_other_data_and_files_that_are_not_results(tmp_path, capsys):
    recorded = json.loads(SAMPLE_RUN.read_text())
    recorded["data"]["fingerprint"] = "0" * 64
    other = tmp_path / "other.json"
    other.write_text(json.dumps(recorded))
    assert cli.main(["reproduce", str(other)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("lenet: error: sample: other data") and "--data" in line
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**recorded, "config": {"epochs": 0}}))
    assert cli.main(["reproduce", str(broken)]) == 2
    assert "not a reproducible lenet results file" in capsys.readouterr().err
