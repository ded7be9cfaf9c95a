"""The benchmark compares like with like: its other two LeNet-5s have lenet's layers."""

import importlib.util
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
