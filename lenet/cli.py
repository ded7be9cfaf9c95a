"""The command line: `lenet train | evaluate | predict | plot | reproduce | sweep` (also `python -m lenet`).

A thin layer over the same functions the notebook calls. TensorFlow is imported inside
the subcommands, so `--help` and usage errors answer at once.

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
from pathlib import Path
from typing import Any

from lenet.config import ConfigError, TrainConfig, TrainingError, field_type, first_line, parse_value
from lenet.data import DataError
from lenet.images import ImageError
from lenet.model_file import MODEL_SUFFIXES, ModelError
from lenet.sweep import RunsFailed, SweepError

PROGRAM = "lenet"
DEFAULT_OUTPUT_DIR = "runs/latest"
# Expected errors -> exit code, the first that matches: 1 for an input (or a run) that failed,
# 2 for a usage error (CheckpointError is a ConfigError). Each is one line, never a traceback.
EXIT_CODES = ((RunsFailed, 1), (SweepError, 2), (ConfigError, 2), (DataError, 2), (ModelError, 2))
EXIT_CODES += ((TrainingError, 1), (ImageError, 1), (OSError, 1))

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
    except Exception as error:
        code = next((code for kind, code in EXIT_CODES if isinstance(error, kind)), None)
        if code is not None:
            return fail(error, code)
        if arguments.debug:  # a defect in our own code path, not in the user's input
            raise
        return unexpected(error)


def unexpected(error: Exception) -> int:
    """One line naming where it failed and the file that holds the traceback; exit code 1."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if f"{os.sep}lenet{os.sep}" in frame.filename] or frames
    where = ours[-1]
    step = f"{Path(where.filename).stem}.{where.name} ({Path(where.filename).name}:{where.lineno})"
    descriptor, path = tempfile.mkstemp(prefix="lenet-traceback-", suffix=".txt")
    with os.fdopen(descriptor, "w") as file:
        traceback.print_exception(error, file=file)
    message = first_line(error) if str(error) else ""
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
        help="a saved model first if you have one (a .keras file, e.g. runs/latest/lenet5.keras; "
        "default: the model shipped with lenet), then image files, or directories whose image "
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


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, with its type, default and help (the field's metadata).

    bool fields get --name/--no-name; `X | None` fields take an X.
    """
    for field in dataclasses.fields(TrainConfig):
        flag, help_text, kind = "--" + field.name.replace("_", "-"), field.metadata["help"], field_type(field)
        if kind is bool:
            state = "on" if field.default else "off"
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=f"{help_text} (default: {state})",
            )
            continue
        parser.add_argument(
            flag,
            type=kind,
            default=field.default,
            metavar=field.name.upper(),
            help=f"{help_text} (default: %(default)s)" if field.default is not None else help_text,
        )


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_train(arguments: argparse.Namespace) -> int:
    values = {field.name: getattr(arguments, field.name) for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**values)
    check_output_dir(arguments.out)  # before training, not after: an unusable --out should not cost a run
    from lenet.experiment import train_and_evaluate  # after the checks: bad flags answer at once

    if sys.stdout.isatty():
        verbose, callbacks = "auto", []
    else:
        from lenet.progress import EpochLines

        verbose, callbacks = 0, [EpochLines()]
    # A run interrupted earlier with the same --out resumes after its last epoch.
    results = train_and_evaluate(config, arguments.data, arguments.out, verbose=verbose, callbacks=callbacks)
    test = results["test"]
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}")
    print(f"wrote results.json, results.png and lenet5.keras into {arguments.out}")
    return 0


def check_output_dir(out: str) -> None:
    """ConfigError if `out` cannot become the output directory; creates nothing."""
    path, problem = Path(out), None
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if path.exists():
        problem = None if path.is_dir() else "exists and is not a directory"
    elif not parent.is_dir():
        problem = f"cannot be created: {parent} is not a directory"
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"cannot be created: no permission to write in {parent}"
    if problem:
        raise ConfigError(f"{out}: {problem}")


def run_evaluate(arguments: argparse.Namespace) -> int:
    from lenet.analysis import confusion_matrix, per_class_accuracy
    from lenet.data import load_mnist
    from lenet.model_file import load_model
    from lenet.training import compile_with_recipe, evaluate, predict_probabilities

    model = load_model(arguments.model)
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

    model_path, images = None, arguments.images
    if Path(images[0]).suffix.lower() in MODEL_SUFFIXES:  # `lenet predict MODEL IMAGE...`
        model_path, images = images[0], images[1:]
        if not images:
            raise ConfigError("no images given after the model")
    model = load_model(model_path)
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
        from lenet.training import predict_probabilities

        probabilities = predict_probabilities(model, np.stack(digits))
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

    results = load_results(Path(arguments.results))
    out = Path(arguments.out) if arguments.out else Path(arguments.results).parent / RESULTS_PNG
    try:
        save_figure(out, plot_history(results["history"]))
    except OSError as error:
        raise OSError(f"{out}: cannot write the figure ({error.strerror or error})") from None
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(f"{arguments.results}: history is incomplete or malformed ({error})") from None
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
        raise DataError(f"{arguments.results}: not a reproducible lenet results file ({error})") from None
    from lenet.data import load_mnist
    from lenet.experiment import train_and_evaluate
    from lenet.progress import EpochLines
    from lenet.reproducibility import differences, environment, environment_differences

    data = load_mnist(source)
    if data.fingerprint != fingerprint:
        raise DataError(
            f"{source}: other data (fingerprint {data.fingerprint[:12]}...) than the run's "
            f"({recorded['data']['source']}, {fingerprint[:12]}...); pass --data with its copy"
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
    for field in dataclasses.fields(TrainConfig):
        name, kind = PLURAL_FLAGS.get(field.name, field.name), field_type(field)
        sweep.add_argument(
            "--" + name.replace("_", "-"),
            dest=field.name,
            metavar="V[,V...]",
            type=lambda text, kind=kind: [grid_value(item, kind) for item in text.split(",")],
            help=field.metadata["help"] + ("" if field.default is None else f" (default: {field.default})"),
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
        type=int,  # sweep() refuses fewer than 1, for its library callers too
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
    text = text.strip()
    if text.lower() == "none":
        return None
    try:
        return parse_value(text, kind)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None


def run_sweep(arguments: argparse.Namespace) -> int:
    from lenet.sweep import grid, summary_markdown, sweep

    values = {
        field.name: getattr(arguments, field.name)
        for field in dataclasses.fields(TrainConfig)
        if getattr(arguments, field.name) is not None
    }
    if "seed" in values:  # seeds outermost, as the scripts interleave them
        values = {"seed": values.pop("seed"), **values}
    runs = grid(arguments.data.split(","), evaluate_test=arguments.evaluate_test, **values)
    check_output_dir(arguments.out)
    quiet = arguments.json
    # RunsFailed (exit 1): the other runs finished and are in sweep.json; SweepError (2): nothing ran.
    result = sweep(
        runs,
        arguments.out,
        address=arguments.address,
        threads=arguments.threads,
        retries=arguments.retries,
        progress=None if quiet else print,
    )
    if quiet:
        print(json.dumps(result, indent=2))
    else:
        print(summary_markdown(result["summary"]))
        print(f"wrote {Path(arguments.out) / 'sweep.json'}")
    return 0
