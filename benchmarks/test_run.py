"""The benchmark compares like with like (its other two LeNet-5s have lenet's layers), each at its
own defaults, and reports ratios that a slow repeat cannot move much."""

import importlib.util
import json
from pathlib import Path

import pytest

import lenet

RUN_PY = Path(__file__).resolve().parent / "run.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _layer_shapes(model) -> list[tuple[str, tuple]]:
    return [(type(layer).__name__, tuple(w.shape for w in layer.weights)) for layer in model.layers]


def test_original_approach_model_has_lenets_layers(benchmark):
    ours, original = lenet.build_lenet5(), benchmark.original_model()
    assert _layer_shapes(original) == [item for item in _layer_shapes(ours) if item[0] != "Rescaling"]
    assert original.count_params() == ours.count_params() == 61_706


def test_torch_model_has_lenets_parameter_shapes(benchmark):
    pytest.importorskip("torch")
    import torch

    ours = [tuple(w.shape) for w in lenet.build_lenet5().weights]
    theirs = [tuple(p.shape) for p in benchmark.torch_model().parameters()]
    # Keras stores kernels (h, w, in, out) / (in, out); PyTorch (out, in, h, w) / (out, in).
    as_keras = [(s[2], s[3], s[1], s[0]) if len(s) == 4 else s[::-1] for s in theirs]
    assert as_keras == ours
    assert benchmark.torch_model()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def _run(images_per_second: float, inference_1: float = 100.0) -> dict:
    return {"images_per_second": images_per_second, "inference_1": inference_1, "load_before": [0.1, 0.1, 0.1]}


def test_ratios_are_medians_of_per_repeat_ratios_with_their_range(benchmark):
    # Repeat 2 of lenet is slow (load from another job): the median of ratios ignores it.
    runs = {"lenet": [_run(1000), _run(500), _run(1100)], "torch": [_run(800), _run(800), _run(1000)]}
    ratio = benchmark.ratios(runs)["train lenet / torch"]
    assert ratio["per_repeat"] == [1.25, 0.625, 1.1]
    assert (ratio["median"], ratio["min"], ratio["max"], ratio["target"]) == (1.1, 0.625, 1.25, 1.3)
    assert ratio["spread"] == pytest.approx((1.25 - 0.625) / 1.1)
    assert "train lenet / original" not in benchmark.ratios(runs)  # that path did not run
    # A timed-out repeat drops out of its pair only.
    runs["torch"][1] = {"timed_out": 900, "load_before": [0.1] * 3}
    assert benchmark.ratios(runs)["train lenet / torch"]["per_repeat"] == [1.25, 1.1]


def test_the_output_says_when_the_machine_was_loaded_or_a_ratio_spread(benchmark):
    quiet = {"lenet": [_run(1000), _run(1010)], "torch": [_run(800), _run(805)]}
    results = {"runs": quiet, "load_average_before": [0.2, 0.2, 0.2]}
    results["ratios"] = benchmark.ratios(quiet)
    assert benchmark.warnings(results) == []
    noisy = {"lenet": [_run(1000), _run(1300)], "torch": [_run(800), _run(800)]}
    results = {"runs": noisy, "load_average_before": [0.7, 0.2, 0.2], "ratios": benchmark.ratios(noisy)}
    notes = benchmark.warnings(results)
    assert any(note.startswith("load average above 0.5: 0.70") for note in notes)
    assert any(note.startswith("train lenet / torch: the repeats spread") for note in notes)


def test_every_path_runs_at_its_own_defaults_and_extra_settings_are_labelled(benchmark, monkeypatch):
    for name in ("TF_NUM_INTRAOP_THREADS", "ONEDNN_MAX_CPU_ISA", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    paths = benchmark.DEFAULT_PATHS
    assert paths[0] == "lenet" and {"original", "torch", "torch+passive", "lenet+unpinned"} <= set(paths)
    lenet_env, unpinned, torch_env = (benchmark.worker_env(p) for p in ("lenet", "lenet+unpinned", "torch"))
    assert (lenet_env["TF_NUM_INTRAOP_THREADS"], lenet_env["ONEDNN_MAX_CPU_ISA"]) == ("1", "AVX2")
    assert unpinned["TF_NUM_INTRAOP_THREADS"] != "1" and unpinned["ONEDNN_MAX_CPU_ISA"] == "ALL"
    assert "TF_NUM_INTRAOP_THREADS" not in torch_env and "OMP_WAIT_POLICY" not in torch_env
    assert benchmark.worker_env("torch+passive")["OMP_WAIT_POLICY"] == "PASSIVE"


@pytest.mark.slow
def test_a_tiny_interleaved_run_reports_every_ratio_it_can(benchmark, tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "results.json"
    sample = Path(lenet.__file__).parent / "sample" / "mnist_sample.npz"
    arguments = ["--data", str(sample), "--paths", "lenet,torch", "--repeats", "2", "--epochs", "2"]
    benchmark.main([*arguments, "--train-limit", "256", "--singles", "5", "--out", str(out)])
    results = json.loads(out.read_text())
    assert [len(results["runs"][path]) for path in ("lenet", "torch")] == [2, 2]
    ratio = results["ratios"]["train lenet / torch"]
    assert len(ratio["per_repeat"]) == 2 and ratio["min"] <= ratio["median"] <= ratio["max"]
    assert results["summary"]["lenet"]["identical_reruns"]
    lenet_run = results["runs"]["lenet"][0]
    assert lenet_run["environment"]["TF_NUM_INTRAOP_THREADS"] == "1" and lenet_run["lite_check"]["images"] == 1000
    printed = capsys.readouterr().out
    assert "train lenet / torch: " in printed and "one image lenet / torch: " in printed
