"""lenet: the reference, reproducible LeNet-5 on MNIST.

The notebook reads as `lenet.load_mnist(...)`, `lenet.build_lenet5()`, `lenet.fit(...)`;
every step lives in a small module named after its concern.

Public names are imported on first use (PEP 562), so `import lenet` and `python -m lenet
--help` stay fast and do not load TensorFlow until a name that needs it is used.
"""

import importlib
import os

from lenet import reproducibility

# Hide TensorFlow's C++ log (INFO, WARNING and ERROR): without a GPU its one error is the
# harmless "failed call to cuInit". Python exceptions still say what went wrong; set
# TF_CPP_MIN_LOG_LEVEL=0 to see the C++ log, e.g. to debug a GPU setup. Lines that TensorFlow
# prints while it loads, before it reads this setting, cannot be hidden.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Before TensorFlow is imported: oneDNN's kernels on, one intra-op thread and oneDNN capped
# at AVX2, for the same numbers on every x86-64 machine (lenet/reproducibility.py).
reproducibility.apply_pins()

# Public names, by the module that defines them.
_NAMES = {
    "analysis": "confusion_matrix misclassified per_class_accuracy",
    "artifacts": "load_results save_figure save_json",
    "checkpoint": "checkpoint_dir CheckpointError",
    "config": "config_from_parameters ConfigError parameters_from_env Recipe RECIPES TrainConfig TrainingError",
    "data": "DataError load_mnist Mnist Split split_validation",
    "distribute": "strategy_for",
    "experiment": "build_results compiled_lenet5 prepare_data save_artifacts train_and_evaluate",
    "idx": "read_idx write_idx",
    "images": "ImageError load_digit mnist_style",
    "model": "build_lenet5",
    "model_file": "load_model ModelError",
    "plots": "plot_confusion_matrix plot_digits plot_history plot_learning_rate plot_misclassified "
    "plot_per_class_accuracy plot_prediction",
    "training": "augment compile_with_recipe learning_rate_schedule steps_per_epoch evaluate fit "
    "predict_probabilities set_seed",
}
_MODULES = {name: f"lenet.{module}" for module, names in _NAMES.items() for name in names.split()}
__all__ = sorted(_MODULES)


def __getattr__(name: str):
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'lenet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
