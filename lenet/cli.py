"""The command line: `lenet train | evaluate | predict | export | plot | reproduce | sweep` (also `python -m lenet`).

A thin layer over the same functions the notebook calls. TensorFlow is imported inside
the subcommands, so `--help` and usage errors answer at once, and without its start-up log
lines (lenet/startup.py; `--debug` or TF_CPP_MIN_LOG_LEVEL shows them).

Exit codes: 0 all good; 1 some inputs failed (the good ones are still done); 2 usage
errors (bad flags, data, config or model file); 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import traceback
import types
import typing
from pathlib import Path
from typing import Any

from lenet.config import ConfigError, TrainConfig
from lenet.data import DataError
from lenet.images import ImageError
from lenet.model_file import MODEL_SUFFIXES, ModelError

PROGRAM = "lenet"
DEFAULT_OUTPUT_DIR = "runs/latest"
USAGE_ERRORS = (ConfigError, DataError, ModelError)
# Expected failures of a single input: reported in one line, never as a traceback.
INPUT_ERRORS = (ImageError, OSError)

# Help for TrainConfig's fields; a field missing here is still a flag, helped by its name.
FIELD_HELP = {
    "epochs": "passes over the training set",
    "batch_size": "images per training step",
    "recipe": "learning-rate schedule and augmentation, by name: "
    "'original' is the constant-rate recipe without augmentation (see docs/recipe.md)",
    "learning_rate": "Adam's (peak) learning rate (default: the recipe's)",
    "seed": "random seed; the same seed on the same machine gives identical numbers",
    "validation_size": "training images held out for validation (default: 5,000, or a tenth of a smaller training set)",
    "variant": "'modern' (ReLU, max pooling) or 'classic' (the 1998 paper's tanh and average pooling)",
    "strategy": "'default' (one device), 'mirrored' (all GPUs of this machine) or 'multiworker' "
    "(several machines, described by TF_CONFIG)",
    "mixed_precision": "float16 compute with float32 weights and logits; faster on recent GPUs, not on CPUs",
}
DATA_HELP = (
    "'keras' (MNIST, downloaded once and cached; LENET_MNIST_PATH=FILE uses a local copy), "
    "'fashion_mnist' (downloaded once), 'sample' (the 5,000 digits shipped with lenet, "
    "offline), the path of a Keras-layout .npz or of a directory of the four IDX files "
    "(default: %(default)s)"
)
DATA_METAVAR = "keras|fashion_mnist|sample|PATH"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script's entry point)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)  # exits with 2 on usage errors
    try:
        return arguments.command(arguments)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    except USAGE_ERRORS as error:
        return fail(error, 2)
    except INPUT_ERRORS as error:
        return fail(error, 1)
    except Exception as error:  # a defect in our own code path, not in the user's input
        if arguments.debug:
            raise
        return unexpected(error)


def import_tensorflow(arguments: argparse.Namespace) -> None:
    """Load TensorFlow, its start-up log kept off stderr unless --debug or TF_CPP_MIN_LOG_LEVEL asks."""
    from lenet import startup

    startup.import_tensorflow(show_log=arguments.debug or startup.log_wanted())


def unexpected(error: Exception) -> int:
    """One line naming where it failed and the file that holds the traceback; exit code 1."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if f"{os.sep}lenet{os.sep}" in frame.filename] or frames
    where = ours[-1]
    step = f"{Path(where.filename).stem}.{where.name} ({Path(where.filename).name}:{where.lineno})"
    descriptor, path = tempfile.mkstemp(prefix="lenet-traceback-", suffix=".txt")
    with os.fdopen(descriptor, "w") as file:
        traceback.print_exception(error, file=file)
    message = str(error).splitlines()[0] if str(error) else ""
    print(
        f"{PROGRAM}: error: unexpected {type(error).__name__} in {step}: {message}; "
        f"the full traceback is in {path} (or rerun with --debug); please report it",
        file=sys.stderr,
    )
    return 1


def fail(error: BaseException, code: int) -> int:
    print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="LeNet-5 on MNIST: train, evaluate, predict digits in your own images, plot, "
        "sweep a grid of runs on Ray.",
        epilog="Run 'lenet COMMAND --help' for a command's options. Exit codes: 0 success, "
        "1 some inputs failed (or an unexpected failure, its traceback saved to a file), "
        "2 usage error, 130 interrupted.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected failure")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="train LeNet-5 and write results.json, results.png and lenet5.keras",
        description="Train with the documented recipe (the notebook's defaults), test once on "
        "the test set and write results.json, results.png and lenet5.keras into --out. "
        "Shows Keras's progress bar on a terminal, one line per epoch otherwise.",
    )
    add_config_flags(train)
    train.add_argument("--data", default="keras", metavar=DATA_METAVAR, help=DATA_HELP)
    train.add_argument(
        "--out",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help="directory for the artifacts, created if needed; a run interrupted earlier with the "
        "same directory resumes after its last completed epoch (default: %(default)s)",
    )
    train.set_defaults(command=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="test loss, accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate a saved model on a data source's test set.",
    )
    evaluate.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help="a saved model, e.g. runs/latest/lenet5.keras (default: the model shipped with lenet)",
    )
    evaluate.add_argument("--data", default="keras", metavar=DATA_METAVAR, help=DATA_HELP)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")
    evaluate.set_defaults(command=run_evaluate)

    predict = commands.add_parser(
        "predict",
        help="predict the digit in each of your own images",
        description="Predict the digit in images of any size and mode (PNG, JPEG, BMP, ...). "
        "Each is made MNIST-like first: grayscale, inverted if the background is light, "
        "cropped to the ink, scaled to fit 20x20 and centred in 28x28 by its centre of mass. "
        "A bad image gets one error line; the others are still predicted (exit code 1).",
    )
    predict.add_argument(
        "images",
        metavar="[MODEL] IMAGE",
        nargs="+",
        help="a saved model first if you have one (a .keras file, e.g. runs/latest/lenet5.keras, or a "
        ".tflite file from 'lenet export'; default: the model shipped with lenet), then image files, or directories whose image "
        "files (by suffix) are all predicted",
    )
    predict.add_argument(
        "--top",
        type=positive_int,
        default=1,
        metavar="K",
        help="show the K most probable digits (default: %(default)s)",
    )
    predict.add_argument("--json", action="store_true", help="print JSON instead of a table")
    predict.add_argument(
        "--show",
        metavar="DIR",
        help="save a figure per image into DIR: the input, what the model saw, the probabilities",
    )
    predict.set_defaults(command=run_predict)

    export = commands.add_parser(
        "export",
        help="write a saved model as a LiteRT (TensorFlow Lite) file, checked on the test set",
        description="Convert a model to LiteRT (TensorFlow Lite, float32; uint8 images in, "
        "probabilities out), compare it with the Keras model on the test set of --data and write "
        "it, with the comparison in OUT.json beside it, only if every prediction is the same and "
        "every probability within the tolerance (lenet.lite.TOLERANCE). `lenet predict OUT IMAGE` "
        "then predicts with it, about 10x faster per image and without importing TensorFlow.",
    )
    export.add_argument(
        "model", metavar="MODEL", nargs="?", help="a saved .keras model (default: the model shipped with lenet)"
    )
    export.add_argument("--data", default="keras", metavar=DATA_METAVAR, help=DATA_HELP)
    export.add_argument(
        "--out", default="lenet5.tflite", metavar="FILE", help="the file to write (default: %(default)s)"
    )
    export.set_defaults(command=run_export)

    plot = commands.add_parser(
        "plot",
        help="re-render results.png from a results.json, without training",
        description="Draw the accuracy and loss curves of a results.json.",
    )
    plot.add_argument("results", metavar="RESULTS_JSON", help="a results.json written by a run")
    plot.add_argument("--out", metavar="PNG", help="the figure to write (default: results.png next to RESULTS_JSON)")
    plot.set_defaults(command=run_plot)

    reproduce = commands.add_parser(
        "reproduce",
        help="train again the run a results.json describes and check every number is identical",
        description="Rebuild the run that RESULTS_JSON records (config, recipe, seed), train it on "
        "data with the same fingerprint, and print epoch by epoch whether every number is "
        "bit-identical. On a difference, name the first differing epoch and the recorded "
        "environment fields (CPU, oneDNN instruction set, threads, versions) that differ here. "
        "Exit codes: 0 identical, 1 different, 2 usage.",
    )
    reproduce.add_argument("results", metavar="RESULTS_JSON", help="a results.json written by a run")
    reproduce.add_argument(
        "--data",
        metavar=DATA_METAVAR,
        help="where to find the run's data (default: the source it records; e.g. a local copy of its mnist.npz)",
    )
    reproduce.add_argument(
        "--out", metavar="DIR", help="keep the reproduced run's artifacts here (default: a temporary directory)"
    )
    reproduce.set_defaults(command=run_reproduce)
    add_sweep_command(commands)
    return parser


def add_config_flags(parser: argparse.ArgumentParser, config_class: type = TrainConfig) -> None:
    """One flag per config field, with its type and default, so new fields appear by themselves.

    bool fields get --name/--no-name, Literal fields their choices, `X | None` the type X.
    """
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = FIELD_HELP.get(field.name, field.name.replace("_", " "))
        kind, choices = flag_type(hints[field.name])
        if kind is bool:
            parser.add_argument(
                flag,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=f"{help_text} (default: {'on' if default else 'off'})",
            )
            continue
        parser.add_argument(
            flag,
            dest=field.name,
            type=kind,
            choices=choices,
            default=default,
            metavar=field.name.upper() if choices is None else None,
            help=f"{help_text} (default: %(default)s)" if default is not None else help_text,
        )


def flag_type(hint: Any) -> tuple[Any, list[Any] | None]:
    """The argparse type (and choices) for a field's type hint: X, X | None, Literal[...]."""
    arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
    if typing.get_origin(hint) is typing.Literal:
        return type(arguments[0]), arguments
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(arguments) == 1:
        return flag_type(arguments[0])
    return (hint if hint in (int, float, str, bool) else str), None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_train(arguments: argparse.Namespace) -> int:
    values = {field.name: getattr(arguments, field.name) for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**values)
    problem = output_dir_problem(Path(arguments.out))
    if problem:  # before training, not after: an unusable --out should not cost a run
        return fail(f"{arguments.out}: {problem}", 2)
    import_tensorflow(arguments)  # after the checks: bad flags answer at once
    from lenet.checkpoint import CheckpointError
    from lenet.experiment import train_and_evaluate
    from lenet.training import TrainingError

    if sys.stdout.isatty():
        verbose, callbacks = "auto", []
    else:
        from lenet.progress import EpochLines

        verbose, callbacks = 0, [EpochLines()]
    try:  # a run interrupted earlier with the same --out resumes after its last epoch
        results = train_and_evaluate(config, arguments.data, arguments.out, verbose=verbose, callbacks=callbacks)
    except CheckpointError as error:
        return fail(error, 2)
    except TrainingError as error:
        return fail(error, 1)
    test = results["test"]
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}")
    print(f"wrote results.json, results.png and lenet5.keras into {arguments.out}")
    return 0


def output_dir_problem(out: Path) -> str | None:
    """Why `out` cannot become the output directory, or None; creates nothing."""
    if out.exists():
        return None if out.is_dir() else "exists and is not a directory"
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: no permission to write in {parent}"
    return None


def keras_model(path: str | None) -> Any:
    """The Keras model at `path` (or the shipped one); a LiteRT file is refused (it only predicts)."""
    from lenet.lite import LiteModel
    from lenet.model_file import load_model

    model = load_model(path)
    if isinstance(model, LiteModel):
        raise ModelError(f"{path}: a LiteRT file only predicts; give the .keras model it was exported from")
    return model


def run_export(arguments: argparse.Namespace) -> int:
    from lenet.data import file_sha256, load_mnist
    from lenet.lite import CHECK_SUFFIX, LiteError, TOLERANCE, to_lite
    from lenet.model_file import SHIPPED_WEIGHTS

    model = keras_model(arguments.model)
    data = load_mnist(arguments.data)
    try:
        lite = to_lite(model, data.x_test)
    except LiteError as error:
        return fail(f"{arguments.out} not written: {error}", 1)
    out = Path(arguments.out)
    record = {
        "model": str(arguments.model or "shipped"),
        "model_sha256": file_sha256(Path(arguments.model) if arguments.model else SHIPPED_WEIGHTS),
        "data": {"source": data.source, "fingerprint": data.fingerprint},
        "tolerance": TOLERANCE,
        "check": lite.check,
    }
    out.write_bytes(lite.content)
    out.with_name(out.name + CHECK_SUFFIX).write_text(json.dumps(record, indent=2) + "\n")
    check = lite.check
    print(
        f"wrote {out} ({len(lite.content):,} bytes): on {check['images']:,} test images of {data.source}, "
        f"the same predictions as Keras, probabilities within {check['max_probability_difference']:.2g} "
        f"(tolerance {TOLERANCE:g})"
    )
    return 0


def run_evaluate(arguments: argparse.Namespace) -> int:
    import_tensorflow(arguments)
    from lenet.analysis import confusion_matrix, per_class_accuracy
    from lenet.data import load_mnist
    from lenet.training import compile_with_recipe, evaluate, predict_probabilities

    model = keras_model(arguments.model)
    data = load_mnist(arguments.data)
    if not getattr(model, "compiled", True):  # saved without its training setup: the recipe's loss
        compile_with_recipe(model, TrainConfig(), steps_per_epoch=1)  # evaluation needs only the loss
    test = evaluate(model, data.x_test, data.y_test)
    matrix = confusion_matrix(data.y_test, predict_probabilities(model, data.x_test).argmax(axis=1))
    per_class = per_class_accuracy(matrix)
    if arguments.json:
        print(
            json.dumps(
                {
                    "model": str(arguments.model or "shipped"),
                    "data": {"source": data.source, "fingerprint": data.fingerprint, "test_size": len(data.y_test)},
                    "test": test,
                    "per_class_accuracy": [None if value != value else float(value) for value in per_class],
                    "confusion_matrix": matrix.tolist(),
                },
                indent=2,
            )
        )
        return 0
    print(f"{data.source}: {len(data.y_test):,} test images")
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}")
    print("\nper-class accuracy")
    print("  ".join(f"{digit}: {value:.3f}" for digit, value in enumerate(per_class)))
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    width = max(4, len(str(matrix.max())) + 1)
    print("   " + "".join(f"{digit:>{width}}" for digit in range(len(matrix))))
    for digit, row in enumerate(matrix):
        print(f"{digit:>3}" + "".join(f"{count:>{width}}" for count in row))
    return 0


def expand_inputs(paths: list[str]) -> list[Path]:
    """Files as given, directories replaced by their image files (an empty one stays, to fail)."""
    from lenet.images import image_files

    expanded: list[Path] = []
    for path in map(Path, paths):
        files = image_files(path) if path.is_dir() else []
        expanded.extend(files or [path])
    return expanded


def run_predict(arguments: argparse.Namespace) -> int:
    import numpy as np

    from lenet.images import load_digit, read_image
    from lenet.model_file import load_model

    import_tensorflow(arguments)
    model_path, images = None, arguments.images
    if Path(images[0]).suffix.lower() in MODEL_SUFFIXES:  # `lenet predict MODEL IMAGE...`
        model_path, images = images[0], images[1:]
        if not images:
            return fail("no images given after the model", 2)
    model = load_model(model_path, lite=True)  # the shipped LiteRT file if it matches the weights
    good: list[Path] = []
    digits: list[np.ndarray] = []
    errors: list[dict[str, str]] = []
    for path in expand_inputs(images):
        try:
            if path.is_dir():
                raise ImageError(f"{path}: directory holds no image files")
            digits.append(load_digit(path))
            good.append(path)
        except ImageError as error:
            fail(error, 1)
            errors.append({"image": str(path), "error": str(error)})
    predictions = []
    if digits:
        probabilities = probabilities_of(model, np.stack(digits))
        for path, row in zip(good, probabilities, strict=True):
            top = np.argsort(-row, kind="stable")[: arguments.top]
            predictions.append(
                {
                    "image": str(path),
                    "digit": int(top[0]),
                    "probability": float(row[top[0]]),
                    "top": [{"digit": int(d), "probability": float(row[d])} for d in top],
                }
            )
        if arguments.show:
            errors += save_prediction_figures(Path(arguments.show), good, digits, probabilities, read_image)
    if arguments.json:
        print(json.dumps({"predictions": predictions, "errors": errors}, indent=2))
    else:
        print_prediction_table(predictions, arguments.top)
    return 1 if errors else 0


def probabilities_of(model: Any, digits: Any) -> Any:
    """lenet.predict_probabilities, without importing TensorFlow for a LiteRT model."""
    from lenet.lite import LiteModel

    if isinstance(model, LiteModel):
        return model.probabilities(digits[..., None])
    from lenet.training import predict_probabilities

    return predict_probabilities(model, digits)


def print_prediction_table(predictions: list[dict[str, Any]], top: int) -> None:
    if not predictions:
        return
    width = max(len("image"), *(len(row["image"]) for row in predictions))
    heading = "digit  probability" if top == 1 else f"top {top} (digit probability)"
    print(f"{'image':<{width}}  {heading}")
    for row in predictions:
        if top == 1:
            print(f"{row['image']:<{width}}  {row['digit']:>5}  {row['probability']:>11.4f}")
        else:
            print(
                f"{row['image']:<{width}}  "
                + "   ".join(f"{entry['digit']} {entry['probability']:.4f}" for entry in row["top"])
            )


def save_prediction_figures(
    directory: Path, paths: list[Path], digits: list[Any], probabilities: Any, read_image: Any
) -> list[dict[str, str]]:
    """One figure per image, <stem>.png in `directory` (numbered when stems repeat)."""
    from lenet.artifacts import save_figure
    from lenet.plots import plot_prediction

    errors, used = [], set()
    for path, digit, row in zip(paths, digits, probabilities, strict=True):
        name, number = path.stem, 1
        while name in used:
            number += 1
            name = f"{path.stem}-{number}"
        used.add(name)
        target = directory / f"{name}.png"
        try:
            save_figure(target, plot_prediction(read_image(path), digit, row, title=str(path)))
        except OSError as error:
            fail(f"{target}: cannot write the figure ({error.strerror or error})", 1)
            errors.append({"image": str(path), "error": f"{target}: cannot write the figure"})
    return errors


def run_plot(arguments: argparse.Namespace) -> int:
    from lenet.artifacts import RESULTS_PNG, load_results, save_figure
    from lenet.plots import plot_history

    try:
        results = load_results(Path(arguments.results))
    except ValueError as error:
        return fail(error, 2)
    out = Path(arguments.out) if arguments.out else Path(arguments.results).parent / RESULTS_PNG
    try:
        save_figure(out, plot_history(results["history"]))
    except OSError as error:
        return fail(f"{out}: cannot write the figure ({error.strerror or error})", 1)
    except (KeyError, TypeError, ValueError) as error:
        return fail(f"{arguments.results}: history is incomplete or malformed ({error})", 2)
    print(f"wrote {out}")
    return 0


# --- lenet sweep: a grid of runs on Ray (lenet/sweep.py). Ray is imported only when it starts.


# Grid flags take the plural for these fields (--seeds 0,1,2); every other field keeps its name.
def run_reproduce(arguments: argparse.Namespace) -> int:
    from lenet.artifacts import load_results

    try:
        recorded = load_results(Path(arguments.results))
        config = TrainConfig(**recorded["config"])
        source, fingerprint = arguments.data or recorded["data"]["source"], recorded["data"]["fingerprint"]
    except (ValueError, TypeError, KeyError) as error:  # ConfigError is a ValueError
        return fail(f"{arguments.results}: not a reproducible lenet results file ({error})", 2)
    import_tensorflow(arguments)
    from lenet.data import load_mnist
    from lenet.experiment import train_and_evaluate
    from lenet.progress import EpochLines
    from lenet.reproducibility import differences, environment, environment_differences

    data = load_mnist(source)
    if data.fingerprint != fingerprint:
        return fail(
            f"{source}: other data (fingerprint {data.fingerprint[:12]}...) than the run's "
            f"({recorded['data']['source']}, {fingerprint[:12]}...); pass --data with its copy",
            2,
        )
    print(f"reproducing {arguments.results}: recipe {config.recipe!r}, seed {config.seed}, {config.epochs} epochs")
    with tempfile.TemporaryDirectory(prefix="lenet-reproduce-") as scratch:
        again = train_and_evaluate(
            config,
            source,
            arguments.out or scratch,
            verbose=0,
            callbacks=[EpochLines()],
            evaluate_test=recorded.get("test") is not None,
        )
    lines = differences(recorded, again)
    print("\n".join(lines))
    different = [line for line in lines if "DIFFERENT" in line]
    if not different:
        print("identical: every recorded number was reproduced bit for bit")
        return 0
    print(f"first difference: {different[0].split(':')[0]}")
    fields = environment_differences(recorded.get("environment", {}), environment())
    print("recorded environment that differs here: " + ("; ".join(fields) if fields else "none"))
    return 1


PLURAL_FLAGS = {"seed": "seeds", "variant": "variants", "recipe": "recipes"}


def add_sweep_command(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="train a grid of runs (seeds x variants x data x any config field) on Ray",
        description="Train every combination of the values given (comma-separated) as separate "
        "runs, each in a fresh Ray worker process, on this machine (a local Ray instance, one "
        "run per --threads cores) or on a Ray cluster (--address). Each run writes into "
        "OUT/runs/NAME; OUT/sweep.json holds every run's results, node and seconds and a summary "
        "per group. Started again with the same --out, a sweep skips its finished runs and "
        "resumes interrupted ones from their checkpoints. Needs Ray: pip install 'lenet[sweep]'.",
    )
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        name = PLURAL_FLAGS.get(field.name, field.name)
        kind, _choices = flag_type(hints[field.name])
        sweep.add_argument(
            "--" + name.replace("_", "-"),
            dest=field.name,
            metavar="V[,V...]",
            type=lambda text, kind=kind: [grid_value(item, kind) for item in text.split(",")],
            help=FIELD_HELP.get(field.name, field.name.replace("_", " "))
            + ("" if field.default is None else f" (default: {field.default})"),
        )
    sweep.add_argument(
        "--data",
        default="keras",
        metavar="SOURCE[,SOURCE...]",
        help="data sources, comma-separated, as for 'lenet train --data'; a path must exist at the "
        "same place on every node (default: %(default)s)",
    )
    sweep.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="the sweep's directory (on a cluster: storage every node sees, so a retried run finds its checkpoint)",
    )
    sweep.add_argument(
        "--address",
        metavar="ADDRESS",
        help="a Ray cluster to run on: auto, HOST:PORT or ray://HOST:10001 (default: a local Ray instance)",
    )
    sweep.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        metavar="N",
        help="CPUs and TensorFlow intra-op threads per run; Ray runs (CPUs per node / N) runs at a "
        "time on each node. N=1 gives the numbers of 'lenet train'; another N those of "
        "'TF_NUM_INTRAOP_THREADS=N lenet train' (default: %(default)s)",
    )
    sweep.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="retries of a run whose worker or node dies (default: %(default)s)",
    )
    sweep.add_argument(
        "--no-test",
        dest="evaluate_test",
        action="store_false",
        help="do not evaluate on the test set (studies that choose by validation)",
    )
    sweep.add_argument("--json", action="store_true", help="print sweep.json instead of the table")
    sweep.set_defaults(command=run_sweep)


def grid_value(text: str, kind: Any) -> Any:
    from lenet.config import boolean

    text = text.strip()
    if text.lower() == "none":
        return None
    try:
        return boolean(text) if kind is bool else kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None


def run_sweep(arguments: argparse.Namespace) -> int:
    from lenet.sweep import RunsFailed, SweepError, grid, summary_markdown, sweep

    values = {
        field.name: getattr(arguments, field.name)
        for field in dataclasses.fields(TrainConfig)
        if getattr(arguments, field.name) is not None
    }
    if "seed" in values:  # seeds outermost, as the scripts interleave them
        values = {"seed": values.pop("seed"), **values}
    runs = grid(arguments.data.split(","), evaluate_test=arguments.evaluate_test, **values)
    problem = output_dir_problem(Path(arguments.out))
    if problem:
        return fail(f"{arguments.out}: {problem}", 2)
    quiet = arguments.json
    try:
        result = sweep(
            runs,
            arguments.out,
            address=arguments.address,
            threads=arguments.threads,
            retries=arguments.retries,
            progress=None if quiet else print,
        )
    except RunsFailed as error:  # the other runs finished and are in sweep.json
        return fail(error, 1)
    except SweepError as error:  # nothing ran: no Ray, or data missing on a node
        return fail(error, 2)
    if quiet:
        print(json.dumps(result, indent=2))
    else:
        print(summary_markdown(result["summary"]))
        print(f"wrote {Path(arguments.out) / 'sweep.json'}")
    return 0
