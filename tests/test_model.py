import keras
import numpy as np
import pytest

import lenet
from lenet import reproducibility

# (name, type, filters/units, kernel, padding, strides, activation): the spec, pinned.
EXPECTED_LAYERS = [
    ("rescale", "Rescaling", None, None, None, None, None),
    ("c1", "Conv2D", 6, (5, 5), "same", (1, 1), "relu"),
    ("s2", "MaxPooling2D", None, (2, 2), "valid", (2, 2), None),
    ("c3", "Conv2D", 16, (5, 5), "valid", (1, 1), "relu"),
    ("s4", "MaxPooling2D", None, (2, 2), "valid", (2, 2), None),
    ("c5", "Conv2D", 120, (5, 5), "valid", (1, 1), "relu"),
    ("flatten", "Flatten", None, None, None, None, None),
    ("f6", "Dense", 84, None, None, None, "relu"),
    ("logits", "Dense", 10, None, None, None, "linear"),
]


def describe(layer: keras.layers.Layer) -> tuple:
    config = layer.get_config()
    activation = config.get("activation")
    return (
        layer.name,
        type(layer).__name__,
        config.get("filters", config.get("units")),
        tuple(config.get("kernel_size", config.get("pool_size")) or ()) or None,
        config.get("padding"),
        tuple(config["strides"]) if "strides" in config else None,
        activation,
    )


def test_layers_match_the_spec():
    model = lenet.build_lenet5()
    assert [describe(layer) for layer in model.layers] == EXPECTED_LAYERS


def test_parameter_count_shapes_and_scaling_inside_the_model():
    model = lenet.build_lenet5()
    assert model.count_params() == 61_706
    assert model.input_shape == (None, 28, 28, 1)
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers}
    assert shapes["c1"] == (28, 28, 6) and shapes["s4"] == (5, 5, 16) and shapes["c5"] == (1, 1, 120)
    assert model.output_shape == (None, 10)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)  # raw 0-255 pixels in
    assert model(np.full((2, 28, 28, 1), 255, dtype=np.uint8)).shape == (2, 10)


def test_the_1998_variant_is_the_papers_network():
    model = lenet.build_lenet5(variant="lenet5-1998")
    assert model.name == "lenet5_1998" and model.get_layer("rbf").trainable is True  # its weights are not
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    with pytest.raises(lenet.ConfigError, match="lenet5-1998 computes in float32 only"):
        lenet.build_lenet5(variant="lenet5-1998", mixed_precision=True)


def test_unknown_variant_is_refused():
    with pytest.raises(lenet.ConfigError, match="variant must be one of modern, lenet5-1998, got 'lenet1'"):
        lenet.build_lenet5(variant="lenet1")


def refused_here() -> bool:
    """Whether this machine cannot run float16 under lenet's pins (an AVX512-FP16 CPU): then mixed precision must
    be refused in one line, before any step, where it would otherwise run (tests/test_float16.py: every CPU kind)."""
    if (problem := reproducibility.float16_problem()) is None:
        return False
    with pytest.raises(lenet.ConfigError, match=r"^mixed precision cannot run on this CPU: ") as refused:
        lenet.build_lenet5(mixed_precision=True)
    assert str(refused.value).endswith(problem)
    return True


def test_mixed_precision_computes_in_float16_and_keeps_logits_float32():
    if refused_here():
        return
    model = lenet.build_lenet5(mixed_precision=True)
    for name in ("c1", "c3", "c5", "f6"):
        layer = model.get_layer(name)
        assert (layer.compute_dtype, layer.variable_dtype) == ("float16", "float32")
    assert model.get_layer("logits").compute_dtype == "float32"
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.get_layer("f6").output.dtype == "float16"
    assert model(np.zeros((2, 28, 28, 1), np.uint8)).dtype == "float32"
    # The policy is per layer: a model built afterwards is plain float32 again.
    assert keras.config.dtype_policy().name == "float32"
    assert {layer.compute_dtype for layer in lenet.build_lenet5().layers} == {"float32"}


def test_mixed_precision_model_compiles_with_loss_scaling(sample):
    config = lenet.TrainConfig(mixed_precision=True)  # a config is fine anywhere: the machine that trains decides
    split = lenet.split_validation(sample, 500)
    if refused_here():
        with pytest.raises(lenet.ConfigError, match="mixed precision cannot run on this CPU"):
            lenet.compiled_lenet5(config, split)
        return
    assert isinstance(lenet.compiled_lenet5(config, split).optimizer, keras.optimizers.LossScaleOptimizer)
    plain = lenet.compiled_lenet5(lenet.TrainConfig(), split).optimizer
    assert not isinstance(plain, keras.optimizers.LossScaleOptimizer)
