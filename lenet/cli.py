"""The command line: `lenet train | evaluate | predict | export | plot | reproduce | sweep` (also `python -m lenet`).

A thin layer over the functions the notebook calls. TensorFlow is imported inside the
commands, so `--help` and usage errors answer at once, without its start-up log lines
(lenet/startup.py; `--debug` or TF_CPP_MIN_LOG_LEVEL shows them). Exit codes: 0 all good, 1
some inputs failed (the good ones are still done), 2 usage errors (lenet/errors.py decides
which failure is which), 130 interrupted.
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

from lenet.config import TrainConfig, field_type, parse
from lenet.errors import ConfigError, DataError, ImageError, LiteError, ModelError, ResultsError, exit_code, first_line

PROGRAM = "lenet"
DEFAULT_OUTPUT_DIR = "runs/latest"
DATA_HELP = (
    "'keras' (MNIST, downloaded once and cached; LENET_MNIST_PATH=FILE uses a local copy), "
    "'fashion_mnist' (downloaded once), 'sample' (the 5,000 digits shipped with lenet, "
    "offline), the path of a Keras-layout .npz or of a directory of the four IDX files "
    "(default: %(default)s)"
)
DATA_METAVAR = "keras|fashion_mnist|sample|PATH"
# Grid flags take the plural for these fields (--seeds 0,1,2); every other field keeps its name.
PLURAL_FLAGS = {"seed": "seeds", "variant": "variants", "recipe": "recipes"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script's entry point)."""
    arguments = build_parser().parse_args(argv)  # exits with 2 on usage errors
    try:
        return arguments.command(arguments)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        code = exit_code(error)
        if code is not None:  # an expected failure: one line
            return fail(error, code)
        if arguments.debug:  # a defect in our own code path, not in the user's input
            raise
        return unexpected(error)


def fail(error: BaseException | str, code: int) -> int:
    print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    return code


def unexpected(error: Exception) -> int:
    """One line naming where it failed and the file that holds the traceback; exit code 1."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ([frame for frame in frames if f"{os.sep}lenet{os.sep}" in frame.filename] or frames)[-1]
    step = f"{Path(where.filename).stem}.{where.name} ({Path(where.filename).name}:{where.lineno})"
    descriptor, path = tempfile.mkstemp(prefix="lenet-traceback-", suffix=".txt")
    with os.fdopen(descriptor, "w") as file:
        traceback.print_exception(error, file=file)
    message = first_line(error, limit=1000) if str(error) else ""
    print(
        f"{PROGRAM}: error: unexpected {type(error).__name__} in {step}: {message}; "
        f"the full traceback is in {path} (or rerun with --debug); please report it",
        file=sys.stderr,
    )
    return 1


def import_tensorflow(arguments: argparse.Namespace) -> None:
    """Load TensorFlow, its start-up log kept off stderr unless --debug or TF_CPP_MIN_LOG_LEVEL asks."""
    from lenet import startup

    startup.import_tensorflow(show_log=arguments.debug or startup.log_wanted())


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

    def command(name: str, run: Any, help: str, description: str, data: bool = False) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=description)
        sub.set_defaults(command=run)
        if data:
            sub.add_argument("--data", default="keras", metavar=DATA_METAVAR, help=DATA_HELP)
        return sub

    def model_argument(sub: argparse.ArgumentParser, example: str) -> None:
        sub.add_argument("model", metavar="MODEL", nargs="?", help=f"{example} (default: the model shipped with lenet)")

    train = command(
        "train",
        run_train,
        "train LeNet-5 and write results.json, results.png and lenet5.keras",
        "Train with the documented recipe (the notebook's defaults), test once on the test set and "
        "write results.json, results.png and lenet5.keras into --out. Shows Keras's progress bar on a "
        "terminal, one line per epoch otherwise.",
        data=True,
    )
    for config_field in dataclasses.fields(TrainConfig):
        add_field_flag(train, config_field)
    train.add_argument(
        "--out",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help="directory for the artifacts, created if needed; a run interrupted earlier with the "
        "same directory resumes after its last completed epoch (default: %(default)s)",
    )

    evaluate = command(
        "evaluate",
        run_evaluate,
        "test loss, accuracy, per-class accuracy and confusion matrix of a saved model",
        "Evaluate a saved model on a data source's test set.",
        data=True,
    )
    model_argument(evaluate, "a saved model, e.g. runs/latest/lenet5.keras")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")

    predict = command(
        "predict",
        run_predict,
        "predict the digit in each of your own images",
        "Predict the digit in images of any size and mode (PNG, JPEG, BMP, ...). Each is made "
        "MNIST-like first: grayscale, inverted if the background is light, cropped to the ink, scaled "
        "to fit 20x20 and centred in 28x28 by its centre of mass. A bad image gets one error line; the "
        "others are still predicted (exit code 1).",
    )
    predict.add_argument(
        "images",
        metavar="[MODEL] IMAGE",
        nargs="+",
        help="a saved model first if you have one (a .keras file, e.g. runs/latest/lenet5.keras, or a "
        ".tflite file from 'lenet export'; default: the model shipped with lenet), then image files, or "
        "directories whose image files (by suffix) are all predicted",
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

    export = command(
        "export",
        run_export,
        "write a saved model as a LiteRT (TensorFlow Lite) file, checked on the test set",
        "Convert a model to LiteRT (TensorFlow Lite, float32; uint8 images in, probabilities out), "
        "compare it with the Keras model on the test set of --data and write it, with the comparison in "
        "OUT.json beside it, only if every prediction is the same and every probability within the "
        "tolerance (lenet.lite.TOLERANCE). `lenet predict OUT IMAGE` then predicts with it, about 10x "
        "faster per image and without importing TensorFlow.",
        data=True,
    )
    model_argument(export, "a saved .keras model")
    export.add_argument(
        "--out", default="lenet5.tflite", metavar="FILE", help="the file to write (default: %(default)s)"
    )

    plot = command(
        "plot",
        run_plot,
        "re-render results.png from a results.json, without training",
        "Draw the accuracy and loss curves of a results.json.",
    )
    plot.add_argument("results", metavar="RESULTS_JSON", help="a results.json written by a run")
    plot.add_argument("--out", metavar="PNG", help="the figure to write (default: results.png next to RESULTS_JSON)")

    reproduce = command(
        "reproduce",
        run_reproduce,
        "train again the run a results.json describes and check every number is identical",
        "Rebuild the run that RESULTS_JSON records (config, recipe, seed), train it on data with the "
        "same fingerprint, and print epoch by epoch whether every number is bit-identical. On a "
        "difference, name the first differing epoch and the recorded environment fields (CPU, oneDNN "
        "instruction set, threads, versions) that differ here. Exit codes: 0 identical, 1 different, 2 usage.",
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

    sweep = command(
        "sweep",
        run_sweep,
        "train a grid of runs (seeds x variants x data x any config field) on Ray",
        "Train every combination of the values given (comma-separated) as separate runs, each in a "
        "fresh Ray worker process, on this machine (a local Ray instance, one run per --threads cores) "
        "or on a Ray cluster (--address). Each run writes into OUT/runs/NAME; OUT/sweep.json holds every "
        "run's results, node and seconds and a summary per group. Started again with the same --out, a "
        "sweep skips its finished runs and resumes interrupted ones from their checkpoints. Needs Ray: "
        "pip install 'lenet[sweep]'.",
    )
    for config_field in dataclasses.fields(TrainConfig):
        add_field_flag(sweep, config_field, grid=True)
    sweep.add_argument(
        "--data",
        default="keras",
        metavar="SOURCE[,SOURCE...]",
        help="data sources, comma-separated, as for 'lenet train --data'; a path must exist at the same "
        "place on every node (default: %(default)s)",
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
        type=int,
        default=1,
        metavar="N",
        help="CPUs and TensorFlow intra-op threads per run; Ray runs (CPUs per node / N) runs at a time on "
        "each node. N=1 gives the numbers of 'lenet train'; another N those of "
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
    return parser


def add_field_flag(parser: argparse.ArgumentParser, config_field: dataclasses.Field, grid: bool = False) -> None:
    """A TrainConfig field as a flag with its help and default: --name (a switch: --name/--no-name),
    or with `grid`, --name(s) V[,V...] taking a list (default: unset, so the config's own)."""
    help_text, default, kind = config_field.metadata["help"], config_field.default, field_type(config_field)
    flag = "--" + (PLURAL_FLAGS.get(config_field.name, config_field.name) if grid else config_field.name).replace(
        "_", "-"
    )
    if grid:
        parser.add_argument(
            flag,
            dest=config_field.name,
            metavar="V[,V...]",
            type=lambda text: [grid_value(config_field, item) for item in text.split(",")],
            help=help_text + ("" if default is None else f" (default: {default})"),
        )
    elif kind is bool:
        parser.add_argument(
            flag,
            dest=config_field.name,
            action=argparse.BooleanOptionalAction,
            default=default,
            help=f"{help_text} (default: {'on' if default else 'off'})",
        )
    else:
        parser.add_argument(
            flag,
            dest=config_field.name,
            type=kind,
            default=default,
            metavar=config_field.name.upper(),
            help=help_text if default is None else f"{help_text} (default: %(default)s)",
        )


def grid_value(config_field: dataclasses.Field, text: str) -> Any:
    try:
        return parse(config_field, text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text.strip()!r} is not a valid {field_type(config_field).__name__}"
        ) from None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_output_dir(out: str) -> None:
    """Refuse an --out that cannot become the output directory, before any work; creates nothing."""
    path = Path(out)
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{out}: exists and is not a directory")
        return
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{out}: cannot be created: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{out}: cannot be created: no permission to write in {parent}")


def run_train(arguments: argparse.Namespace) -> int:
    config = TrainConfig(**{f.name: getattr(arguments, f.name) for f in dataclasses.fields(TrainConfig)})
    check_output_dir(arguments.out)  # an unusable --out should not cost a run
    import_tensorflow(arguments)  # after the checks: bad flags answer at once
    from lenet import progress
    from lenet.experiment import train_and_evaluate

    terminal = sys.stdout.isatty()  # Keras's progress bar; in a log, one line per epoch
    results = train_and_evaluate(
        config,
        arguments.data,
        arguments.out,
        verbose="auto" if terminal else 0,
        callbacks=[] if terminal else [progress.EpochLines()],
    )
    print(f"test accuracy {results['test']['accuracy']:.4f}, test loss {results['test']['loss']:.4f}")
    print(f"wrote results.json, results.png and lenet5.keras into {arguments.out}")
    return 0


def keras_model(path: str | None) -> Any:
    """The Keras model at `path` (or the shipped one); a LiteRT file is refused (it only predicts)."""
    from lenet.lite import LiteModel
    from lenet.model_file import load_model

    model = load_model(path)
    if isinstance(model, LiteModel):
        raise ModelError(f"{path}: a LiteRT file only predicts; give the .keras model it was exported from")
    return model


def run_export(arguments: argparse.Namespace) -> int:
    import_tensorflow(arguments)
    from lenet.artifacts import save_json, write_atomically
    from lenet.data import file_sha256, load_mnist
    from lenet.lite import CHECK_SUFFIX, TOLERANCE, to_lite
    from lenet.model_file import SHIPPED_WEIGHTS

    model = keras_model(arguments.model)
    data = load_mnist(arguments.data)
    try:
        lite = to_lite(model, data.x_test)
    except LiteError as error:
        raise LiteError(f"{arguments.out} not written: {error}") from None
    out, check = Path(arguments.out), lite.check
    record = {
        "model": str(arguments.model or "shipped"),
        "model_sha256": file_sha256(Path(arguments.model) if arguments.model else SHIPPED_WEIGHTS),
        "data": {"source": data.source, "fingerprint": data.fingerprint},
        "tolerance": TOLERANCE,
        "check": check,
    }
    write_atomically(out, lambda temporary: temporary.write_bytes(lite.content))
    save_json(out.with_name(out.name + CHECK_SUFFIX), record)
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
        report = {
            "model": str(arguments.model or "shipped"),
            "data": {"source": data.source, "fingerprint": data.fingerprint, "test_size": len(data.y_test)},
            "test": test,
            "per_class_accuracy": [None if value != value else float(value) for value in per_class],
            "confusion_matrix": matrix.tolist(),
        }
        print(json.dumps(report, indent=2))
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


def run_predict(arguments: argparse.Namespace) -> int:
    import numpy as np

    from lenet.images import image_files, load_digit
    from lenet.lite import LITE_SUFFIX
    from lenet.model_file import MODEL_SUFFIXES, load_model, shipped_lite, shipped_lite_matches

    model_path, images = None, arguments.images
    if Path(images[0]).suffix.lower() in MODEL_SUFFIXES:  # `lenet predict MODEL IMAGE...`
        model_path, images = images[0], images[1:]
        if not images:
            raise ConfigError("no images given after the model")
    # The shipped LiteRT file if it was checked against the shipped weights, decided once.
    lite = Path(model_path).suffix.lower() == LITE_SUFFIX if model_path else shipped_lite_matches()
    if not lite:
        import_tensorflow(arguments)  # a Keras model; a LiteRT file predicts without TensorFlow
    model = shipped_lite() if lite and model_path is None else load_model(model_path)
    good: list[Path] = []
    digits: list[np.ndarray] = []
    errors: list[dict[str, str]] = []
    # Files as given, directories replaced by their image files (an empty one stays, to fail).
    inputs = [file for given in map(Path, images) for file in (image_files(given) if given.is_dir() else []) or [given]]
    for path in inputs:
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
            errors += save_prediction_figures(Path(arguments.show), good, digits, probabilities)
    if arguments.json:
        print(json.dumps({"predictions": predictions, "errors": errors}, indent=2))
    elif predictions:
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
    width = max(len("image"), *(len(row["image"]) for row in predictions))
    print(f"{'image':<{width}}  " + ("digit  probability" if top == 1 else f"top {top} (digit probability)"))
    for row in predictions:
        if top == 1:
            print(f"{row['image']:<{width}}  {row['digit']:>5}  {row['probability']:>11.4f}")
        else:
            pairs = "   ".join(f"{entry['digit']} {entry['probability']:.4f}" for entry in row["top"])
            print(f"{row['image']:<{width}}  {pairs}")


def save_prediction_figures(
    directory: Path, paths: list[Path], digits: list[Any], probabilities: Any
) -> list[dict[str, str]]:
    """One figure per image, <stem>.png in `directory` (numbered when stems repeat); the errors."""
    from lenet.artifacts import save_figure
    from lenet.images import read_image
    from lenet.plots import plot_prediction

    errors, used = [], set()
    for path, digit, row in zip(paths, digits, probabilities, strict=True):
        name, number = path.stem, 1
        while name in used:
            number += 1
            name = f"{path.stem}-{number}"
        used.add(name)
        try:
            save_figure(directory / f"{name}.png", plot_prediction(read_image(path), digit, row, title=str(path)))
        except OSError as error:  # the others are still drawn
            fail(error, 1)
            errors.append({"image": str(path), "error": str(error)})
    return errors


def run_plot(arguments: argparse.Namespace) -> int:
    from lenet.artifacts import RESULTS_PNG, load_results, save_figure
    from lenet.plots import plot_history

    results = load_results(Path(arguments.results))
    out = Path(arguments.out) if arguments.out else Path(arguments.results).parent / RESULTS_PNG
    try:
        figure = plot_history(results["history"])
    except (KeyError, TypeError, ValueError) as error:
        raise ResultsError(f"{arguments.results}: history is incomplete or malformed ({error})") from None
    save_figure(out, figure)
    print(f"wrote {out}")
    return 0


def run_reproduce(arguments: argparse.Namespace) -> int:
    from lenet.artifacts import load_results

    try:
        recorded = load_results(Path(arguments.results))
        config = TrainConfig(**recorded["config"])
        source, fingerprint = arguments.data or recorded["data"]["source"], recorded["data"]["fingerprint"]
    except (ValueError, TypeError, KeyError) as error:  # ConfigError and ResultsError are ValueErrors
        raise ResultsError(f"{arguments.results}: not a reproducible lenet results file ({error})") from None
    import_tensorflow(arguments)
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


def run_sweep(arguments: argparse.Namespace) -> int:
    from lenet.sweep import SWEEP_JSON, grid, summary_markdown, sweep

    values = {f.name: getattr(arguments, f.name) for f in dataclasses.fields(TrainConfig)}
    values = {name: value for name, value in values.items() if value is not None}
    if "seed" in values:  # seeds outermost, as the scripts interleave them
        values = {"seed": values.pop("seed"), **values}
    runs = grid(arguments.data.split(","), evaluate_test=arguments.evaluate_test, **values)
    check_output_dir(arguments.out)
    result = sweep(  # RunsFailed (exit code 1) once the other runs are in sweep.json
        runs,
        arguments.out,
        address=arguments.address,
        threads=arguments.threads,
        retries=arguments.retries,
        progress=None if arguments.json else print,
    )
    print(json.dumps(result, indent=2) if arguments.json else summary_markdown(result["summary"]))
    if not arguments.json:
        print(f"wrote {Path(arguments.out) / SWEEP_JSON}")
    return 0
