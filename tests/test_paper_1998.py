"""scripts/paper_1998.py end to end on tiny data: the report, skipping finished runs, resuming a killed one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lenet.data import IDX_FILES
from test_idx import write_idx  # tests/ is on sys.path (pytest's prepend import mode)

ROOT = Path(__file__).resolve().parents[1]


def command(folder: Path, runs: Path, out: Path, *flags: str) -> list[str]:
    script = ROOT / "scripts" / "paper_1998.py"
    common = ["--data", str(folder), "--seeds", "0", "--epochs", "2", "--runs", str(runs), "--out", str(out)]
    return [sys.executable, str(script), *common, *flags]


def run(arguments: list[str]) -> str:
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=600, env=environment())
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def environment() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "ONEDNN_"))}, "PYTHONPATH": str(ROOT)}


def tiny_mnist(tmp_path: Path, sample) -> Path:
    """600 training and 100 test digits of the sample as a folder of IDX files, a data source like MNIST's own."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    tiny = {"x_train": sample.x_train[:600], "y_train": sample.y_train[:600]}
    tiny |= {"x_test": sample.x_test[:100], "y_test": sample.y_test[:100]}
    for key, stem in IDX_FILES.items():
        write_idx(folder / f"{stem}.gz", tiny[key])
    return folder


def numbers(entry: dict) -> tuple:
    return entry["seed"], entry["distortions"], entry["test_error"], entry["train_error"], entry["history"]


@pytest.mark.slow
def test_the_reproduction_script_reports_skips_finished_runs_and_resumes_a_killed_one(tmp_path, sample):
    folder = tiny_mnist(tmp_path, sample)

    whole = tmp_path / "whole.json"
    run(command(folder, tmp_path / "whole", whole, "--distortions", "without"))
    (reference,) = json.loads(whole.read_text())["runs"]
    assert reference["distortions"] is False and reference["recipe"] == "sdlm-1998"
    assert len(reference["history"]["train_error"]) == len(reference["history"]["test_error"]) == 2
    assert reference["test_error"] == pytest.approx(reference["history"]["test_error"][-1])
    assert 0 <= reference["train_error"] < 0.9

    # Killed once its first pass is checkpointed, then started again: the numbers of the uninterrupted run.
    out, runs = tmp_path / "paper_1998.json", tmp_path / "runs"
    process = subprocess.Popen(
        command(folder, runs, out, "--distortions", "without"), env=environment(), start_new_session=True
    )
    state = runs / "seed-0" / ".checkpoint" / "state.json"
    while not state.exists() and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads(state.read_text())["epochs_done"] == 1 and not out.exists()
    run(command(folder, runs, out, "--distortions", "without"))
    (resumed,) = json.loads(out.read_text())["runs"]
    assert numbers(resumed) == numbers(reference)

    # Both rows: the finished run is kept, only the distorted one trains; then nothing trains.
    printed = run(command(folder, runs, out, "--distortions", "both"))
    assert "seed-0: finished before, kept" in printed and "seed-0_distorted: test error" in printed
    report = json.loads(out.read_text())
    assert [(entry["seed"], entry["distortions"]) for entry in report["runs"]] == [(0, False), (0, True)]
    assert numbers(report["runs"][0]) == numbers(reference)
    assert report["runs"][1]["recipe"] == "sdlm-1998-distorted"
    printed = run(command(folder, runs, out, "--distortions", "both"))
    assert printed.count("finished before, kept") == 2 and json.loads(out.read_text())["runs"] == report["runs"]
    assert not [line for line in printed.splitlines() if line.startswith("seed-") and "test error" in line]
    # The table beside the paper's, every seed listed, and the error-against-passes figure.
    error = f"{reference['test_error']:.2%}"
    assert f"| LeNet-5 | 0.95% | **{error} ± 0.00%** | 1 (0: {error}) |" in printed.splitlines()
    assert out.with_suffix(".png").stat().st_size > 10_000


@pytest.mark.slow
def test_the_ablation_walks_to_todays_default_one_row_at_a_time(tmp_path, sample):
    import lenet

    folder = tiny_mnist(tmp_path, sample)
    out, runs = tmp_path / "ablation.json", tmp_path / "runs"
    flags = ["--data", str(folder), "--passes", "1", "--epochs", "1", "--runs", str(runs), "--out", str(out)]
    run([sys.executable, str(ROOT / "scripts" / "ablation_1998.py"), *flags])
    rows = json.loads(out.read_text())["rows"]
    names = ["paper", "adam", "softmax", "max-pooling", "relu", "full-c3", "input-28", "keras-init", "epochs"]
    assert [row["row"] for row in rows] == [*names, "hold-out", "augmentation"]
    assert [row["validation_size"] for row in rows] == [0] * 9 + [60, 60]
    assert rows[0]["recipe"] == "sdlm-1998" and rows[-1]["recipe"] == lenet.TrainConfig().recipe
    assert not any(value is True for value in rows[-1]["switches"].values())
    # The last row is `lenet train`'s default run, number for number.
    default = lenet.train_and_evaluate(lenet.TrainConfig(epochs=1, seed=0), str(folder), tmp_path / "default")
    assert rows[-1]["test_error"] == 1.0 - default["test"]["accuracy"]
    printed = run([sys.executable, str(ROOT / "scripts" / "ablation_1998.py"), *flags])
    assert "test error" not in printed and json.loads(out.read_text())["rows"] == rows


@pytest.mark.slow
def test_an_extra_row_with_another_mu_is_labelled_and_kept_apart(tmp_path, sample):
    folder, runs = tiny_mnist(tmp_path, sample), tmp_path / "runs"
    flags = ("--distortions", "without", "--epochs", "1")  # the last --epochs counts
    paper, extra = tmp_path / "paper.json", tmp_path / "mu.json"
    run(command(folder, runs, paper, *flags))
    run(command(folder, runs, extra, *flags, "--mu", "0.2"))
    (at_paper,) = json.loads(paper.read_text())["runs"]
    (at_extra,) = json.loads(extra.read_text())["runs"]
    assert (at_paper["mu"], at_extra["mu"]) == (0.02, 0.2)
    assert at_paper["history"]["loss"] != at_extra["history"]["loss"]  # mu reached the training
    assert (runs / "seed-0_mu0.2" / "results.json").is_file()
    refused = subprocess.run(command(folder, runs, extra, *flags), capture_output=True, text=True, env=environment())
    assert refused.returncode == 2 and "another mu" in refused.stderr


@pytest.mark.slow
def test_the_curvature_diagnosis_reports_steps_tails_and_held_out_errors(tmp_path, sample):
    folder, out = tiny_mnist(tmp_path, sample), tmp_path / "curvature.json"
    flags = ["--data", str(folder), "--passes", "1", "--hold-out", "100", "--every", "250", "--out", str(out)]
    printed = run([sys.executable, str(ROOT / "scripts" / "sdlm_curvature.py"), *flags, "--mu", "0.1"])
    report = json.loads(out.read_text())
    (record,) = report["passes"]
    assert report["mu"] == 0.1 and record["eta"] == 0.0005 and "held-out error every 250 digits" in printed
    assert [seen for seen, _ in record["held_out_error"]] == [250, 500]  # 600 digits, 100 held out
    assert set(record["tails"]) == {"c1", "s2", "c3", "s4", "c5", "f6"}
    assert all(0 <= share <= 1 for share in record["tails"].values())
    for steps in record["steps"].values():  # eta / (mu + h) with h >= 0: never above eta / mu
        assert 0 < steps["min"] <= steps["median"] <= steps["max"] <= 0.0005 / 0.1 * (1 + 1e-6)
