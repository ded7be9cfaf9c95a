"""The command line, driven as a user drives it: `python -m lenet ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lenet
from lenet import cli

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 3  # as conftest's trained_on_sample: enough for a confident model on most test digits


def run_lenet(*arguments: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lenet", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def errors(result: subprocess.CompletedProcess) -> list[str]:
    """Our error lines on stderr (TensorFlow may add its own start-up chatter there)."""
    return [line for line in result.stderr.splitlines() if line.startswith("lenet")]


@pytest.fixture
def trained(trained_on_sample) -> tuple[Path, str]:
    """conftest's `lenet train` run and what it printed; its model serves the evaluate and predict tests."""
    out, _results, printed = trained_on_sample
    return out, printed


def test_train_writes_the_artifacts_and_one_line_per_epoch_when_not_a_terminal(trained):
    out, printed = trained
    results = lenet.load_results(out / "results.json")
    assert results["config"]["epochs"] == EPOCHS and results["data"]["source"] == "sample"
    lines = printed.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == [f"{e}/{EPOCHS}" for e in range(1, EPOCHS + 1)]
    assert len(lines) == EPOCHS + 2 and "\r" not in printed  # plus the test line and "wrote ..."
    for line, loss in zip(epoch_lines, results["history"]["val_loss"], strict=True):
        assert f"val_loss {loss:.4f}" in line
    assert f"test accuracy {results['test']['accuracy']:.4f}" in lines[-2]


def test_every_config_field_is_a_train_flag_with_its_default():
    parser = cli.build_parser()
    arguments = parser.parse_args(["train"])
    assert lenet.TrainConfig(**{f: getattr(arguments, f) for f in lenet.TrainConfig.__dataclass_fields__}) == (
        lenet.TrainConfig()
    )
    assert arguments.data == "keras" and arguments.out == cli.DEFAULT_OUTPUT_DIR
    changed = parser.parse_args(
        ["train", "--epochs", "3", "--learning-rate", "0.01", "--validation-size", "100", "--mixed-precision"]
    )
    assert (changed.epochs, changed.learning_rate, changed.validation_size) == (3, 0.01, 100)
    assert (
        changed.mixed_precision is True
        and parser.parse_args(["train", "--no-mixed-precision"]).mixed_precision is False
    )


@pytest.mark.slow
def test_help_does_not_import_tensorflow_and_public_names_load_on_first_use():
    probe = (
        "import runpy, sys\n"
        "for command in ([], ['train'], ['predict'], ['evaluate'], ['plot'], ['sweep']):\n"
        "    sys.argv = ['lenet', *command, '--help']\n"
        "    try:\n"
        "        runpy.run_module('lenet', run_name='__main__')\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "print('help imported:', 'tensorflow' in sys.modules, 'keras' in sys.modules, 'ray' in sys.modules, file=sys.stderr)\n"
        "import lenet, lenet.sweep\n"  # and every public name still loads, on first use, without Ray
        "missing = [name for name in lenet.__all__ if getattr(lenet, name, None) is None]\n"
        "assert not missing and set(lenet.__all__) <= set(dir(lenet)), missing\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "help imported: False False False" in result.stderr.splitlines()
    assert "--batch-size" in result.stdout and "--top K" in result.stdout


@pytest.mark.slow
def test_evaluate_reports_the_runs_test_numbers(trained):
    out, _ = trained
    result = run_lenet("evaluate", out / "lenet5.keras", "--data", "sample", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    test = lenet.load_results(out / "results.json")["test"]
    assert report["test"]["accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1000
    assert np.trace(matrix) / 1000 == pytest.approx(test["accuracy"], abs=1e-6)
    np.testing.assert_allclose(report["per_class_accuracy"], np.diag(matrix) / matrix.sum(axis=1))


def test_evaluate_prints_tables(trained, capsys):
    out, _ = trained  # in this process (TensorFlow is loaded already): the same code, faster
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


@pytest.mark.slow
def test_predictions_on_rerendered_digits_agree_with_the_originals(trained, sample, tmp_path):
    out, _ = trained
    digits = sample.x_test[:100]
    for index, digit in enumerate(digits):
        for variant, image in render_variants(digit).items():
            (tmp_path / variant).mkdir(exist_ok=True)
            image.save(tmp_path / variant / f"{index:03d}.png")
    variants = sorted(path.name for path in tmp_path.iterdir())
    result = run_lenet("predict", out / "lenet5.keras", *[tmp_path / v for v in variants], "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)["predictions"]
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
    arguments = [out / "lenet5.keras", tmp_path / "digit0.png", tmp_path / "digit1.png"]
    assert cli.main(["predict", *map(str, arguments), "--top", "3", "--show", str(tmp_path / "figures")]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[0] == "image" and len(rows) == 2
    for row in rows:
        _image, *pairs = row.split()
        probabilities = [float(value) for value in pairs[1::2]]
        assert len(pairs) == 6 and probabilities == sorted(probabilities, reverse=True)
    figures = sorted(path.name for path in (tmp_path / "figures").iterdir())
    assert figures == ["digit0.png", "digit1.png"]
    assert Image.open(tmp_path / "figures" / "digit0.png").size[0] > 500


@pytest.mark.slow
def test_bad_images_get_one_line_each_and_good_ones_are_still_predicted(trained, sample, tmp_path):
    out, _ = trained
    Image.fromarray(sample.x_test[0]).save(tmp_path / "good.png")
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "nothing").mkdir()
    # Each message's words are test_images' (test_bad_files_are_one_line_errors_naming_the_file).
    result = run_lenet("predict", out / "lenet5.keras", "good.png", "notes.png", "nothing", cwd=tmp_path)
    assert result.returncode == 1
    lines = errors(result)
    assert [line.split(": ")[:2] for line in lines] == [["lenet", "error"], ["lenet", "error"]]
    assert lines[0].startswith("lenet: error: notes.png: not an image (")
    assert lines[1] == "lenet: error: nothing: directory holds no image files"
    assert "Traceback" not in result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["good.png"]


def test_model_files_that_cannot_be_used_are_usage_errors(tmp_path, monkeypatch, capsys):
    # Which files are refused, and why (a Lambda layer among them), is test_model_file's.
    (tmp_path / "notes.keras").write_text("not a model")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "digit.png")
    monkeypatch.chdir(tmp_path)
    for model, problem in [("missing.keras", "no such file"), ("notes.keras", "not a Keras model")]:
        assert cli.main(["predict", model, "digit.png"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith(f"lenet: error: {model}: ")
        assert problem in captured.err and captured.err.count("\n") == 1


@pytest.mark.slow
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
    ],
)
def test_usage_errors_exit_with_2_and_one_line(arguments, problem, tmp_path):
    (tmp_path / "taken").write_text("a file where the output directory should go")
    result = run_lenet(*arguments, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert problem in errors(result)[-1]


@pytest.mark.slow
def test_plot_rerenders_the_figure_from_results_json(trained, tmp_path):
    out, _ = trained
    result = run_lenet("plot", out / "results.json", "--out", tmp_path / "again.png")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "again.png") as again, Image.open(out / "results.png") as original:
        assert again.size == original.size


def test_interrupt_exits_with_130(monkeypatch, capsys):
    def interrupted(_arguments):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_plot", interrupted)
    assert cli.main(["plot", "results.json"]) == 130
    assert capsys.readouterr().err == "lenet: interrupted\n"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'lenet' has no attribute 'no_such_name'"):
        lenet.no_such_name  # noqa: B018


def test_an_interrupted_train_exits_130_and_resumes_with_the_same_numbers(trained, tmp_path, monkeypatch, capsys):
    """Ctrl-C after epoch 2, then the same command again: it runs epoch 3 only, same results."""
    from lenet import progress

    class InterruptedAfterEpoch2(progress.EpochLines):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if epoch + 1 == 2:
                raise KeyboardInterrupt

    command = ["train", "--data", "sample", "--epochs", str(EPOCHS), "--out", str(tmp_path / "run")]
    monkeypatch.setattr(progress, "EpochLines", InterruptedAfterEpoch2)
    assert cli.main(command) == 130
    first = capsys.readouterr()
    assert [line.split()[1] for line in first.out.splitlines()] == ["1/3", "2/3"]
    assert first.err == "lenet: interrupted\n" and (tmp_path / "run" / ".checkpoint").is_dir()
    monkeypatch.undo()
    assert cli.main(command) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")] == ["3/3"]
    resumed = lenet.load_results(tmp_path / "run" / "results.json")
    uninterrupted = lenet.load_results(trained[0] / "results.json")
    assert resumed["history"] == uninterrupted["history"] and resumed["test"] == uninterrupted["test"]
    assert not (tmp_path / "run" / ".checkpoint").exists()
