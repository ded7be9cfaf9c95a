"""The paper's training (lenet/sdlm.py): the Gauss-Newton estimate and the SDLM step against hand computations,
the eta schedule, and whole runs on the sample (deterministic, resumable, refused for other variants)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import lenet
from lenet.config import DISTORTIONS_1998
from lenet import paper, sdlm
from lenet.checkpoint import checkpoint_dir, saved_epochs

A, S = 1.7159, 2 / 3


def f(a: float) -> float:
    return A * np.tanh(S * a)


def f_prime(a: float) -> float:
    return A * S / np.cosh(S * a) ** 2


def tiny_network(weights: list[tuple[float, float]], prototypes: list[list[float]]) -> keras.Model:
    """Input (1,) -> one scaled-tanh unit per (w, b) in turn -> RBF units with the given prototypes."""
    units = [keras.layers.Dense(1, activation=paper.scaled_tanh) for _ in weights]
    model = keras.Sequential([keras.Input((1,)), *units, paper.EuclideanRBF(prototypes)])
    for layer, (w, b) in zip(units, weights, strict=True):
        layer.set_weights([np.array([[w]], np.float32), np.array([b], np.float32)])
    return sdlm.compile_for_sdlm(model)


def test_the_sdlm_step_on_a_two_parameter_problem_is_the_hand_computed_one():
    # x = f(w u + b), E = (x - p_c)^2 with the prototypes +1 (class 0) and -1 (class 1); curvature from u = 0.5, -1.
    w, b, mu, eta = 0.8, -0.3, sdlm.MU, 0.01
    model = tiny_network([(w, b)], [[1.0], [-1.0]])
    trainer = sdlm.SDLM(model)
    curvature_inputs = np.array([[0.5], [-1.0]], np.float32)
    # By hand: d2E/dx2 = 2, d2E/da2 = 2 f'(a)^2, h_w = mean of u^2 d2E/da2, h_b = mean of d2E/da2.
    second = [2 * f_prime(w * u + b) ** 2 for u in (0.5, -1.0)]
    h_w, h_b = np.mean([u * u * d for u, d in zip((0.5, -1.0), second, strict=True)]), np.mean(second)
    np.testing.assert_allclose(
        [float(np.ravel(h)[0]) for h in trainer.curvature(curvature_inputs)], [h_w, h_b], rtol=1e-5
    )
    steps = trainer.step_sizes(curvature_inputs, eta)
    # One digit u = 2, class 1 (prototype -1): dE/dw = 2 (x + 1) f'(a) u, dE/db = 2 (x + 1) f'(a).
    u, a = 2.0, w * 2.0 + b
    delta = 2 * (f(a) + 1) * f_prime(a)
    expected = [w - eta / (mu + h_w) * delta * u, b - eta / (mu + h_b) * delta]
    loss, correct = trainer.train_chunk(np.array([[u]], np.float32), np.array([1], np.int32), steps)
    assert float(loss) == pytest.approx((f(a) + 1) ** 2, rel=1e-5) and int(correct) == 0  # f(a) > 0: class 0
    np.testing.assert_allclose([float(v.numpy().ravel()[0]) for v in trainer.variables], expected, rtol=1e-5)


def test_second_derivatives_back_propagate_through_a_layer_as_appendix_c_says():
    # u -> x1 = f(w1 u + b1) -> x2 = f(w2 x1 + b2) -> E = (x2 - 1)^2, one pattern u = 0.7.
    (w1, b1), (w2, b2), u = (0.9, 0.1), (-1.3, 0.2), 0.7
    model = tiny_network([(w1, b1), (w2, b2)], [[1.0], [-1.0]])
    a1 = w1 * u + b1
    x1 = f(a1)
    a2 = w2 * x1 + b2
    d2_a2 = 2 * f_prime(a2) ** 2  # d2E/dx2^2 = 2 at the RBF's input
    d2_a1 = f_prime(a1) ** 2 * w2**2 * d2_a2  # d2E/dx1^2 = w2^2 d2E/da2^2, the f'' term dropped
    expected = [u * u * d2_a1, d2_a1, x1 * x1 * d2_a2, d2_a2]
    estimate = sdlm.gauss_newton_diagonal(model, tf.constant([[u]], tf.float32))
    np.testing.assert_allclose([float(np.ravel(h)[0]) for h in estimate], expected, rtol=1e-5)


def test_the_eta_schedule_of_the_paper():
    rates = [sdlm.eta(0.0005, pass_number) for pass_number in range(1, 21)]
    expected = [0.0005] * 2 + [0.0002] * 3 + [0.0001] * 3 + [0.00005] * 4 + [0.00001] * 8
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_sdlm_is_refused_for_other_variants_in_one_line():
    with pytest.raises(lenet.ConfigError, match="recipe sdlm-1998 needs variant lenet5-1998"):
        lenet.TrainConfig(recipe="sdlm-1998")
    with pytest.raises(lenet.ConfigError, match="SDLM trains the 1998 network only"):
        sdlm.compile_for_sdlm(paper.build_paper_network(scaled_tanh_activation=False))


def sdlm_config(**settings) -> lenet.TrainConfig:
    return lenet.TrainConfig(variant="lenet5-1998", recipe="sdlm-1998", **settings)


def test_the_paper_recipes_run_20_passes_on_every_training_digit_unless_told_otherwise():
    for recipe in ("sdlm-1998", "sdlm-1998-distorted"):
        config = lenet.TrainConfig(variant="lenet5-1998", recipe=recipe)
        assert (config.resolved_epochs, config.resolved_validation_size(60_000)) == (20, 0)
        explicit = lenet.TrainConfig(variant="lenet5-1998", recipe=recipe, epochs=3, validation_size=500)
        assert (explicit.resolved_epochs, explicit.resolved_validation_size(60_000)) == (3, 500)
    distorted = lenet.RECIPES["sdlm-1998-distorted"]
    assert {name: getattr(distorted, name) for name in DISTORTIONS_1998} == DISTORTIONS_1998 and distorted.augments
    assert not lenet.RECIPES["sdlm-1998"].augments


def test_an_sdlm_run_is_deterministic_and_resumes_after_its_last_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(sdlm, "CHUNK", 1_000)  # several chunks per pass of the sample's 4,500 digits
    config = sdlm_config(epochs=2, validation_size=400)  # the recipe holds none out; a validation set still works
    whole = lenet.train_and_evaluate(config, "sample", tmp_path / "whole", verbose=0)
    assert set(whole["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(whole["seconds_per_epoch"]) == 2 and whole["recipe"]["optimizer"] == "sdlm"

    class Interrupt(keras.callbacks.Callback):  # at the start of pass 2: pass 1 is checkpointed
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        lenet.train_and_evaluate(config, "sample", out, verbose=0, callbacks=[Interrupt()])
    assert saved_epochs(out) == 1 and not (out / "results.json").exists()
    resumed = lenet.train_and_evaluate(config, "sample", out, verbose=0)
    assert resumed["history"] == whole["history"] and resumed["test"] == whole["test"]
    assert json.loads((out / "results.json").read_text())["history"] == whole["history"]
    assert not checkpoint_dir(out).exists()
    # The saved model is the run's: loaded in safe mode, compiled with the paper's criterion.
    model = lenet.load_model(out / "lenet5.keras")
    sample = lenet.load_mnist("sample")
    assert lenet.evaluate(model, sample.x_test, sample.y_test) == whole["test"]


def test_the_notebook_points_an_sdlm_recipe_to_the_command_line():
    parameters = {"RECIPE": "sdlm-1998", "VARIANT": "lenet5-1998"}
    with pytest.raises(lenet.ConfigError, match=r"lenet train --variant lenet5-1998 --recipe sdlm-1998.*docs/paper.md"):
        lenet.config_from_parameters(parameters)
    assert lenet.config_from_parameters({"RECIPE": "original", "VARIANT": "lenet5-1998"}).variant == "lenet5-1998"


def test_lenet_train_runs_the_papers_training_from_the_command_line(tmp_path, capsys):
    from lenet import cli

    out = tmp_path / "run"
    arguments = ["train", "--variant", "lenet5-1998", "--recipe", "sdlm-1998", "--data", "sample", "--epochs", "1"]
    assert cli.main([*arguments, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("epoch 1/1  loss ") and " val_" not in printed[0]  # all 5,000 digits trained on
    results = lenet.load_results(out / "results.json")
    assert results["data"]["sizes"]["validation"] == 0 and results["recipe"]["optimizer"] == "sdlm"
    assert printed[1] == cli.TEST_LINE.format_map(results["test"])
    assert cli.main(["train", "--recipe", "sdlm-1998", "--data", "sample", "--out", str(tmp_path / "no")]) == 2
    assert "recipe sdlm-1998 needs variant lenet5-1998" in capsys.readouterr().err and not (tmp_path / "no").exists()


def test_the_tables_describe_an_sdlm_recipe_as_such():
    import dataclasses

    from tools.report import recipe_description

    described = recipe_description(dataclasses.asdict(lenet.RECIPES["sdlm-1998"]))
    assert described == "SDLM, eta from 0.0005 stepped down by passes as in 1998; no augmentation"
