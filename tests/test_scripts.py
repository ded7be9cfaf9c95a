"""The study scripts docs/recipe.md and docs/beyond.md document, run end to end on tiny data (each trains for real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.data import IDX_FILES
from lenet.idx import write_idx

pytest.importorskip("ray", reason="the study scripts run on Ray: pip install 'lenet[sweep]'")
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_recipe_study_ranks_on_validation_without_the_test_set(tmp_path):
    out = tmp_path / "study.json"
    script(
        "recipe_study.py",
        "--data",
        "sample",
        "--recipes",
        "original",
        "shift-2e-3",
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--runs",
        tmp_path / "runs",
        "--out",
        out,
        cwd=tmp_path,
    )
    study = json.loads(out.read_text())
    assert set(study["ranking"]) == {"original", "shift-2e-3"} and study["chosen"] == study["ranking"][0]
    for entry in json.loads((tmp_path / "runs" / "sweep.json").read_text())["runs"]:
        assert entry["results"]["test"] is None  # the study never evaluates on the test set
    first, second = (study["candidates"][name] for name in study["ranking"])
    assert (first["mean_val_accuracy"], -first["mean_val_loss"]) >= (
        second["mean_val_accuracy"],
        -second["mean_val_loss"],
    )


def test_the_seed_spread_and_the_variant_comparison_train_and_summarise(tmp_path):
    spread = tmp_path / "spread.json"
    script(
        "seed_spread.py",
        "--data",
        "sample",
        "--recipe",
        "original",
        "--seeds",
        "0",
        "--runs",
        tmp_path / "seeds",
        "--out",
        spread,
        cwd=tmp_path,
    )
    summary = json.loads(spread.read_text())
    assert summary["config"]["recipe"] == "original" and summary["command"].startswith(
        "python scripts/seed_spread.py --recipe original --data sample"
    )
    assert 0.5 < summary["summary"]["mean"] <= 1 and [run["seed"] for run in summary["runs"]] == [0]
    comparison = tmp_path / "variants.json"
    script(
        "compare_variants.py",
        "--data",
        "sample",
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--runs",
        tmp_path / "variants",
        "--out",
        comparison,
        cwd=tmp_path,
    )
    assert set(json.loads(comparison.read_text())["variants"]) == {"modern", "classic"}


def test_the_fashion_mnist_script_trains_on_an_idx_folder(tmp_path, sample):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    tiny = {
        "x_train": sample.x_train[:640],
        "y_train": sample.y_train[:640],
        "x_test": sample.x_test[:100],
        "y_test": sample.y_test[:100],
    }
    for key, stem in IDX_FILES.items():
        write_idx(folder / f"{stem}.gz", tiny[key])
    script(
        "fashion_mnist.py",
        "--data",
        folder,
        "--runs",
        tmp_path / "run",
        "--reports",
        tmp_path / "reports",
        cwd=tmp_path,
    )
    report = json.loads((tmp_path / "reports" / "fashion_mnist.json").read_text())
    assert report["data"]["source"] == "fashion-mnist" and report["data"]["sizes"]["test"] == 100
