"""`lenet sweep`'s grid, checks and summaries, without a cluster (tests/test_sweep_cluster.py has one)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import lenet
from lenet.errors import ConfigError
from tools.report import variants_markdown
from lenet.sweep import Run, RunsFailed, SweepError, finished_runs, grid, spread, summarize, summary_markdown, sweep

ROOT = Path(__file__).resolve().parents[1]


def test_a_grid_is_every_combination_of_any_config_fields_seeds_outermost():
    runs = grid(["sample", "/data/mnist.npz"], seed=[0, 1], variant=["modern", "lenet5-1998"], batch_size=32)
    assert len(runs) == 8 and {run.config.batch_size for run in runs} == {32}
    assert [(run.data, run.config.seed, run.config.variant) for run in runs[:4]] == [
        ("sample", 0, "modern"),
        ("sample", 0, "lenet5-1998"),
        ("sample", 1, "modern"),
        ("sample", 1, "lenet5-1998"),
    ]
    # A run's directory names its data, its seed and the fields off the default, nothing else.
    assert [run.name for run in runs[:2]] == [
        "sample_seed-0_batch_size-32",
        "sample_seed-0_batch_size-32_variant-lenet5-1998",
    ]
    assert runs[4].name == "mnist.npz_seed-0_batch_size-32"
    assert Run(lenet.TrainConfig(), "sample", evaluate_test=False).name == "sample_seed-42_no-test"


@pytest.mark.slow
def test_a_bad_grid_fails_with_one_line_before_ray_starts(tmp_path):
    with pytest.raises(ConfigError, match="TrainConfig has no field colour"):
        grid("sample", colour=["red"])
    with pytest.raises(ConfigError, match="share an output directory: sample_seed-1"):
        sweep(grid("sample", seed=[1, 1]), tmp_path / "twice")
    # The command line: an unknown variant is one line and exit code 2; Ray is never imported.
    command = (
        "import sys; from lenet.cli import main; code = main(sys.argv[1:]); "
        "assert 'ray' not in sys.modules; sys.exit(code)"
    )
    out = tmp_path / "sweep"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            command,
            "sweep",
            "--data",
            "sample",
            "--seeds",
            "0,1",
            "--variants",
            "modern,lenet4",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["lenet: error: variant must be one of modern, lenet5-1998, got 'lenet4'"]
    assert not out.exists()


def test_without_ray_a_sweep_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    with pytest.raises(SweepError, match=r"pip install 'lenet\[sweep\]'"):
        sweep(grid("sample", epochs=1), tmp_path)


def test_the_notebook_never_imports_ray():
    # That lenet itself never imports Ray: test_cli's help-and-public-names probe.
    cells = json.loads((ROOT / "lenet_5.ipynb").read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    assert not [source for source in sources if re.search(r"^\s*(import|from)\s+ray\b|lenet\.sweep", source, re.M)]


def test_a_run_can_leave_the_test_set_untouched(tmp_path, monkeypatch):
    from lenet import experiment

    def no_test(*args, **kwargs):
        raise AssertionError("the test set was evaluated")

    monkeypatch.setattr(experiment, "evaluate", no_test)
    config = lenet.TrainConfig(epochs=1, validation_size=3800)
    results = experiment.train_and_evaluate(config, "sample", tmp_path, verbose=0, evaluate_test=False)
    assert results["test"] is None and len(results["history"]["val_accuracy"]) == 1
    assert json.loads((tmp_path / "results.json").read_text())["test"] is None


def entry(seed, variant, accuracy, val, seconds, tested=True):
    run = Run(lenet.TrainConfig(seed=seed, variant=variant, epochs=2), "sample", tested)
    config = run.config.to_dict()
    return {
        "name": run.name,
        "data": "sample",
        "config": config,
        "evaluate_test": tested,
        "results": {
            "config": config,
            "history": {"val_accuracy": [0.5, val]},
            "test": {"accuracy": accuracy, "loss": 0.1} if tested else None,
            "seconds_per_epoch": [seconds, seconds + 2],
        },
    }


def test_the_summary_is_mean_and_sd_per_group_of_seeds():
    entries = [
        entry(0, "modern", 0.99, 0.98, 1.0),
        entry(1, "modern", 0.98, 0.97, 3.0),
        entry(0, "lenet5-1998", 0.97, 0.96, 5.0),
    ]
    rows = summarize(entries)
    assert [row["config"]["variant"] for row in rows] == ["modern", "lenet5-1998"]
    # By hand: mean 0.985, sample sd sqrt(2 * 0.005**2 / 1) = 0.005 * sqrt(2).
    expected = {"n": 2, "mean": 0.985, "std": 0.0070710678, "min": 0.98, "max": 0.99}
    assert rows[0]["seeds"] == [0, 1] and rows[0]["test_accuracy"] == pytest.approx(expected)
    assert spread([0.5]) == {"n": 1, "mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5}
    assert rows[0]["final_val_accuracy"]["mean"] == pytest.approx(0.975)
    assert rows[0]["seconds_per_epoch"] == 3.0 and rows[1]["test_accuracy"]["std"] == 0.0
    lines = summary_markdown(rows).splitlines()
    assert lines[2] == "| variant modern | 0, 1 | **98.50% ± 0.71%** | 98.00% - 99.00% | 97.50% ± 0.71% | 3.0 |"
    assert lines[3] == "| variant lenet5-1998 | 0 | **97.00% ± 0.00%** | 97.00% - 97.00% | 96.00% ± 0.00% | 6.0 |"
    untested = summary_markdown(summarize([entry(0, "modern", 0, 0.9, 1.0, tested=False)])).splitlines()
    assert untested[2] == "| all runs | 0 | not tested | | 90.00% ± 0.00% | 2.0 |"


def test_a_restarted_sweep_skips_only_runs_recorded_with_the_same_identity(tmp_path):
    recorded = entry(0, "modern", 0.99, 0.98, 1.0)
    (tmp_path / "sweep.json").write_text(json.dumps({"runs": [recorded]}))
    same = Run(lenet.TrainConfig(seed=0, epochs=2), "sample")
    assert finished_runs(tmp_path / "sweep.json", [same]) == {recorded["name"]: recorded}
    untested = Run(lenet.TrainConfig(seed=0, epochs=2), "sample", False)
    other_seed = Run(lenet.TrainConfig(seed=1, epochs=2), "sample")
    # A folder named like the source has the same run name, but is other data: not finished.
    folder = Run(lenet.TrainConfig(seed=0, epochs=2), "./sample")
    assert folder.name == same.name
    assert finished_runs(tmp_path / "sweep.json", [untested, other_seed, folder]) == {}
    assert finished_runs(tmp_path / "absent.json", [same]) == {}
    for broken in ("{", "[]", '{"runs": ["x"]}'):
        (tmp_path / "sweep.json").write_text(broken)
        with pytest.raises(SweepError, match="not a sweep file"):
            finished_runs(tmp_path / "sweep.json", [same])


def fake_ray(outcomes, options=None):
    """Just enough of Ray for sweep's loop: a task's ref is its run's name, its outcome a result or an error line;
    the task's options (CPUs, the worker's environment) go into `options`."""

    class RayError(Exception):
        pass

    def get(ref):
        if isinstance(outcomes[ref], str):
            raise RayError(f"Traceback (most recent call last):\n{outcomes[ref]}")
        return outcomes[ref]

    options = {} if options is None else options
    task = SimpleNamespace(options=lambda name: SimpleNamespace(remote=lambda *arguments: name))
    return SimpleNamespace(
        is_initialized=lambda: True,
        nodes=lambda: [{"Alive": True, "Resources": {"CPU": 2.0}, "NodeID": "node"}],
        remote=lambda **given: options.update(given) or (lambda function: task),
        wait=lambda refs: (refs[:1], refs[1:]),
        get=get,
        exceptions=SimpleNamespace(RayError=RayError),
    )


def test_a_sweep_writes_as_it_goes_and_names_the_failed_runs(tmp_path, monkeypatch):
    from lenet import sweep as module

    runs = grid("sample", seed=[0, 1, 2], epochs=2)
    (tmp_path / "sweep.json").write_text(json.dumps({"runs": [entry(0, "modern", 0.99, 0.98, 1.0)]}))
    node = {"id": "abcdef123", "ip": "192.0.2.1", "hostname": "vm"}
    outcomes = {
        runs[1].name: {"results": entry(1, "modern", 0.98, 0.97, 3.0)["results"], "node": node, "seconds": 7.0},
        runs[2].name: "lenet.errors.TrainingError: the loss became NaN",
    }
    options = {}
    monkeypatch.setitem(sys.modules, "ray", fake_ray(outcomes, options))
    save_json, writes = module.save_json, []
    monkeypatch.setattr(module, "save_json", lambda *arguments: writes.append(1) or save_json(*arguments))
    lines = []
    with pytest.raises(RunsFailed) as failure:
        sweep(runs, tmp_path, threads=2, progress=lines.append)
    # Each run gets its CPUs, and its worker's TensorFlow as many threads, set before it starts (lenet's own pin,
    # one thread, would win otherwise).
    assert options["num_cpus"] == 2 and options["runtime_env"] == {"env_vars": {"TF_NUM_INTRAOP_THREADS": "2"}}
    assert str(failure.value) == (
        f"1 of 3 runs failed (see {tmp_path.resolve() / 'sweep.json'}): "
        "sample_seed-2_epochs-2: lenet.errors.TrainingError: the loss became NaN"
    )
    assert lines == [
        f"1 of 3 runs already finished in {tmp_path.resolve() / 'sweep.json'}; skipping them",
        "[2/3] sample_seed-1_epochs-2: test accuracy 0.9800, node 192.0.2.1 (abcdef12), 7.0 s",
        "[3/3] sample_seed-2_epochs-2: FAILED: lenet.errors.TrainingError: the loss became NaN",
    ]
    assert len(writes) == 3  # when the runs are submitted, then once per finished or failed run
    recorded = json.loads((tmp_path / "sweep.json").read_text())
    assert [run["name"] for run in recorded["runs"]] == [runs[0].name, runs[1].name] and recorded["pending"] == []
    assert recorded["runs"][1] == {**runs[1].identity(), "threads": 2, **outcomes[runs[1].name]}
    assert recorded["failed"] == [{"name": runs[2].name, "error": outcomes[runs[2].name]}]
    # The summary of the finished runs only (seeds 0 and 1, one group), not of the failed one.
    [row] = recorded["summary"]
    assert row["seeds"] == [0, 1] and row["test_accuracy"]["mean"] == pytest.approx(0.985)
    # Started again with nothing left to run: sweep.json is written once, the same runs in it.
    assert sweep(runs[:2], tmp_path, progress=None)["runs"] == recorded["runs"] and len(writes) == 4


def test_the_variant_table_from_the_sweeps_runs():
    runs = {
        "modern": [
            {"seed": seed, "test_accuracy": accuracy, "seconds_per_epoch": 2.0}
            for seed, accuracy in ((0, 0.99), (1, 0.98))
        ],
        "lenet5-1998": [{"seed": 0, "test_accuracy": 0.97, "seconds_per_epoch": 3.0}],
    }
    summaries = {
        "modern": {"n": 2, "mean": 0.985, "std": 0.0070710678, "min": 0.98, "max": 0.99},
        "lenet5-1998": {"n": 1, "mean": 0.97, "std": 0.0, "min": 0.97, "max": 0.97},
    }
    comparison = {
        "variants": {
            name: {"runs": variant_runs, "summary": summaries[name], "seconds_per_epoch": 2.5}
            for name, variant_runs in runs.items()
        }
    }
    lines = variants_markdown(comparison).splitlines()
    assert lines[2].startswith("| modern | ReLU, max pooling") and "**98.50% ± 0.71%**" in lines[2]
    assert "98.00% - 99.00%" in lines[2] and "2 (seeds 0, 1)" in lines[2]
    assert lines[3].startswith("| lenet5-1998 | the 1998 paper's network") and "1 (seeds 0)" in lines[3]
