"""LeNet-5 on MNIST: train, evaluate, predict digits in your own images, plot, sweep a grid of runs on Ray.

Run 'lenet COMMAND --help' for a command's options. Exit codes: 0 success, 1 some inputs failed (or an unexpected
failure, its traceback saved to a file), 2 usage error, 130 interrupted.
"""
# The command line, `lenet` or `python -m lenet`: its text is this docstring and each run_NAME function's. TensorFlow
# is imported inside the commands that need it, so `--help` and usage errors answer at once.

import argparse
import dataclasses
import functools
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lenet import startup
from lenet.config import TrainConfig, field_type, parse
from lenet.errors import ConfigError, DataError, ImageError, LiteError, ModelError, ResultsError, exit_code, first_line

PROGRAM = "lenet"
# Grid flags take the plural for these fields (--seeds 0,1,2); every other field keeps its name.
PLURAL_FLAGS = {"seed": "seeds", "variant": "variants", "recipe": "recipes"}
TEST_LINE = "test accuracy {accuracy:.4f}, test loss {loss:.4f}"
Argument = tuple[tuple[str, ...], dict[str, Any]]  # what add_argument(*flags, **settings) takes
COMMANDS: list[tuple[Callable[[argparse.Namespace], int], tuple[Argument, ...]]] = []  # in --help's order


def main(argv: list[str] | None = None) -> int:
    """The console script's entry point: runs one command and returns its exit code."""
    arguments = build_parser().parse_args(argv)  # exits with 2 on usage errors
    try:
        return arguments.command(arguments)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        code = exit_code(error)  # None: a defect in our own code path, not in the user's input
        if code is None and arguments.debug:
            raise
        print_error(error if code else unexpected(error))  # one line either way
        return code or 1


def print_error(error: BaseException | str) -> None:
    print(f"{PROGRAM}: error: {error}", file=sys.stderr)


def unexpected(error: Exception) -> str:
    """A line naming where it failed and the file that now holds its traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ([frame for frame in frames if f"{os.sep}lenet{os.sep}" in frame.filename] or frames)[-1]
    step = f"{Path(where.filename).stem}.{where.name} ({Path(where.filename).name}:{where.lineno})"
    descriptor, path = tempfile.mkstemp(prefix="lenet-traceback-", suffix=".txt")
    with os.fdopen(descriptor, "w") as file:
        traceback.print_exception(error, file=file)
    message = first_line(error, limit=1000) if str(error) else ""
    return (
        f"unexpected {type(error).__name__} in {step}: {message}; "
        f"the full traceback is in {path} (or rerun with --debug); please report it"
    )


def build_parser() -> argparse.ArgumentParser:
    description, _, epilog = (__doc__ or "").partition("\n\n")  # (no docstrings under python -OO)
    parser = argparse.ArgumentParser(prog=PROGRAM, description=description, epilog=epilog)
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected failure")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for run, arguments in COMMANDS:
        help, _, description = (run.__doc__ or "").partition("\n")
        sub = commands.add_parser(run.__name__.removeprefix("run_"), help=help, description=description)
        sub.set_defaults(command=run)
        for flags, settings in arguments:
            sub.add_argument(*flags, **settings)
    return parser


def command(*arguments: Argument) -> Callable:
    """Make run_NAME the command `lenet NAME`: its docstring's first line is the help, the rest the description."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS.append((run, arguments))
        return run

    return register


def argument(*flags: str, **settings: Any) -> Argument:
    return flags, settings


def config_flags(grid: bool = False) -> list[Argument]:
    """Each TrainConfig field as a flag with its help and default: --name (a switch: --name/--no-name),
    or with `grid`, --name(s) V[,V...] taking a list (default: unset, so the config's own)."""
    flags = []
    for config_field in dataclasses.fields(TrainConfig):
        name, default, kind = config_field.name, config_field.default, field_type(config_field)
        shown = ("on" if default else "off") if kind is bool else default
        help = config_field.metadata["help"] + ("" if default is None else f" (default: {shown})")
        if grid:
            settings = {"metavar": "V[,V...]", "type": functools.partial(grid_values, config_field)}
        elif kind is bool:
            settings = {"action": argparse.BooleanOptionalAction, "default": default}
        else:
            settings = {"type": kind, "default": default, "metavar": name.upper()}
        flag = "--" + (PLURAL_FLAGS.get(name, name) if grid else name).replace("_", "-")
        flags.append(argument(flag, dest=name, help=help, **settings))
    return flags


def grid_values(config_field: dataclasses.Field, text: str) -> list[Any]:
    try:
        return [parse(config_field, item) for item in text.split(",")]
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def config_values(arguments: argparse.Namespace) -> dict[str, Any]:
    return {field.name: getattr(arguments, field.name) for field in dataclasses.fields(TrainConfig)}


def check_output_dir(out: str) -> None:
    """Refuse an --out that cannot become the output directory, before any work; creates nothing."""
    path = Path(out)
    existing = next(parent for parent in [path, *path.parents] if parent.exists())
    if existing == path and not path.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory")
    if existing != path and not existing.is_dir():
        raise ConfigError(f"{out}: cannot be created: {existing} is not a directory")
    if existing != path and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{out}: cannot be created: no permission to write in {existing}")


def keras_model(path: str | None) -> Any:
    """The Keras model at `path` (or the shipped one); a LiteRT file is refused (it only predicts)."""
    from lenet.lite import LiteModel
    from lenet.model_file import load_model

    model = load_model(path)
    if isinstance(model, LiteModel):
        raise ModelError(f"{path}: a LiteRT file only predicts; give the .keras model it was exported from")
    return model


DATA = argument(
    "--data",
    default="keras",
    metavar="keras|fashion_mnist|sample|PATH",
    help="'keras' (MNIST, downloaded once and cached; LENET_MNIST_PATH=FILE uses a local copy), 'fashion_mnist' "
    "(downloaded once), 'sample' (the 5,000 digits shipped with lenet, offline), the path of a Keras-layout .npz "
    "or of a directory of the four IDX files (default: %(default)s)",
)
MODEL = argument("model", metavar="MODEL", nargs="?", help="a saved .keras model (default: the one shipped with lenet)")
RESULTS = argument("results", metavar="RESULTS_JSON", help="a results.json written by a run")
JSON = argument("--json", action="store_true", help="print JSON instead of the table")


@command(
    DATA,
    *config_flags(),
    argument("--out", default="runs/latest", metavar="DIR", help="the artifacts' directory (default: %(default)s)"),
)
def run_train(arguments: argparse.Namespace) -> int:
    """train LeNet-5 and write results.json, results.png and lenet5.keras

    Train with the documented recipe (the notebook's defaults), test once on the test set and write results.json,
    results.png and lenet5.keras into --out, created if needed; a run interrupted earlier with the same --out resumes
    after its last completed epoch. Shows Keras's progress bar on a terminal, one line per epoch otherwise.
    """
    config = TrainConfig(**config_values(arguments))
    check_output_dir(arguments.out)  # an unusable --out should not cost a run
    startup.import_tensorflow(arguments.debug)  # after the checks: bad flags answer at once
    from lenet.experiment import train_and_evaluate
    from lenet.progress import EpochLines

    terminal = sys.stdout.isatty()  # Keras's progress bar; in a log, one line per epoch
    verbose, callbacks = ("auto", []) if terminal else (0, [EpochLines()])
    results = train_and_evaluate(config, arguments.data, arguments.out, verbose=verbose, callbacks=callbacks)
    print(TEST_LINE.format_map(results["test"]))
    print(f"wrote results.json, results.png and lenet5.keras into {arguments.out}")
    return 0


@command(DATA, MODEL, JSON)
def run_evaluate(arguments: argparse.Namespace) -> int:
    """test loss, accuracy, per-class accuracy and confusion matrix of a saved model

    Evaluate a saved model on a data source's test set.
    """
    startup.import_tensorflow(arguments.debug)
    from lenet.analysis import confusion_matrix, per_class_accuracy
    from lenet.data import load_mnist
    from lenet.model_file import predict_probabilities
    from lenet.training import compile_with_recipe, evaluate

    model, data = keras_model(arguments.model), load_mnist(arguments.data)
    if not getattr(model, "compiled", True):  # saved without its training setup: the recipe's loss
        compile_with_recipe(model, TrainConfig(), steps_per_epoch=1)  # evaluation needs only the loss
    test = evaluate(model, data.x_test, data.y_test)
    matrix = confusion_matrix(data.y_test, predict_probabilities(model, data.x_test).argmax(axis=1))
    per_class = per_class_accuracy(matrix)
    if arguments.json:
        report = {
            "model": str(arguments.model or "shipped"),
            "data": {"source": data.source, "fingerprint": data.fingerprint, "test_size": len(data.y_test)},
            "test": test,
            "per_class_accuracy": [None if value != value else float(value) for value in per_class],  # NaN: no images
            "confusion_matrix": matrix.tolist(),
        }
        print(json.dumps(report, indent=2))
        return 0
    width = max(4, len(str(matrix.max())) + 1)
    print(f"{data.source}: {len(data.y_test):,} test images\n{TEST_LINE.format_map(test)}\n\nper-class accuracy")
    print("  ".join(f"{digit}: {value:.3f}" for digit, value in enumerate(per_class)))
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    print("   " + "".join(f"{digit:>{width}}" for digit in range(len(matrix))))
    for digit, row in enumerate(matrix):
        print(f"{digit:>3}" + "".join(f"{count:>{width}}" for count in row))
    return 0


@command(
    argument(
        "images",
        metavar="[MODEL] IMAGE",
        nargs="+",
        help="a saved model first if you have one (a .keras file, or a .tflite file from 'lenet export'; default: the "
        "model shipped with lenet), then image files, or directories whose image files (by suffix) are all predicted",
    ),
    argument("--top", type=positive_int, default=1, metavar="K", help="show the K most probable digits (default: 1)"),
    JSON,
    argument("--show", metavar="DIR", help="save a figure per image: the input, what the model saw, the probabilities"),
)
def run_predict(arguments: argparse.Namespace) -> int:
    """predict the digit in each of your own images

    Predict the digit in images of any size and mode (PNG, JPEG, BMP, ...). Each is made MNIST-like first: grayscale,
    inverted if the background is light, cropped to the ink, scaled to fit 20x20 and centred in 28x28 by its centre of
    mass. A bad image gets one error line; the others are still predicted (exit code 1).
    """
    import numpy as np

    from lenet.images import image_files, mnist_style, read_image
    from lenet.lite import LITE_SUFFIX
    from lenet.model_file import MODEL_SUFFIXES, load_model, predict_probabilities, shipped_lite, shipped_lite_matches

    given_model = Path(arguments.images[0]).suffix.lower() in MODEL_SUFFIXES  # `lenet predict MODEL IMAGE...`
    model_path, images = (arguments.images[0], arguments.images[1:]) if given_model else (None, arguments.images)
    if not images:
        raise ConfigError("no images given after the model")
    # A LiteRT model predicts without TensorFlow: a .tflite file, or the shipped one while its check names the
    # shipped weights (decided once: that hashes them).
    lite = Path(model_path).suffix.lower() == LITE_SUFFIX if model_path else shipped_lite_matches()
    if not lite:
        startup.import_tensorflow(arguments.debug)
    model = shipped_lite() if lite and model_path is None else load_model(model_path)
    paths, originals, digits, predictions, errors = [], [], [], [], []

    def failed(path: Path, error: Exception) -> None:  # one line each; the other images are still done
        print_error(error)
        errors.append({"image": str(path), "error": str(error)})

    # Files as given, directories replaced by their image files (an empty one stays, to fail).
    inputs = [file for given in map(Path, images) for file in (image_files(given) if given.is_dir() else []) or [given]]
    for path in inputs:
        try:
            if path.is_dir():
                raise ImageError(f"{path}: directory holds no image files")
            image = read_image(path)  # read once: --show draws it as it was predicted
            digits.append(mnist_style(image))
            originals.append(image if arguments.show else None)
            paths.append(path)
        except ImageError as error:
            failed(path, error)
    probabilities = predict_probabilities(model, np.stack(digits)) if digits else []
    for path, row in zip(paths, probabilities, strict=True):
        ranked = np.argsort(-row, kind="stable")[: arguments.top]
        top = [{"digit": int(digit), "probability": float(row[digit])} for digit in ranked]
        predictions.append({"image": str(path), **top[0], "top": top})
    if arguments.show:  # a figure per image, <stem>.png (numbered when stems repeat)
        from lenet.artifacts import save_figure
        from lenet.plots import plot_prediction

        used = set()
        for path, image, digit, row in zip(paths, originals, digits, probabilities, strict=True):
            name, number = path.stem, 1
            while name in used:
                number += 1
                name = f"{path.stem}-{number}"
            used.add(name)
            try:
                figure = plot_prediction(image, digit, row, title=str(path))
                save_figure(Path(arguments.show) / f"{name}.png", figure)
            except OSError as error:  # the figure could not be written
                failed(path, error)
    if arguments.json:
        print(json.dumps({"predictions": predictions, "errors": errors}, indent=2))
    elif predictions:
        width = max(len("image"), *(len(row["image"]) for row in predictions))
        one = arguments.top == 1
        print(f"{'image':<{width}}  " + ("digit  probability" if one else f"top {arguments.top} (digit probability)"))
        for row in predictions:
            pairs = [f"{entry['digit']} {entry['probability']:.4f}" for entry in row["top"]]
            cells = f"{row['digit']:>5}  {row['probability']:>11.4f}" if one else "   ".join(pairs)
            print(f"{row['image']:<{width}}  {cells}")
    return 1 if errors else 0


@command(
    DATA, MODEL, argument("--out", default="lenet5.tflite", metavar="FILE", help="the output (default: %(default)s)")
)
def run_export(arguments: argparse.Namespace) -> int:
    """write a saved model as a LiteRT (TensorFlow Lite) file, checked on the test set

    Convert a model to LiteRT (TensorFlow Lite, float32; uint8 images in, probabilities out), compare it with the
    Keras model on the test set of --data and write it to --out, with the comparison in OUT.json beside it, only if
    every prediction is the same and every probability within the tolerance (lenet.lite.TOLERANCE). `lenet predict
    OUT IMAGE` then predicts with it, about 10x faster per image and without importing TensorFlow.
    """
    startup.import_tensorflow(arguments.debug)
    from lenet.artifacts import save_json, write_atomically
    from lenet.data import file_sha256, load_mnist
    from lenet.lite import TOLERANCE, check_path, to_lite
    from lenet.model_file import SHIPPED_WEIGHTS

    model, data, out = keras_model(arguments.model), load_mnist(arguments.data), Path(arguments.out)
    try:
        lite = to_lite(model, data.x_test)
    except LiteError as error:
        raise LiteError(f"{arguments.out} not written: {error}") from None
    write_atomically(out, lambda temporary: temporary.write_bytes(lite.content))
    record = {
        "model": str(arguments.model or "shipped"),
        "model_sha256": file_sha256(Path(arguments.model) if arguments.model else SHIPPED_WEIGHTS),
        "data": {"source": data.source, "fingerprint": data.fingerprint},
        "tolerance": TOLERANCE,
        "check": lite.check,
    }
    save_json(check_path(out), record)
    print(
        f"wrote {out} ({len(lite.content):,} bytes): on {lite.check['images']:,} test images of {data.source}, the "
        f"same predictions as Keras, probabilities within {lite.check['max_probability_difference']:.2g} "
        f"(tolerance {TOLERANCE:g})"
    )
    return 0


@command(RESULTS, argument("--out", metavar="PNG", help="the figure (default: results.png next to RESULTS_JSON)"))
def run_plot(arguments: argparse.Namespace) -> int:
    """re-render results.png from a results.json, without training

    Draw the accuracy and loss curves of a results.json.
    """
    from lenet.artifacts import RESULTS_PNG, load_results, save_figure
    from lenet.plots import plot_history

    results = load_results(Path(arguments.results))
    try:
        figure = plot_history(results["history"])
    except (KeyError, TypeError, ValueError) as error:
        raise ResultsError(f"{arguments.results}: history is incomplete or malformed ({error})") from None
    out = Path(arguments.out or Path(arguments.results).parent / RESULTS_PNG)
    save_figure(out, figure)
    print(f"wrote {out}")
    return 0


@command(
    RESULTS,
    argument("--data", metavar="SOURCE", help="the run's data, e.g. a local copy (default: the source it records)"),
    argument("--out", metavar="DIR", help="keep the reproduced run's artifacts here (default: a temporary directory)"),
)
def run_reproduce(arguments: argparse.Namespace) -> int:
    """train again the run a results.json describes and check every number is identical

    Rebuild the run that RESULTS_JSON records (config, recipe, seed), train it on data with the same fingerprint and
    print epoch by epoch whether every number is bit-identical; on a difference, the first differing epoch and the
    recorded environment (CPU, oneDNN instruction set, threads, versions) that differs here. Exit codes: 0 identical,
    1 different, 2 usage.
    """
    from lenet.artifacts import load_results

    try:
        recorded = load_results(Path(arguments.results))
        # The config as given, with the epochs and validation size the run resolved (older files record none):
        # the same run even if its recipe's own length has changed since.
        config = TrainConfig(**{**recorded["config"], **recorded.get("resolved", {})})
        source, fingerprint = arguments.data or recorded["data"]["source"], recorded["data"]["fingerprint"]
    except (ValueError, TypeError, KeyError) as error:  # ConfigError and ResultsError are ValueErrors
        raise ResultsError(f"{arguments.results}: not a reproducible lenet results file ({error})") from None
    startup.import_tensorflow(arguments.debug)
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
    epochs = config.resolved_epochs
    print(f"reproducing {arguments.results}: recipe {config.recipe!r}, seed {config.seed}, {epochs} epochs")
    with tempfile.TemporaryDirectory(prefix="lenet-reproduce-") as scratch:
        settings = {"verbose": 0, "callbacks": [EpochLines()], "evaluate_test": recorded.get("test") is not None}
        again = train_and_evaluate(config, data, arguments.out or scratch, **settings)  # loaded and hashed once
    lines = differences(recorded, again)
    different = [line.split(":")[0] for line in lines if "DIFFERENT" in line]
    print("\n".join(lines))
    if not different:
        print("identical: every recorded number was reproduced bit for bit")
        return 0
    fields = environment_differences(recorded.get("environment", {}), environment())
    print(f"first difference: {different[0]}\nrecorded environment that differs here: {'; '.join(fields) or 'none'}")
    return 1


@command(
    *config_flags(grid=True),
    argument("--data", default="keras", metavar="SOURCE[,SOURCE...]", help="as for 'lenet train' (default: keras)"),
    argument("--out", required=True, metavar="DIR", help="the sweep's directory"),
    argument("--address", help="a Ray cluster: auto, HOST:PORT or ray://HOST:10001 (default: a local Ray instance)"),
    argument("--threads", type=int, default=1, metavar="N", help="CPUs and TensorFlow threads per run (default: 1)"),
    argument("--retries", type=int, default=3, metavar="N", help="retries if a run's worker or node dies (default: 3)"),
    argument("--no-test", dest="evaluate_test", action="store_false", help="do not evaluate on the test set"),
    JSON,
)
def run_sweep(arguments: argparse.Namespace) -> int:
    """train a grid of runs (seeds x variants x data x any config field) on Ray

    Train every combination of the values given (comma-separated), each run in a fresh Ray worker process, on this
    machine (a local Ray instance) or on a Ray cluster (--address), (CPUs per node / --threads N) runs at a time per
    node, each with the numbers of 'TF_NUM_INTRAOP_THREADS=N lenet train' (N=1: of 'lenet train'). Each writes into
    OUT/runs/NAME; OUT/sweep.json holds every run's results, node and seconds and a summary per group. Started again
    with the same --out, a sweep skips its finished runs and resumes interrupted ones from their checkpoints. On a
    cluster, --out (so a retried run finds its checkpoint) and data paths must be where every node sees them. --no-test
    is for studies that choose by validation. Needs Ray: pip install 'lenet[sweep]'.
    """
    from lenet.sweep import SWEEP_JSON, grid, summary_markdown, sweep

    values = {name: value for name, value in config_values(arguments).items() if value is not None}
    if "seed" in values:  # seeds outermost, as the scripts interleave them
        values = {"seed": values.pop("seed"), **values}
    runs = grid(arguments.data.split(","), evaluate_test=arguments.evaluate_test, **values)
    check_output_dir(arguments.out)
    settings = {"address": arguments.address, "threads": arguments.threads, "retries": arguments.retries}
    # RunsFailed (exit code 1) once the other runs are in sweep.json
    result = sweep(runs, arguments.out, **settings, progress=None if arguments.json else print)
    summary = f"{summary_markdown(result['summary'])}\nwrote {Path(arguments.out) / SWEEP_JSON}"
    print(json.dumps(result, indent=2) if arguments.json else summary)
    return 0
