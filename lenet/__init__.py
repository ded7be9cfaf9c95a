"""lenet: the reference, reproducible LeNet-5 on MNIST.

The notebook reads as `lenet.load_mnist(...)`, `lenet.build_lenet5()`, `lenet.fit(...)`;
every step lives in a small module named after its concern.

Public names are imported on first use (PEP 562), so `import lenet` and `python -m lenet
--help` stay fast and do not load TensorFlow until a name that needs it is used.
"""

import importlib

from lenet import reproducibility, startup

startup.hide_cpp_log()  # TensorFlow's C++ log, unless TF_CPP_MIN_LOG_LEVEL asks for it (lenet/startup.py)
# Before TensorFlow is imported: oneDNN's kernels on, one intra-op thread and oneDNN capped
# at AVX2, for the same numbers on every x86-64 machine (lenet/reproducibility.py).
reproducibility.apply_pins()

# Module -> the public names it defines.
_PUBLIC = {
    "analysis": "confusion_matrix misclassified per_class_accuracy",
    "artifacts": "load_results save_figure save_json",
    "checkpoint": "checkpoint_dir",
    "config": "config_from_parameters parameters_from_env Recipe RECIPES TrainConfig",
    "data": "load_mnist Mnist read_idx Split split_validation",
    "errors": "CheckpointError ConfigError DataError ImageError LiteError ModelError TrainingError",
    "experiment": "build_results compiled_lenet5 prepare_data save_artifacts strategy_for train_and_evaluate",
    "images": "load_digit mnist_style",
    "lite": "LiteModel to_lite",
    "model": "build_lenet5",
    "model_file": "load_model predict_probabilities",
    "pad": "DrawPad",
    "plots": "plot_confusion_matrix plot_digits plot_feature_maps plot_filters plot_history plot_learning_rate "
    "plot_misclassified plot_per_class_accuracy plot_prediction plot_top_activations",
    "training": "augment compile_with_recipe evaluate fit learning_rate_schedule set_seed steps_per_epoch "
    "steps_per_execution",
}
_MODULES = {name: f"lenet.{module}" for module, names in _PUBLIC.items() for name in names.split()}

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
