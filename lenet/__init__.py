"""lenet: the reference, reproducible LeNet-5 on MNIST.

The notebook reads as `lenet.load_mnist(...)`, `lenet.build_lenet5()`, `lenet.fit(...)`;
every step lives in a small module named after its concern.
"""

import os

# Must be set before TensorFlow is imported. oneDNN's CPU kernels are off by default on
# some CPUs (AMD among them) and make training ~2.5x faster there; see benchmarks/.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# Hide TensorFlow's C++ start-up chatter (INFO and WARNING); errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lenet.analysis import confusion_matrix, misclassified, per_class_accuracy  # noqa: E402
from lenet.artifacts import load_results, save_figure, save_json  # noqa: E402
from lenet.checkpoint import CheckpointError, checkpoint_dir  # noqa: E402
from lenet.config import (  # noqa: E402
    ConfigError,
    TrainConfig,
    config_from_parameters,
    parameters_from_env,
)
from lenet.data import DataError, Mnist, Split, load_mnist, split_validation  # noqa: E402
from lenet.distribute import strategy_for  # noqa: E402
from lenet.idx import read_idx, write_idx  # noqa: E402
from lenet.model import build_lenet5  # noqa: E402
from lenet.plots import (  # noqa: E402
    plot_confusion_matrix,
    plot_digits,
    plot_history,
    plot_misclassified,
    plot_per_class_accuracy,
)
from lenet.run import (  # noqa: E402
    build_results,
    compiled_lenet5,
    prepare_data,
    save_artifacts,
    train_and_evaluate,
)
from lenet.training import (  # noqa: E402
    TrainingError,
    compile_lenet5,
    evaluate,
    fit,
    predict_probabilities,
    set_seed,
)

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "Mnist",
    "Split",
    "TrainConfig",
    "TrainingError",
    "build_lenet5",
    "build_results",
    "checkpoint_dir",
    "compile_lenet5",
    "compiled_lenet5",
    "config_from_parameters",
    "confusion_matrix",
    "evaluate",
    "fit",
    "load_mnist",
    "load_results",
    "misclassified",
    "parameters_from_env",
    "per_class_accuracy",
    "plot_confusion_matrix",
    "plot_digits",
    "plot_history",
    "plot_misclassified",
    "plot_per_class_accuracy",
    "predict_probabilities",
    "read_idx",
    "prepare_data",
    "save_artifacts",
    "save_figure",
    "save_json",
    "set_seed",
    "split_validation",
    "strategy_for",
    "train_and_evaluate",
    "write_idx",
]
