"""The scripts docs/recipe.md and docs/beyond.md document: the Fashion-MNIST one run end to end on tiny data, the
studies' reports rebuilt from the committed ones' numbers (tests/test_sweep_cluster.py runs the studies on Ray)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lenet
from lenet.data import IDX_FILES
from test_idx import write_idx  # tests/ is on sys.path (pytest's prepend import mode)
from lenet.sweep import summarize

ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """`python scripts/NAME ARGUMENTS` in a fresh process."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        # Without the pins this process inherited: a script must get them from lenet itself, in time.
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "ONEDNN_"))}, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.slow
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
    assert (
        report["environment"]["pins_too_late"] == []
        and report["environment"]["set_by"]["TF_ENABLE_ONEDNN_OPTS"] == "lenet"
    )


def entry(results: dict, evaluate_test: bool = True) -> dict:
    return {"data": results["data"]["source"], "evaluate_test": evaluate_test, "results": results}


def rebuilt(name: str, monkeypatch: pytest.MonkeyPatch, args: dict, entries: list[dict]) -> str:
    """What scripts/NAME.py writes to --out for a sweep of these entries (no run, no Ray)."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    study = {"runs": entries, "summary": summarize(entries)}
    return json.dumps(importlib.import_module(name).report(argparse.Namespace(**args), study), indent=2) + "\n"


@pytest.mark.parametrize("recipe", ["original", "shift-2e-3"])
def test_the_seed_spread_report_is_the_sweeps_summary(recipe, monkeypatch):
    path = ROOT / "reports" / f"seed_spread_{recipe}.json"
    committed = json.loads(path.read_text())
    entries = [
        entry(
            {
                "config": lenet.TrainConfig(**{**committed["config"], "seed": run["seed"]}).to_dict(),
                "data": committed["data"],
                "environment": committed["environment"],
                "history": {"val_accuracy": run["val_accuracy"]},
                "test": {"accuracy": run["test_accuracy"], "loss": run["test_loss"]},
                "seconds_per_epoch": [run["seconds_per_epoch"]],
            }
        )
        for run in committed["runs"]
    ]
    seeds = [run["seed"] for run in committed["runs"]]
    assert (
        rebuilt("seed_spread", monkeypatch, {"recipe": recipe, "seeds": seeds, "epochs": None}, entries)
        == path.read_text()
    )


def test_the_variant_comparison_report_is_the_sweeps_summary(monkeypatch):
    path = ROOT / "reports" / "compare_variants.json"
    committed = json.loads(path.read_text())
    variants = committed["variants"]
    seeds = [run["seed"] for run in next(iter(variants.values()))["runs"]]
    entries = [  # the sweep's grid order: seeds outermost
        entry(
            {
                "config": lenet.TrainConfig(**{**committed["config"], "seed": seed, "variant": variant}).to_dict(),
                "data": committed["data"],
                "environment": committed["environment"],
                "history": {"val_accuracy": run["val_accuracy"]},
                "test": {"accuracy": run["test_accuracy"], "loss": run["test_loss"]},
                "seconds_per_epoch": [run["seconds_per_epoch"]],
            }
        )
        for index, seed in enumerate(seeds)
        for variant in variants
        for run in [variants[variant]["runs"][index]]
    ]
    config = committed["config"]
    epochs = config["epochs"] if "--epochs" in committed["command"] else None  # None: the recipe's (resolved)
    args = {"recipe": config["recipe"], "seeds": seeds, "variants": list(variants), "epochs": epochs}
    assert rebuilt("compare_variants", monkeypatch, args, entries) == path.read_text()


def test_the_recipe_study_report_is_the_sweeps_summary(monkeypatch):
    path = ROOT / "reports" / "recipe_study.json"
    committed = json.loads(path.read_text())
    entries = [
        entry(
            {
                "config": lenet.TrainConfig(recipe=name, seed=seed, epochs=committed["epochs"]).to_dict(),
                "data": committed["data"],
                "recipe": candidate["recipe"],
                "history": {"val_accuracy": [accuracy], "val_loss": [loss]},
                "test": None,
                "seconds_per_epoch": [candidate["seconds_per_epoch"]],  # each epoch at the median
            },
            evaluate_test=False,
        )
        for name, candidate in committed["candidates"].items()
        for seed, accuracy, loss in zip(
            candidate["seeds"], candidate["val_accuracy"], candidate["val_loss"], strict=True
        )
    ]
    args = {"recipes": list(committed["candidates"]), "epochs": committed["epochs"]}
    assert rebuilt("recipe_study", monkeypatch, args, entries) == path.read_text()
