"""Repeated runs for comparisons (lenet/compare.py) and the variant table built from them."""

import statistics

import pytest

import lenet
from lenet.compare import accuracy_summary, run_summary, shared_config, train_in_fresh_process
from lenet.report import variants_markdown


def test_a_run_in_a_fresh_process_writes_its_results(tmp_path):
    config = lenet.TrainConfig(epochs=1, variant="classic", validation_size=3800)
    results = train_in_fresh_process(config, "sample", tmp_path / "run")
    assert results["config"] == config.to_dict()
    assert (tmp_path / "run" / "results.png").is_file()
    summary = run_summary(results)
    assert summary["seed"] == 42 and summary["test_accuracy"] == results["test"]["accuracy"]
    assert summary["seconds_per_epoch"] == statistics.median(results["seconds_per_epoch"])
    assert "variant" not in shared_config(results, ("seed", "variant"))


def test_summary_and_table_of_two_variants():
    runs = {
        "modern": [{"seed": seed, "test_accuracy": accuracy, "seconds_per_epoch": 2.0}
                   for seed, accuracy in ((0, 0.99), (1, 0.98))],
        "classic": [{"seed": 0, "test_accuracy": 0.97, "seconds_per_epoch": 3.0}],
    }
    summary = accuracy_summary(runs["modern"])
    assert summary["mean"] == pytest.approx(0.985) and summary["std"] == pytest.approx(statistics.stdev([0.99, 0.98]))
    assert accuracy_summary(runs["classic"])["std"] == 0.0
    comparison = {
        "variants": {
            name: {"runs": variant_runs, "summary": accuracy_summary(variant_runs), "seconds_per_epoch": 2.5}
            for name, variant_runs in runs.items()
        }
    }
    lines = variants_markdown(comparison).splitlines()
    assert lines[2].startswith("| modern | ReLU, max pooling") and "**98.50% ± 0.71%**" in lines[2]
    assert "97.00% - 99.00%" not in lines[2] and "98.00% - 99.00%" in lines[2] and "2 (seeds 0, 1)" in lines[2]
    assert lines[3].startswith("| classic | tanh, average pooling") and "1 (seeds 0)" in lines[3]
