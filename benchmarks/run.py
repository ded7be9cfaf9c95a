"""LeNet-5 training and inference speed three ways, on the same data, batch size and threads.

    python benchmarks/run.py --data ../shared/data/mnist.npz --out benchmarks/results.json

Paths: (1) `lenet` as the notebook uses it; (2) the original notebook's approach (float64
`x / 255.0` arrays into `model.fit`, default TensorFlow settings, no `lenet` import);
(3) the same LeNet-5 in PyTorch. Each run of a path is a fresh subprocess (so its peak
resident memory is its own), and the paths take turns over `--repeats`. Variants of path 1
used to decide the speed levers: `lenet+spe1` (one step per execution), `lenet+inter1` (one
inter-op thread), `lenet+threads1` (one thread of each kind), `lenet+constant` (images
copied into a TensorFlow constant and gathered there, as lenet did before); of path 2:
`original+onednn0` (TF_ENABLE_ONEDNN_OPTS=0); of path 3: `torch+threads1`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 64
INFERENCE_BATCH = 1024
DEFAULT_PATHS = ("lenet", "original", "torch")
KNOWN_PATHS = (
    *DEFAULT_PATHS, "lenet+spe1", "lenet+inter1", "lenet+threads1", "lenet+constant", "original+onednn0",
    "torch+threads1",
)


# ---------------------------------------------------------------- workers (one per process)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_rate(run, images: int, seconds_at_least: float = 0.0) -> float:
    """Images per second of `run()` (called once to warm up, then timed)."""
    run()
    start, calls = time.perf_counter(), 0
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds_at_least:
            return images * calls / elapsed


def keras_callbacks(start: float, marks: dict[str, float]):
    """A callback that notes when the first training step begins and each epoch's seconds."""
    import keras

    class Marks(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            marks.setdefault("first_step", time.perf_counter() - start)

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            marks.setdefault("epochs", []).append(time.perf_counter() - self._epoch_start)

    return Marks()


def set_tf_threads(threads: int, inter: int | None = None) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(inter or threads)


def worker_lenet(args: argparse.Namespace, variant: str, start: float) -> dict[str, Any]:
    import dataclasses

    import lenet
    from lenet import training

    if variant == "threads1":
        set_tf_threads(1)
    else:
        set_tf_threads(args.threads, 1 if variant == "inter1" else None)
    if variant == "spe1":
        training.MAX_STEPS_PER_EXECUTION = 1
    if variant == "constant":
        # lenet's earlier input pipelines: the images copied into TensorFlow, not shared.
        import tensorflow as tf

        training.shared_tensor = tf.constant
    config = lenet.TrainConfig(epochs=args.epochs, batch_size=BATCH_SIZE)
    data, split = lenet.prepare_data(args.data, config)
    if args.train_limit:
        split = dataclasses.replace(
            split, x_train=split.x_train[: args.train_limit], y_train=split.y_train[: args.train_limit]
        )
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    marks: dict[str, Any] = {}
    # As the notebook calls it: a checkpoint after every epoch, so an interrupted run resumes.
    with tempfile.TemporaryDirectory() as output_dir:
        history = lenet.fit(
            model, split, config, verbose=0, callbacks=[keras_callbacks(start, marks)],
            checkpoint_dir=lenet.checkpoint_dir(output_dir),
        )
    result = {
        "train_images": len(split.y_train),
        "epoch_seconds": marks["epochs"],
        "first_step_seconds": marks["first_step"],
        "peak_rss_mib": peak_rss_mib(),
        "val_accuracy": history["val_accuracy"][-1],
        "history": {name: values for name, values in history.items() if name != "seconds"},
        "steps_per_execution": model.steps_per_execution,
    }
    x_test = split.x_test
    result["inference_1024"] = timed_rate(lambda: lenet.predict_probabilities(model, x_test), len(x_test), 2)
    singles = [x_test[i : i + 1, ..., None] for i in range(args.singles)]
    result["inference_1"] = timed_rate(lambda: [model.predict_on_batch(x) for x in singles], len(singles))
    return result


def original_model():
    """LeNet-5 as the original notebook builds it: no rescaling layer, softmax output."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2, strides=2),
            layers.Conv2D(16, 5, padding="valid", activation="relu"),
            layers.MaxPooling2D(2, strides=2),
            layers.Conv2D(120, 5, activation="relu"),
            layers.Flatten(),
            layers.Dense(84, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def worker_original(args: argparse.Namespace, variant: str, start: float) -> dict[str, Any]:
    import numpy as np
    import tensorflow as tf  # noqa: F401  (the import is part of the start-up time)

    set_tf_threads(args.threads)
    with np.load(args.data) as archive:  # what keras.datasets.mnist.load_data() reads
        x_train, y_train = archive["x_train"], archive["y_train"]
        x_test, y_test = archive["x_test"], archive["y_test"]
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]
    x_train = x_train.reshape(-1, 28, 28, 1) / 255.0  # float64, as in the original
    x_test = x_test.reshape(-1, 28, 28, 1) / 255.0
    model = original_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    marks: dict[str, Any] = {}
    history = model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=BATCH_SIZE,
        validation_data=(x_test, y_test), callbacks=[keras_callbacks(start, marks)], verbose=0,
    )
    result = {
        "train_images": len(y_train),
        "epoch_seconds": marks["epochs"],
        "first_step_seconds": marks["first_step"],
        "peak_rss_mib": peak_rss_mib(),
        "val_accuracy": float(history.history["val_accuracy"][-1]),
    }
    result["inference_1024"] = timed_rate(
        lambda: model.predict(x_test, batch_size=INFERENCE_BATCH, verbose=0), len(x_test), 2
    )
    singles = [x_test[i : i + 1] for i in range(args.singles)]
    result["inference_1"] = timed_rate(lambda: [model.predict_on_batch(x) for x in singles], len(singles))
    return result


def worker_torch(args: argparse.Namespace, variant: str, start: float) -> dict[str, Any]:
    import numpy as np
    import torch
    from torch import nn

    threads = 1 if variant == "threads1" else args.threads
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(42)
    with np.load(args.data) as archive:
        x_all, y_all = archive["x_train"], archive["y_train"]
        x_test = archive["x_test"]
    # The same split as lenet: the last 5,000 training images validate.
    x_train, y_train, x_val, y_val = x_all[:-5000], y_all[:-5000], x_all[-5000:], y_all[-5000:]
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]

    def tensor(images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(images).float().div_(255).unsqueeze(1)

    x_train, x_val, x_test = tensor(x_train), tensor(x_val), tensor(x_test)
    y_train, y_val = torch.from_numpy(y_train.astype(np.int64)), torch.from_numpy(y_val.astype(np.int64))
    model = torch_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(42)
    epochs, first_step, val_accuracy = [], None, 0.0
    for _epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        for begin in range(0, len(y_train), BATCH_SIZE):
            if first_step is None:
                first_step = time.perf_counter() - start
            index = order[begin : begin + BATCH_SIZE]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.inference_mode():
            correct = sum(
                int((model(x_val[i : i + INFERENCE_BATCH]).argmax(1) == y_val[i : i + INFERENCE_BATCH]).sum())
                for i in range(0, len(y_val), INFERENCE_BATCH)
            )
        val_accuracy = correct / len(y_val)
        epochs.append(time.perf_counter() - epoch_start)
    result = {
        "train_images": len(y_train),
        "epoch_seconds": epochs,
        "first_step_seconds": first_step,
        "peak_rss_mib": peak_rss_mib(),
        "val_accuracy": val_accuracy,
    }

    def predict_all() -> None:
        with torch.inference_mode():
            for i in range(0, len(x_test), INFERENCE_BATCH):
                model(x_test[i : i + INFERENCE_BATCH]).softmax(1)

    singles = [x_test[i : i + 1] for i in range(args.singles)]

    def predict_singles() -> None:
        with torch.inference_mode():
            for x in singles:
                model(x).softmax(1)

    result["inference_1024"] = timed_rate(predict_all, len(x_test), 2)
    result["inference_1"] = timed_rate(predict_singles, len(singles))
    return result


def torch_model():
    """The same LeNet-5 in PyTorch: the layers of lenet.build_lenet5, logits out."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


WORKERS = {"lenet": worker_lenet, "original": worker_original, "torch": worker_torch}


def run_worker(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    path, _, variant = args.worker.partition("+")
    result = WORKERS[path](args, variant, start)
    timed = result["epoch_seconds"][1:]  # the first epoch is the warm-up
    result["images_per_second"] = result["train_images"] * len(timed) / sum(timed)
    result["seconds_per_epoch"] = statistics.median(timed)
    print(json.dumps(result))


# ---------------------------------------------------------------- the driver


def worker_env(path: str) -> dict[str, str]:
    """The environment of one path's process: the worktree's lenet, TF quiet, oneDNN as asked."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)  # default settings unless a path says otherwise
    if path == "original+onednn0":
        env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    if path.startswith("torch"):
        # PyTorch's OpenMP threads spin at every barrier by default; on a machine shared with
        # other jobs a descheduled thread then stalls each op (measured: 415 vs 16 ms/step).
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def run_path(path: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", path, "--data", str(args.data),
        "--epochs", str(args.epochs), "--threads", str(args.threads), "--singles", str(args.singles),
        "--train-limit", str(args.train_limit),
    ]
    load_before = os.getloadavg()
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, env=worker_env(path), timeout=args.timeout
        )
    except subprocess.TimeoutExpired:
        return {"timed_out": args.timeout, "load_before": load_before, "load_after": os.getloadavg()}
    if completed.returncode != 0:
        sys.exit(f"benchmarks/run.py: path {path} failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["load_before"], result["load_after"] = load_before, os.getloadavg()
    return result


def machine_info() -> dict[str, Any]:
    from importlib import metadata

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(),
        **{package: version(package) for package in ("tensorflow", "keras", "numpy", "torch")},
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeats; the spread of throughput; whether training numbers repeated."""
    timed_out = sum("timed_out" in run for run in runs)
    runs = [run for run in runs if "timed_out" not in run]
    if not runs:
        return {"timed_out_runs": timed_out}
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    summary = {key: median(key) for key in (
        "images_per_second", "seconds_per_epoch", "peak_rss_mib", "first_step_seconds",
        "inference_1", "inference_1024", "val_accuracy",
    )}
    summary["images_per_second_range"] = [min(r["images_per_second"] for r in runs),
                                          max(r["images_per_second"] for r in runs)]
    if "history" in runs[0]:
        summary["identical_reruns"] = all(run["history"] == runs[0]["history"] for run in runs)
    summary["timed_out_runs"] = timed_out
    return summary


def table(summaries: dict[str, dict[str, Any]]) -> str:
    header = ("| path | train img/s (min-max) | s/epoch | peak RSS MiB | import to 1st step s "
              "| infer img/s b1 | infer img/s b1024 | val acc |")
    lines = [header, "|" + "---|" * 8]
    for path, s in summaries.items():
        if "images_per_second" not in s:
            lines.append(f"| {path} | every run timed out | | | | | | |")
            continue
        low, high = s["images_per_second_range"]
        lines.append(
            f"| {path} | {s['images_per_second']:,.0f} ({low:,.0f}-{high:,.0f}) | "
            f"{s['seconds_per_epoch']:.2f} | {s['peak_rss_mib']:,.0f} | {s['first_step_seconds']:.1f} | "
            f"{s['inference_1']:,.0f} | {s['inference_1024']:,.0f} | {s['val_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, float]:
    out = {}
    summaries = {path: s for path, s in summaries.items() if "images_per_second" in s}
    if "lenet" in summaries and "original" in summaries:
        lenet, original = summaries["lenet"], summaries["original"]
        out["throughput_lenet_over_original"] = lenet["images_per_second"] / original["images_per_second"]
        out["peak_rss_lenet_over_original"] = lenet["peak_rss_mib"] / original["peak_rss_mib"]
    if "lenet" in summaries and "torch" in summaries:
        out["throughput_lenet_over_torch"] = (
            summaries["lenet"]["images_per_second"] / summaries["torch"]["images_per_second"]
        )
    return out


def print_report(results: dict[str, Any]) -> None:
    print(table(results["summary"]))
    for name, value in results["ratios"].items():
        print(f"{name}: {value:.2f}")
    before, after = results["load_average_before"], results["load_average_after"]
    print("load average (1, 5, 15 min): before " + ", ".join(f"{v:.2f}" for v in before)
          + "; after " + ", ".join(f"{v:.2f}" for v in after))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared/data/mnist.npz",
                        help="Keras-layout mnist.npz shared by every path")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each path, interleaved")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is warm-up")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="intra- and inter-op threads for TensorFlow and PyTorch (default: cores)")
    parser.add_argument("--paths", default=",".join(DEFAULT_PATHS),
                        help=f"comma-separated, of {', '.join(KNOWN_PATHS)}")
    parser.add_argument("--singles", type=int, default=500, help="images timed at batch size 1")
    parser.add_argument("--train-limit", type=int, default=0, help="train on the first N images (0: all)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per run")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 repeat, 2 epochs, 6,400 training images, 50 single images")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--table", type=Path, help="only print the table of an earlier --out file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.train_limit, args.singles = 1, 2, 6400, 50
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is warm-up")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    if args.table:
        return print_report(json.loads(args.table.read_text()))
    if not args.data.is_file():
        sys.exit(f"{args.data}: no such file (pass --data path/to/mnist.npz)")
    paths = args.paths.split(",")
    unknown = [path for path in paths if path not in KNOWN_PATHS]
    if unknown:
        sys.exit(f"benchmarks/run.py: unknown path(s) {', '.join(unknown)}; known: {', '.join(KNOWN_PATHS)}")
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    for repeat in range(args.repeats):
        for path in paths:
            runs[path].append(run_path(path, args))
            last = runs[path][-1]
            speed = f"{last['images_per_second']:,.0f} img/s" if "timed_out" not in last else "timed out"
            print(f"repeat {repeat + 1} {path}: {speed}, load {last['load_before'][0]:.2f}",
                  file=sys.stderr, flush=True)
    summaries = {path: summarise(path_runs) for path, path_runs in runs.items()}
    results = {
        "settings": {key: (str(value) if isinstance(value, Path) else value)
                     for key, value in vars(args).items() if key != "worker"},
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "summary": summaries,
        "ratios": ratios(summaries),
        "runs": runs,
    }
    print_report(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
