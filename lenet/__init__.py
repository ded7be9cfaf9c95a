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

# Public name -> the module that defines it.
_MODULES = {
    "confusion_matrix": "lenet.analysis",
    "misclassified": "lenet.analysis",
    "per_class_accuracy": "lenet.analysis",
    "load_results": "lenet.artifacts",
    "save_figure": "lenet.artifacts",
    "save_json": "lenet.artifacts",
    "checkpoint_dir": "lenet.checkpoint",
    "CheckpointError": "lenet.errors",
    "config_from_parameters": "lenet.config",
    "ConfigError": "lenet.errors",
    "parameters_from_env": "lenet.config",
    "Recipe": "lenet.config",
    "RECIPES": "lenet.config",
    "TrainConfig": "lenet.config",
    "DataError": "lenet.errors",
    "load_mnist": "lenet.data",
    "Mnist": "lenet.data",
    "Split": "lenet.data",
    "split_validation": "lenet.data",
    "strategy_for": "lenet.experiment",
    "read_idx": "lenet.idx",
    "write_idx": "lenet.idx",
    "ImageError": "lenet.errors",
    "load_digit": "lenet.images",
    "mnist_style": "lenet.images",
    "build_lenet5": "lenet.model",
    "load_model": "lenet.model_file",
    "LiteError": "lenet.errors",
    "LiteModel": "lenet.lite",
    "to_lite": "lenet.lite",
    "ModelError": "lenet.errors",
    "plot_confusion_matrix": "lenet.plots",
    "plot_digits": "lenet.plots",
    "plot_feature_maps": "lenet.plots",
    "plot_filters": "lenet.plots",
    "plot_history": "lenet.plots",
    "plot_learning_rate": "lenet.plots",
    "plot_misclassified": "lenet.plots",
    "plot_per_class_accuracy": "lenet.plots",
    "plot_prediction": "lenet.plots",
    "plot_top_activations": "lenet.plots",
    "build_results": "lenet.experiment",
    "compiled_lenet5": "lenet.experiment",
    "prepare_data": "lenet.experiment",
    "save_artifacts": "lenet.experiment",
    "train_and_evaluate": "lenet.experiment",
    "augment": "lenet.training",
    "compile_with_recipe": "lenet.training",
    "learning_rate_schedule": "lenet.training",
    "steps_per_epoch": "lenet.training",
    "evaluate": "lenet.training",
    "fit": "lenet.training",
    "predict_probabilities": "lenet.training",
    "set_seed": "lenet.training",
    "TrainingError": "lenet.errors",
}

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
