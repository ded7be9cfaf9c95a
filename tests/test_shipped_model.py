"""The trained model that ships inside the package: loads safely and scores what is recorded."""

from __future__ import annotations

import json

import numpy as np

import lenet
from lenet import cli
from lenet.model_file import SHIPPED_WEIGHTS


def test_the_shipped_model_loads_in_safe_mode_and_scores_as_recorded(sample):
    recorded = json.loads((SHIPPED_WEIGHTS.parent / "results.json").read_text())
    model = lenet.load_model()  # build_lenet5 with the shipped weights: no config to deserialise
    assert model.count_params() == 61_706 and getattr(model, "optimizer", None) is None  # weights only
    predicted = lenet.predict_probabilities(model, sample.x_test).argmax(axis=1)
    assert int((predicted == sample.y_test).sum()) == recorded["shipped_model"]["sample_test_correct"]
    assert recorded["config"]["recipe"] == lenet.TrainConfig().recipe
    assert recorded.get("resolved", recorded["config"])["epochs"] == 10  # older files record it in the config
    assert recorded["data"]["sizes"]["train"] == 55_000  # trained on full MNIST, not the sample


def test_predict_needs_no_model_argument(tmp_path, capsys, sample):
    from PIL import Image

    for index in range(3):
        Image.fromarray(255 - sample.x_test[index]).resize((140, 140)).save(tmp_path / f"digit-{index}.png")
    assert cli.main(["predict", "--json", str(tmp_path)]) == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    assert [p["digit"] for p in predictions] == [int(label) for label in sample.y_test[:3]]
    assert np.all([p["probability"] > 0.5 for p in predictions])
