"""The recipe, unchanged, on Fashion-MNIST: one full 10-epoch run, reported like MNIST's.

    apt-get install dataset-fashion-mnist   # Debian: the four IDX files
    python scripts/fashion_mnist.py --data /usr/share/datasets/fashion-mnist

--data is anything lenet.load_mnist takes ("fashion_mnist" downloads it). The run's artifacts
go to --runs; its results.json is copied to reports/fashion_mnist.json, its curves to
reports/fashion_mnist.png and its test-set confusion matrix, with the class names, to
reports/fashion_mnist_confusion.png.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from common import ROOT

import lenet  # before Keras: lenet's pins must come before TensorFlow loads (lenet/reproducibility.py)
import keras
from tools.report import dataset_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion_mnist", help="a load_mnist source (default: fashion_mnist)")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "fashion_mnist"), help="the run's artifacts")
    parser.add_argument("--reports", default=str(ROOT / "reports"), help="where the report files go")
    args = parser.parse_args()

    config = lenet.TrainConfig()
    results = lenet.train_and_evaluate(config, args.data, args.runs, verbose=2)
    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(args.runs) / "results.json", reports / "fashion_mnist.json")
    shutil.copyfile(Path(args.runs) / "results.png", reports / "fashion_mnist.png")

    # The saved model's test-set predictions; nothing here feeds back into training.
    data = lenet.load_mnist(args.data)
    model = keras.saving.load_model(Path(args.runs) / "lenet5.keras")
    predicted = lenet.predict_probabilities(model, data.x_test).argmax(axis=1)
    matrix = lenet.confusion_matrix(data.y_test, predicted)
    lenet.save_figure(reports / "fashion_mnist_confusion.png", lenet.plot_confusion_matrix(matrix, data.class_names))
    print(dataset_markdown(results))


if __name__ == "__main__":
    main()
