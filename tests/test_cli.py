"""The command line through `cli.main`, the console script's entry point, in this process (a fresh one, for --help,
usage errors and `lenet plot` without TensorFlow: test_startup)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lenet
from lenet import cli

EPOCHS = 3  # as conftest's trained_on_sample: enough for a confident model on most test digits


@pytest.fixture
def trained(trained_on_sample) -> tuple[Path, str]:
    """conftest's `lenet train` run and what it printed; its model serves the evaluate and predict tests."""
    out, _results, printed = trained_on_sample
    return out, printed


def test_train_writes_the_artifacts_and_one_line_per_epoch_when_not_a_terminal(trained):
    out, printed = trained  # the files it writes: test_training
    results = lenet.load_results(out / "results.json")
    assert results["config"]["epochs"] == EPOCHS and results["data"]["source"] == "sample"
    lines = printed.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == [f"{e}/{EPOCHS}" for e in range(1, EPOCHS + 1)]
    assert len(lines) == EPOCHS + 2 and "\r" not in printed  # plus the test line and "wrote ..."
    for line, loss in zip(epoch_lines, results["history"]["val_loss"], strict=True):
        assert f"val_loss {loss:.4f}" in line
    assert f"test accuracy {results['test']['accuracy']:.4f}" in lines[-2]


def test_every_config_field_is_a_train_flag_with_its_default_and_a_sweep_grid_flag():
    parser, defaults = cli.build_parser(), lenet.TrainConfig().to_dict()
    arguments = parser.parse_args(["train"])
    assert {name: getattr(arguments, name) for name in defaults} == defaults
    assert arguments.data == "keras" and arguments.out == "runs/latest"
    changed = parser.parse_args(["train", "--epochs", "3", "--learning-rate", "0.01", "--no-mixed-precision"])
    assert (changed.epochs, changed.learning_rate, changed.mixed_precision) == (3, 0.01, False)
    grid = parser.parse_args(["sweep", "--out", "s", "--seeds", "0,1", "--mixed-precision", "on,off", "--recipes", "x"])
    values = {name: getattr(grid, name) for name in defaults if getattr(grid, name) is not None}
    assert values == {"seed": [0, 1], "mixed_precision": [True, False], "recipe": ["x"]}  # unset: the config's own


def test_evaluate_reports_the_runs_test_numbers_as_json_and_as_tables(trained, capsys):
    out, _ = trained  # in this process (TensorFlow is loaded already): the same code, faster
    assert cli.main(["evaluate", str(out / "lenet5.keras"), "--data", "sample", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    test = lenet.load_results(out / "results.json")["test"]
    assert report["test"]["accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1000
    assert np.trace(matrix) / 1000 == pytest.approx(test["accuracy"], abs=1e-6)
    np.testing.assert_allclose(report["per_class_accuracy"], np.diag(matrix) / matrix.sum(axis=1))
    assert cli.main(["evaluate", str(out / "lenet5.keras"), "--data", "sample"]) == 0
    lines = capsys.readouterr().out.splitlines()
    accuracy = lenet.load_results(out / "results.json")["test"]["accuracy"]
    assert lines[0] == "sample: 1,000 test images" and f"test accuracy {accuracy:.4f}" in lines[1]
    matrix = np.array([[int(count) for count in line.split()[1:]] for line in lines[-10:]])
    assert matrix.sum() == 1000 and np.trace(matrix) / 1000 == pytest.approx(accuracy, abs=1e-6)


def render_variants(digit: np.ndarray) -> dict[str, Image.Image]:
    """One MNIST test digit as a user might hand it in: other sizes, inverted, off-centre, colour."""

    def scaled(side: int) -> np.ndarray:
        return np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC))

    wide = np.zeros((80, 100), dtype=np.uint8)
    wide[5:75, 20:90] = scaled(70)
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)
    rgba[..., 3] = digit  # black ink whose opacity is the digit, on a transparent background
    return {
        "56x56": Image.fromarray(scaled(56)),
        "100x80": Image.fromarray(wide),
        "inverted": Image.fromarray(255 - scaled(84)),  # black on white
        "off-centre": Image.fromarray(np.pad(digit, ((3, 40), (50, 7)))),
        "rgb": Image.fromarray(255 - digit).convert("RGB"),
        "rgba": Image.fromarray(rgba, "RGBA"),
    }


def test_predictions_on_rerendered_digits_agree_with_the_originals(trained, sample, tmp_path, capsys):
    out, _ = trained
    digits = sample.x_test[:100]
    for index, digit in enumerate(digits):
        for variant, image in render_variants(digit).items():
            (tmp_path / variant).mkdir(exist_ok=True)
            image.save(tmp_path / variant / f"{index:03d}.png")
    variants = sorted(path.name for path in tmp_path.iterdir())
    assert cli.main(["predict", str(out / "lenet5.keras"), *[str(tmp_path / v) for v in variants], "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    assert len(predictions) == 100 * len(variants)
    expected = lenet.predict_probabilities(lenet.load_model(out / "lenet5.keras"), digits).argmax(axis=1)
    agree = {
        variant: np.mean([p["digit"] for p in predictions if Path(p["image"]).parent.name == variant] == expected)
        for variant in variants
    }
    assert np.mean(list(agree.values())) >= 0.95, agree
    assert min(agree.values()) >= 0.90, agree


def test_predict_table_top_k_and_figures(trained, sample, tmp_path, capsys):
    out, _ = trained
    for index in range(2):
        Image.fromarray(255 - sample.x_test[index]).save(tmp_path / f"digit{index}.png")
    arguments = [out / "lenet5.keras", tmp_path / "digit0.png", tmp_path / "digit1.png", tmp_path / "digit0.png"]
    assert cli.main(["predict", *map(str, arguments), "--top", "3", "--show", str(tmp_path / "figures")]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[0] == "image" and len(rows) == 3
    for row in rows:
        _image, *pairs = row.split()
        probabilities = [float(value) for value in pairs[1::2]]
        assert len(pairs) == 6 and probabilities == sorted(probabilities, reverse=True)
    figures = sorted(path.name for path in (tmp_path / "figures").iterdir())
    assert figures == ["digit0-2.png", "digit0.png", "digit1.png"]  # a repeated name is numbered
    assert Image.open(tmp_path / "figures" / "digit0.png").size[0] > 500


def test_bad_images_get_one_line_each_and_good_ones_are_still_predicted(trained, sample, tmp_path, capsys):
    """The messages themselves: test_images."""
    out, _ = trained
    Image.fromarray(sample.x_test[0]).save(tmp_path / "good.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "nothing").mkdir()
    inputs = [tmp_path / name for name in ("good.png", "missing.png", "empty.png", "nothing")]
    assert cli.main(["predict", str(out / "lenet5.keras"), *map(str, inputs)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"lenet: error: {tmp_path / 'missing.png'}: no such file",
        f"lenet: error: {tmp_path / 'empty.png'}: empty image (0 bytes)",
        f"lenet: error: {tmp_path / 'nothing'}: directory holds no image files",
    ]
    assert [line.split()[0] for line in captured.out.splitlines()[1:]] == [str(tmp_path / "good.png")]


def test_model_files_that_cannot_be_used_are_usage_errors(tmp_path, monkeypatch, capsys):
    import keras

    (tmp_path / "notes.keras").write_text("not a model")
    keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x), keras.layers.Flatten(), keras.layers.Dense(10)]
    ).save(tmp_path / "lambda.keras")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "digit.png")
    monkeypatch.chdir(tmp_path)
    for model, problem in [
        ("missing.keras", "no such file"),
        ("notes.keras", "not a Keras model"),
        ("lambda.keras", "Lambda layer, which runs arbitrary Python code"),
    ]:
        assert cli.main(["predict", model, "digit.png"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith(f"lenet: error: {model}: ")
        assert problem in captured.err and captured.err.count("\n") == 1


@pytest.mark.parametrize(
    "arguments, problem",
    [
        (["train", "--epochs", "0"], "epochs must be at least 1"),
        (["train", "--epochs", "two"], "invalid int value"),
        (["train", "--data", "missing.npz"], "missing.npz: no such file"),
        (["predict", "model.keras"], "no images given after the model"),
        (["predict"], "the following arguments are required"),
        (["predict", "model.keras", "digit.png", "--top", "0"], "must be at least 1"),
        (["fly"], "invalid choice"),
        (["plot", "results.json"], "results.json: no such file"),
        (["train", "--data", "sample", "--out", "taken"], "taken: exists and is not a directory"),
        (["train", "--data", "sample", "--out", "taken/run"], "taken/run: cannot be created: taken is not a"),
        (["sweep", "--out", "sweep", "--epochs", "1,two"], "argument --epochs: 'two' is not a valid int"),
        (["sweep", "--out", "sweep", "--mixed-precision", "maybe"], "'maybe' is not a valid switch (true/false, yes"),
    ],
)
def test_usage_errors_exit_with_2_and_one_line(arguments, problem, tmp_path, monkeypatch, capsys):
    (tmp_path / "taken").write_text("a file where the output directory should go")
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(arguments)
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert problem in [line for line in err.splitlines() if line.startswith("lenet")][-1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]  # nothing written


def test_interrupt_exits_with_130(monkeypatch, capsys):
    def interrupted(_path):
        raise KeyboardInterrupt

    monkeypatch.setattr("lenet.artifacts.load_results", interrupted)
    assert cli.main(["plot", "results.json"]) == 130
    assert capsys.readouterr().err == "lenet: interrupted\n"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'lenet' has no attribute 'no_such_name'"):
        lenet.no_such_name  # noqa: B018


def test_an_interrupted_train_exits_130_and_resumes_with_the_same_numbers(trained, tmp_path, monkeypatch, capsys):
    """Ctrl-C in epoch 2, after its training steps but before its validation and checkpoint; then
    the same command again: it runs epochs 2 and 3 only, and ends with the uninterrupted numbers."""
    from lenet import progress

    class InterruptedInEpoch2(progress.EpochLines):
        def on_train_batch_end(self, batch, logs=None):
            if self._epoch == 1:
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            super().on_epoch_begin(epoch, logs)
            self._epoch = epoch

    command = ["train", "--data", "sample", "--epochs", str(EPOCHS), "--out", str(tmp_path / "run")]
    monkeypatch.setattr(progress, "EpochLines", InterruptedInEpoch2)
    assert cli.main(command) == 130
    first = capsys.readouterr()
    assert [line.split()[1] for line in first.out.splitlines()] == ["1/3"]
    assert first.err == "lenet: interrupted\n" and not (tmp_path / "run" / "results.json").exists()
    assert json.loads((tmp_path / "run" / ".checkpoint" / "state.json").read_text())["epochs_done"] == 1
    monkeypatch.undo()
    assert cli.main(command) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")] == [
        "2/3",
        "3/3",
    ]
    resumed = lenet.load_results(tmp_path / "run" / "results.json")
    uninterrupted = lenet.load_results(trained[0] / "results.json")
    assert resumed["history"] == uninterrupted["history"] and resumed["test"] == uninterrupted["test"]
    assert len(resumed["seconds_per_epoch"]) == EPOCHS
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["lenet5.keras", "results.json", "results.png"]
