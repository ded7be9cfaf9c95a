"""How big lenet/ is, as issue 34 counts it, and what each feature costs in lines: docs/code.md's table.

    python tools/code_size.py      # prints it; tools/update_readme.py writes it into docs/code.md

A feature's lines are those of its top-level definitions in lenet/, each with the comments and blank lines above it
(docstrings included); the functions every feature shares (loading data, training, the CLI's parser) belong to none.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The modules the 1998 paper's network and training and the drawing pad add, counted apart (docs/code.md).
APART = ("paper.py", "sdlm.py", "pad.py")
TARGET = 2200  # issue 34
# Feature -> its top-level definitions, as module.name.
FEATURES = {
    "`lenet sweep` on Ray: grids, retries from checkpoints, skipped finished runs, summaries": (
        "sweep.SWEEP_JSON sweep.Run sweep.settings sweep.slug sweep.grid sweep.train_run sweep.node_identity "
        "sweep.sweep sweep.worker_data sweep.check_nodes sweep.progress_line sweep.finished_runs sweep.spread "
        "sweep.mean_sd sweep.summarize sweep.shared_config sweep.summary_markdown cli.run_sweep cli.grid_values "
        "cli.PLURAL_FLAGS"
    ),
    "LiteRT: `lenet export`, the shipped .tflite, prediction without TensorFlow": (
        "lite.LITE_SUFFIX lite.TOLERANCE lite.check_path lite.LiteModel lite.to_lite lite.agrees "
        "model_file.SHIPPED_LITE model_file.shipped_lite model_file.shipped_lite_matches cli.run_export"
    ),
    "`lenet predict` on image files (the preprocessing it shares with the pad not counted)": (
        "cli.run_predict cli.positive_int images.read_image images.image_files images.load_digit "
        "images.IMAGE_SUFFIXES images.ALPHA_MODES"
    ),
    "float16 on every CPU kind (issue 32's check of TensorFlow's and oneDNN's choice)": (
        "reproducibility.TF_FLOAT16_FLAGS reproducibility.ONEDNN_FLOAT16_ISAS reproducibility.CAPS_WITHOUT_FLOAT16 "
        "reproducibility.CPUID_7_1_EDX_FLAGS reproducibility.CPUID_CODE reproducibility.float16_refusal "
        "reproducibility.cpu_flags reproducibility.cpuid reproducibility.float16_problem reproducibility.check_float16"
    ),
    "`lenet reproduce`": "cli.run_reproduce reproducibility.differences reproducibility.environment_differences "
    "reproducibility.NUMBER_FIELDS",
    "resuming an interrupted run": "checkpoint.STATE_FILE checkpoint.checkpoint_dir checkpoint.saved_epochs "
    "checkpoint.run_settings checkpoint.Checkpoint",
    "the notebook's figures of what the network learned": "plots.layer_outputs plots.plot_filters "
    "plots.plot_feature_maps plots.plot_top_activations",
    "IDX files": "data.IDX_FILES data.load_idx_directory data.read_idx",
    "TensorFlow's C++ start-up lines kept off the CLI's stderr": "startup.CPP_LOG_LINE startup.QUIET_LEVEL "
    "startup.hide_cpp_log startup.log_wanted startup.start_up_log_hidden startup.import_tensorflow",
    "`lenet evaluate`": "cli.run_evaluate analysis.per_class_accuracy",
    "the verified MNIST download": "data.KERAS_MNIST_URL data.KERAS_MNIST_SHA256 data.OFFLINE_HINT data.download_mnist",
    "Fashion-MNIST and class names": "data.FASHION_NAMES data.download_fashion_mnist plots._label_classes",
    "images shared with TensorFlow without a copy (DLPack)": "data.ALIGNMENT data.aligned training.shared_tensor",
}


def counted() -> list[Path]:
    """What `cat lenet/*.py lenet/*/*.py` reads, without the modules counted apart."""
    paths = sorted((ROOT / "lenet").glob("*.py")) + sorted((ROOT / "lenet").glob("*/*.py"))
    return [path for path in paths if path.name not in APART]


def definitions(path: Path) -> dict[str, int]:
    """module.name -> lines of each top-level definition, with the comments and blank lines right above it."""
    text = path.read_text()
    lines, spans, previous = text.splitlines(), {}, 0
    for node in ast.parse(text).body:
        first = min([decorator.lineno for decorator in getattr(node, "decorator_list", [])] + [node.lineno])
        while first - 1 > previous and (not lines[first - 2].strip() or lines[first - 2].lstrip().startswith("#")):
            first -= 1
        names = [node.name] if hasattr(node, "name") else []
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
        for name in names:
            spans[f"{path.stem}.{name}"] = node.end_lineno - first + 1
        previous = node.end_lineno
    return spans


def markdown() -> str:
    total = sum(len(path.read_text().splitlines()) for path in counted())
    spans = {name: lines for path in counted() for name, lines in definitions(path).items()}
    rows = ["| feature | lines |", "|---|---|"]
    for feature, names in FEATURES.items():
        unknown = [name for name in names.split() if name not in spans]
        if unknown:
            raise KeyError(f"tools/code_size.py names what lenet/ no longer defines: {', '.join(unknown)}")
        rows.append(f"| {feature} | {sum(spans[name] for name in names.split()):,} |")
    return (
        f"lenet/ without {', '.join(APART)}: **{total:,} lines** (issue 34's target: at most {TARGET:,}).\n\n"
        + "\n".join(rows)
    )


if __name__ == "__main__":
    print(markdown())
