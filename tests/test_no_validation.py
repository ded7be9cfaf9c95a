"""A run with no validation set (validation_size=0, as the 1998 paper trained), and a recipe that carries its own
length: trained from Python and from the CLI, plotted, reproduced and resumed."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import lenet
from lenet import cli
from lenet import config as config_module
from lenet.config import Recipe


@pytest.fixture
def carried(monkeypatch):
    """A recipe that sets its own length and holds out nothing (none of RECIPES does yet)."""
    monkeypatch.setitem(config_module.RECIPES, "carried", Recipe(1e-3, epochs=1, validation_size=0))
    return "carried"


def test_a_recipes_length_and_no_validation_set_train_test_and_record(carried, tmp_path):
    results = lenet.train_and_evaluate(lenet.TrainConfig(recipe=carried), "sample", tmp_path, verbose=0)
    assert set(results["history"]) == {"loss", "accuracy"} and len(results["history"]["loss"]) == 1
    assert results["config"]["epochs"] is None and results["config"]["validation_size"] is None  # as given
    assert results["resolved"] == {"epochs": 1, "validation_size": 0}
    assert results["recipe"]["epochs"] == 1 and results["recipe"]["validation_size"] == 0
    assert results["data"]["sizes"] == {"train": 4000, "validation": 0, "test": 1000}  # every training image
    assert results["test"]["accuracy"] > 0.5
    assert lenet.load_results(tmp_path / "results.json") == json.loads(json.dumps(results))


def test_the_cli_trains_plots_and_reproduces_a_run_without_validation(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "sample", "--epochs", "1", "--validation-size", "0", "--out", str(out)]) == 0
    [epoch_line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert epoch_line.startswith("epoch 1/1  loss ") and "val_" not in epoch_line
    recorded = lenet.load_results(out / "results.json")
    assert recorded["resolved"] == {"epochs": 1, "validation_size": 0} and "val_loss" not in recorded["history"]
    assert cli.main(["plot", str(out / "results.json"), "--out", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert cli.main(["reproduce", str(out / "results.json")]) == 0
    printed = capsys.readouterr().out
    assert "1 epochs" in printed and "epoch 1: identical" in printed and "test: identical" in printed


def test_the_history_plot_without_validation_shows_the_training_curves_alone():
    history = {"loss": [0.9, 0.5], "accuracy": [0.7, 0.85]}
    for axes, metric in zip(lenet.plot_history(history).axes, ("accuracy", "loss"), strict=True):
        [train] = axes.get_lines()
        np.testing.assert_array_equal(train.get_ydata(), history[metric])
        assert [text.get_text() for text in axes.get_legend().get_texts()] == ["train (no validation set)"]


def test_a_run_without_validation_resumes_with_the_same_numbers_and_its_recipes_length(
    carried, sample, monkeypatch, tmp_path
):
    """Interrupted in its second epoch, then resumed with the recipe's length given explicitly: the same run (the
    checkpoint compares resolved values), ending with the uninterrupted numbers."""
    monkeypatch.setitem(config_module.RECIPES, carried, Recipe(1e-3, epochs=2, validation_size=0))
    data = lenet.Mnist(sample.x_train[:640], sample.y_train[:640], sample.x_test[:100], sample.y_test[:100], "small")
    config = lenet.TrainConfig(recipe=carried)
    split = lenet.split_validation(data, config.resolved_validation_size(len(data.y_train)))
    assert len(split.y_val) == 0

    def trained(config, checkpoint_dir=None, callbacks=None):
        lenet.set_seed(config.seed)
        model = lenet.compiled_lenet5(config, split)
        return model, lenet.fit(model, split, config, 0, callbacks, checkpoint_dir)

    whole, history = trained(config)

    class InterruptedInEpoch2(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1:
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    checkpoint = lenet.checkpoint_dir(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        trained(config, checkpoint, [InterruptedInEpoch2()])
    assert json.loads((checkpoint / "state.json").read_text())["epochs_done"] == 1
    resumed, resumed_history = trained(lenet.TrainConfig(recipe=carried, epochs=2, validation_size=0), checkpoint)
    assert set(history) == {"loss", "accuracy", "seconds"} and len(history["loss"]) == 2
    assert {k: v for k, v in resumed_history.items() if k != "seconds"} == {
        k: v for k, v in history.items() if k != "seconds"
    }
    for mine, theirs in zip(resumed.weights, whole.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_sweep_summaries_progress_lines_and_report_tables_say_where_validation_is_absent():
    """What the sweep, the study scripts and tools/report.py read of a results.json, without val_* numbers."""
    from lenet.sweep import progress_line, summarize, summary_markdown
    from tools.report import run_rows, run_summary

    config = lenet.TrainConfig(validation_size=0).to_dict()
    results = {
        "config": config,
        "resolved": {"epochs": 10, "validation_size": 0},
        "data": {"source": "sample", "fingerprint": "0" * 64, "sizes": {"train": 4000, "validation": 0, "test": 1000}},
        "recipe": {"name": config["recipe"], **dataclasses.asdict(lenet.TrainConfig().recipe_settings)},
        "history": {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]},
        "test": None,
        "seconds_per_epoch": [1.0, 1.0],
    }
    entry = {"name": "run", "data": "sample", "evaluate_test": False, "results": results}
    node = {"ip": "192.0.2.1", "id": "abcdef1234"}
    assert progress_line({**entry, "node": node, "seconds": 2.0}).startswith("run: training accuracy 0.9000")
    [row] = summarize([entry])
    assert row["final_val_accuracy"] is None and row["config"]["epochs"] == 10  # the resolved length
    assert "| not tested | | no validation set | 1.0 |" in summary_markdown([row])
    tested = {**results, "test": {"accuracy": 0.95, "loss": 0.2}}
    rows = dict(run_rows(tested))
    assert rows["Final validation accuracy"] == "no validation set" and rows["Epochs, batch size, seed"] == "10, 64, 42"
    assert run_summary(tested)["val_accuracy"] is None
