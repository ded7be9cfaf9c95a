"""The 1998 paper's LeNet-5 (lenet/paper.py) against the paper's own numbers (Section II.B)."""

import keras
import numpy as np
import pytest

import lenet
from lenet import paper
from lenet.plots import layer_outputs

# Table I as the issue quotes the paper: the S2 maps each C3 map reads. Written out here, not imported, so a
# typo in lenet/paper.py cannot agree with itself.
TABLE_I = {
    0: {0, 1, 2}, 1: {1, 2, 3}, 2: {2, 3, 4}, 3: {3, 4, 5}, 4: {0, 4, 5}, 5: {0, 1, 5},
    6: {0, 1, 2, 3}, 7: {1, 2, 3, 4}, 8: {2, 3, 4, 5}, 9: {0, 3, 4, 5}, 10: {0, 1, 4, 5}, 11: {0, 1, 2, 5},
    12: {0, 1, 3, 4}, 13: {1, 2, 4, 5}, 14: {0, 2, 3, 5}, 15: {0, 1, 2, 3, 4, 5},
}  # fmt: skip


@pytest.fixture(scope="module")
def model():
    lenet.set_seed(0)
    return paper.build_lenet5_1998()


def test_sixty_thousand_trainable_parameters_and_the_papers_count_per_layer(model):
    assert sum(int(np.prod(weight.shape)) for weight in model.trainable_weights) == 60_000
    counts = {
        layer.name: sum(int(np.prod(weight.shape)) for weight in layer.trainable_weights)
        for layer in model.layers
        if layer.weights
    }
    assert counts == {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164, "rbf": 0}
    fixed = model.get_layer("rbf").non_trainable_weights
    assert [tuple(weight.shape) for weight in fixed] == [(84, 10)] and len(model.non_trainable_weights) == 1


def test_340908_connections_counted_from_the_layers(model):
    per_layer = {layer.name: paper.connections(layer) for layer in model.layers}
    assert per_layer["c1"] == 122_304 and per_layer["c3"] == 151_600 and per_layer["rbf"] == 840
    assert sum(per_layer.values()) == 340_908


def test_c3_reads_the_s2_maps_of_table_i():
    c3 = paper.SparseConv2D(name="c3")
    inputs = np.random.default_rng(0).normal(size=(1, 14, 14, 6)).astype(np.float32)
    lenet.set_seed(1)
    before = np.asarray(c3(inputs))
    for s2_map in range(6):
        perturbed = inputs.copy()
        perturbed[..., s2_map] += 1.0
        changed = np.abs(np.asarray(c3(perturbed)) - before).max(axis=(0, 1, 2)) > 0
        assert set(np.flatnonzero(changed)) == {m for m, reads in TABLE_I.items() if s2_map in reads}


def test_the_rbf_weights_are_the_ascii_bitmaps_of_the_digits(model):
    bitmaps = paper.digit_bitmaps()
    assert bitmaps.shape == (10, 12, 7) and set(np.unique(bitmaps)) == {-1.0, 1.0}
    assert len({bitmap.tobytes() for bitmap in bitmaps}) == 10
    # A digit's picture, read row by row: '#' where the bitmap is +1.
    one = ["".join("#" if pixel > 0 else "." for pixel in row) for row in bitmaps[1]]
    assert one[0] == "...#..." and one[10] == ".#####." and all(row[3] == "#" for row in one[:11])
    # F6 outputs equal to digit d's bitmap (row by row) are at distance 0 from unit d and farther from the others.
    rbf = model.get_layer("rbf")
    distances = -np.asarray(rbf(bitmaps.reshape(10, 84)))
    assert np.all(np.diag(distances) == 0) and np.all(distances + np.eye(10) > 0)
    # Two bitmaps differing in k pixels are 4k apart: the weights are exactly +-1.
    assert distances[0, 8] == 4 * np.sum(bitmaps[0] != bitmaps[8])


def test_inputs_are_padded_to_32x32_with_background_minus_0_1_and_ink_1_175(model):
    image = np.zeros((1, 28, 28, 1), np.uint8)
    image[0, 10, 10] = 255
    scaled = layer_outputs(model, image[..., 0], ["scale"])["scale"][0, ..., 0]
    assert scaled.shape == (32, 32)
    assert scaled[12, 12] == pytest.approx(1.175) and np.allclose(np.delete(scaled.ravel(), 12 * 32 + 12), -0.1)


def test_outputs_are_minus_the_rbf_distances_so_the_class_is_the_smallest_distance(model, sample):
    images = sample.x_test[:50]
    f6 = layer_outputs(model, images, ["f6"])["f6"]
    distances = ((f6[:, :, None] - paper.digit_bitmaps().reshape(10, 84).T[None]) ** 2).sum(axis=1)
    logits = np.asarray(model(images[..., None]))
    np.testing.assert_allclose(logits, -distances, rtol=1e-5)
    assert np.array_equal(logits.argmax(axis=1), distances.argmin(axis=1))


@pytest.mark.parametrize("rule", ["sqrt_fan_in", "fan_in"])
def test_initial_weights_are_uniform_within_2_4_over_the_fan_in_or_its_root(rule):
    bound = {"sqrt_fan_in": lambda fan_in: 2.4 / np.sqrt(fan_in), "fan_in": lambda fan_in: 2.4 / fan_in}[rule]
    lenet.set_seed(0)
    model = paper.build_paper_network(init=rule)
    for name, fan_in in (("c1", 25), ("s2", 4), ("s4", 4), ("c5", 400), ("f6", 120)):
        for weight in model.get_layer(name).trainable_weights:
            values, limit = np.abs(np.asarray(weight)), bound(fan_in)
            assert values.max() <= limit * (1 + 1e-6) and (weight.shape[0] < 10 or values.max() > 0.8 * limit)
    c3 = model.get_layer("c3")
    kernel = np.abs(np.asarray(c3.full_kernel(c3.kernel)))  # (5, 5, 6, 16)
    for c3_map, reads in TABLE_I.items():
        limit = bound(25 * len(reads))
        assert 0.8 * limit < kernel[..., c3_map].max() <= limit * (1 + 1e-6)
        assert np.abs(np.asarray(c3.bias)[c3_map]) <= limit * (1 + 1e-6)
    assert paper.DEFAULT_INIT == "sqrt_fan_in"  # docs/paper.md: the printed 2.4/F diverges under SDLM


def test_the_squashing_function_and_its_derivative_from_the_output():
    a = np.linspace(-3, 3, 13).astype(np.float32)
    x = np.asarray(paper.scaled_tanh(a))
    assert float(paper.scaled_tanh(np.float32(1.0))) == pytest.approx(1.0, abs=1e-4)
    expected = 1.7159 * (2 / 3) / np.cosh(2 * a / 3) ** 2
    np.testing.assert_allclose(np.asarray(paper.scaled_tanh_derivative_from_output(x)), expected, rtol=1e-4)


def test_a_saved_1998_model_loads_in_safe_mode_with_the_same_outputs(model, sample, tmp_path):
    path = tmp_path / "lenet5.keras"
    model.save(path)
    loaded = lenet.load_model(path)
    images = sample.x_test[:8, ..., None]
    np.testing.assert_array_equal(np.asarray(loaded(images)), np.asarray(model(images)))
    assert isinstance(keras.saving.load_model(path, safe_mode=True).get_layer("c3"), paper.SparseConv2D)


def test_all_switches_off_is_the_modern_network():
    modern = paper.build_paper_network(False, False, False, False, False, init="keras")
    reference = lenet.build_lenet5()
    assert [(type(layer), layer.name, layer.output.shape) for layer in modern.layers] == [
        (type(layer), layer.name, layer.output.shape) for layer in reference.layers
    ]
    assert modern.count_params() == reference.count_params()
    lenet.set_seed(3)
    modern = paper.build_paper_network(False, False, False, False, False, init="keras")
    lenet.set_seed(3)
    reference = lenet.build_lenet5()
    for ours, theirs in zip(modern.weights, reference.weights, strict=True):  # the same initial weights too
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_the_1998_network_trains_with_an_adam_recipe_through_lenet_train(tmp_path):
    from lenet import cli

    out = tmp_path / "run"
    assert cli.main(["train", "--variant", "lenet5-1998", "--data", "sample", "--epochs", "1", "--out", str(out)]) == 0
    results = lenet.load_results(out / "results.json")
    assert results["config"]["variant"] == "lenet5-1998" and results["recipe"]["name"] == lenet.TrainConfig().recipe
    assert results["test"]["accuracy"] > 0.3  # one epoch of softmax cross-entropy over -y learns
    model = lenet.load_model(out / "lenet5.keras")
    probabilities = lenet.predict_probabilities(model, lenet.load_mnist("sample").x_test[:100])
    assert probabilities.shape == (100, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
