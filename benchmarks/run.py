"""LeNet-5 training and inference speed three ways, on the same data, batch size and threads.

    python benchmarks/run.py --data path/to/mnist.npz --out benchmarks/results.json

Paths: (1) `lenet` as the notebook uses it, at lenet's defaults (one intra-op thread, oneDNN
capped at AVX2: lenet/reproducibility.py's pins);
(2) the original notebook's approach (float64 `x / 255.0` arrays into `model.fit`, default
TensorFlow settings, no `lenet` import); (3) the same LeNet-5 in PyTorch. Every path runs at
its framework's defaults (for PyTorch: its OpenMP threads spin, `OMP_WAIT_POLICY` unset). Each
run of a path is a fresh subprocess (so its peak resident memory is its own), and the paths
take turns over `--repeats` (default 5). Each ratio is the median of the per-repeat ratios
(the two paths of one repeat ran minutes apart, under the same load), with their min-max.

Labelled extra rows, never the headline: `torch+passive` (`OMP_WAIT_POLICY=PASSIVE`,
PyTorch's best setting on a machine shared with other jobs); `lenet+unpinned` (lenet before
issue 19's pins: TensorFlow's default of one intra-op thread per core, oneDNN's best
instruction set); `lenet+recipe=NAME` (lenet with `TrainConfig(recipe=NAME)`;
`lenet+recipe=original` is a default row, so the default recipe's cost comes from the same
run); `lenet+inter1` (one inter-op thread too);
`original+onednn0` (TF_ENABLE_ONEDNN_OPTS=0); `torch+threads1`.
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
sys.path.insert(0, str(REPO_ROOT))  # the driver reads lenet's pins and data (never in a worker of another path)
BATCH_SIZE = 64
INFERENCE_BATCH = 1024
# The headline paths (lenet, original, torch), with the labelled extra rows every full run also measures:
# lenet's original recipe (so the default recipe's cost comes from the same run), PyTorch's shared-machine
# setting and lenet without its pins.
DEFAULT_PATHS = ("lenet", "lenet+recipe=original", "original", "torch", "torch+passive", "lenet+unpinned")
KNOWN_VARIANTS = {
    "lenet": ("unpinned", "inter1"),  # and recipe=NAME
    "original": ("onednn0",),
    "torch": ("passive", "threads1"),
}


def known_path(path: str) -> bool:
    name, _, variant = path.partition("+")
    if name not in KNOWN_VARIANTS:
        return False
    return not variant or variant in KNOWN_VARIANTS[name] or (name == "lenet" and variant.startswith("recipe="))


# ---------------------------------------------------------------- workers (one per process)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def training_result(images: int, epoch_seconds: list[float], first_step: float, val_accuracy: float) -> dict[str, Any]:
    """What every path reports of its training, with the process's peak memory once it has trained."""
    return {"train_images": images, "epoch_seconds": epoch_seconds, "first_step_seconds": first_step,
            "peak_rss_mib": peak_rss_mib(), "val_accuracy": float(val_accuracy)}


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

    import tensorflow as tf

    # lenet's own thread settings (its environment, see `worker_env`); only inter1 changes one.
    if variant == "inter1":
        tf.config.threading.set_inter_op_parallelism_threads(1)
    recipe = {"recipe": variant.removeprefix("recipe=")} if variant.startswith("recipe=") else {}
    config = lenet.TrainConfig(epochs=args.epochs, batch_size=BATCH_SIZE, **recipe)
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
        **training_result(len(split.y_train), marks["epochs"], marks["first_step"], history["val_accuracy"][-1]),
        "history": {name: values for name, values in history.items() if name != "seconds"},
        "steps_per_execution": model.steps_per_execution,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
    }
    x_test = split.x_test
    result["inference_1024"] = timed_rate(lambda: lenet.predict_probabilities(model, x_test), len(x_test), 2)
    # One image per call through lenet's API, as `lenet predict` and a drawing-pad demo call it:
    # the trained model exported to LiteRT (what `lenet export` writes, checked on the test
    # set), and, as a second figure, the Keras model itself.
    singles = [x_test[i : i + 1] for i in range(args.singles)]
    lite = lenet.to_lite(model, x_test)
    result["lite_check"] = lite.check
    result["inference_1"] = timed_rate(lambda: [lenet.predict_probabilities(lite, x) for x in singles], len(singles))
    result["inference_1_keras"] = timed_rate(
        lambda: [lenet.predict_probabilities(model, x) for x in singles], len(singles)
    )
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
    result = training_result(len(y_train), marks["epochs"], marks["first_step"], history.history["val_accuracy"][-1])
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
    # The same split as lenet: the last 5,000 training images validate (a tenth of fewer).
    cut = len(y_all) - min(5000, len(y_all) // 10)
    x_train, y_train, x_val, y_val = x_all[:cut], y_all[:cut], x_all[cut:], y_all[cut:]
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
    result = training_result(len(y_train), epochs, first_step, val_accuracy)

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


def omp_wait_policy(path: str) -> str | None:
    """OMP_WAIT_POLICY of a path's process: unset (the default) except for `torch+passive`."""
    return "PASSIVE" if path == "torch+passive" else None


def worker_env(path: str) -> dict[str, str]:
    """The environment of one path's process: the worktree's lenet, TF quiet, defaults otherwise."""
    from lenet.reproducibility import PINS  # lenet's own pins (no TensorFlow import)

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)  # default settings unless a path says otherwise
    env.pop("OMP_WAIT_POLICY", None)
    if path.startswith("lenet"):
        if path == "lenet+unpinned":  # explicit values, so lenet's own pins cannot apply
            env.update(TF_NUM_INTRAOP_THREADS=str(os.cpu_count()), ONEDNN_MAX_CPU_ISA="ALL")
        for name, value in PINS.items():  # as lenet sets them at import (a user's value wins), recorded
            env.setdefault(name, value)
    else:  # the other frameworks at their own defaults
        for name in PINS:
            env.pop(name, None)
    if path == "original+onednn0":
        env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    if omp_wait_policy(path):
        # PyTorch's OpenMP threads spin at every barrier by default; on a machine shared with
        # other jobs a descheduled thread then stalls each op (measured: 415 vs 16 ms/step).
        env["OMP_WAIT_POLICY"] = omp_wait_policy(path)
    return env


def busy_cpu_seconds() -> float:
    """CPU seconds all processes of this machine have spent busy since boot (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_path(path: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", path, "--data", str(args.data),
        "--epochs", str(args.epochs), "--threads", str(args.threads), "--singles", str(args.singles),
        "--train-limit", str(args.train_limit),
    ]
    load_before = os.getloadavg()
    busy, own, wall = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
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
    # Cores kept busy by other jobs while this run ran: all busy CPU time less this run's own.
    others = (busy_cpu_seconds() - busy) - (children_cpu_seconds() - own)
    result["other_jobs_cores"] = max(0.0, others) / (time.perf_counter() - wall)
    result["omp_wait_policy"] = omp_wait_policy(path) or "unset (default)"
    names = ("TF_NUM_INTRAOP_THREADS", "ONEDNN_MAX_CPU_ISA", "OMP_WAIT_POLICY")
    result["environment"] = {name: worker_env(path).get(name) for name in names}
    return result


def machine_info() -> dict[str, Any]:
    from importlib import metadata

    from lenet.reproducibility import cpuinfo

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    first = cpuinfo()  # the first processor's
    flags = first.get("flags", "").split()
    return {
        "cpu": first.get("model name", platform.processor()),
        "cpu_vendor_family_model": [first.get(key) for key in ("vendor_id", "cpu family", "model")],
        # Vector units the kernels can use; ratios between frameworks differ between CPU kinds.
        "cpu_features": [flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if flag in flags],
        "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(),
        **{package: version(package) for package in ("tensorflow", "keras", "numpy", "torch")},
    }


def data_fingerprint(path: Path) -> str:
    """lenet's sha256 over the file's four arrays (what results.json calls the fingerprint)."""
    from lenet.data import load_mnist  # NumPy only, no TensorFlow

    return load_mnist(str(path)).fingerprint


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
    summary["omp_wait_policy"] = runs[0]["omp_wait_policy"]
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


# (name, numerator path, denominator path, measure, target or None): the ratios a run reports
# where both paths ran; "a:b" divides the numerator's a by the denominator's b. The targets are issue 31's: the first
# four are the headline, then the extra rows, then memory (at most).
RATIOS = (
    ("train lenet / torch", "lenet", "torch", "images_per_second", 1.3),
    ("train lenet / original", "lenet", "original", "images_per_second", 1.5),
    ("train default recipe / original recipe", "lenet", "lenet+recipe=original", "images_per_second", 0.95),
    ("one image lenet / torch", "lenet", "torch", "inference_1", 1.0),
    ("train lenet / lenet+unpinned", "lenet", "lenet+unpinned", "images_per_second", 1.0),
    ("train lenet / torch+passive", "lenet", "torch+passive", "images_per_second", None),
    ("one image lenet / torch+passive", "lenet", "torch+passive", "inference_1", None),
    ("one image lenet's Keras model / torch", "lenet", "torch", "inference_1_keras:inference_1", None),
    ("batch 1024 lenet / torch", "lenet", "torch", "inference_1024", None),
    ("peak RSS lenet / original", "lenet", "original", "peak_rss_mib", 0.55),
)
# Ratios whose target is a ceiling: lower is better.
AT_MOST = {"peak RSS lenet / original"}
# A ratio whose per-repeat values spread more than this around their median is flagged.
SPREAD_LIMIT = 0.10
# Above this 1-minute load average the machine was not quiet, and the output says so.
LOAD_LIMIT = 0.5


def ratios(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each ratio as the median of its per-repeat ratios, with their min-max and spread.

    Repeat r of the numerator is divided by repeat r of the denominator: the two ran one
    after the other, so load that comes and goes falls on both, and one slow repeat moves
    one of the ratios instead of a median.
    """
    results = {}
    for name, top, bottom, measure, target in RATIOS:
        top_measure, _, bottom_measure = measure.partition(":")
        pairs = zip(runs.get(top, []), runs.get(bottom, []), strict=False)
        values = [a[top_measure] / b[bottom_measure or top_measure] for a, b in pairs
                  if top_measure in a and (bottom_measure or top_measure) in b]
        if not values:
            continue
        median = statistics.median(values)
        results[name] = {
            "median": median, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / median, "per_repeat": values, "target": target,
        }
    return results


def warnings(results: dict[str, Any]) -> list[str]:
    """What makes a run's ratios less trustworthy: load from other jobs, wide spreads."""
    notes = []
    loads = [run["load_before"][0] for path_runs in results["runs"].values() for run in path_runs]
    before = results["load_average_before"][0]
    if before > LOAD_LIMIT or max(loads, default=0) > LOAD_LIMIT:
        notes.append(
            f"load average above {LOAD_LIMIT}: {before:.2f} before the benchmark, up to "
            f"{max(loads, default=0):.2f} before a run (the benchmark's own previous run included)"
        )
    others = [run["other_jobs_cores"] for path_runs in results["runs"].values() for run in path_runs
              if "other_jobs_cores" in run]
    if others and statistics.median(others) > LOAD_LIMIT:
        notes.append(f"other jobs kept {statistics.median(others):.2f} cores busy during the median run "
                     f"(max {max(others):.2f})")
    for name, ratio in results["ratios"].items():
        if isinstance(ratio, dict) and ratio["spread"] > SPREAD_LIMIT:
            notes.append(f"{name}: the repeats spread {ratio['spread']:.0%} (more than {SPREAD_LIMIT:.0%})")
    return notes


def print_report(results: dict[str, Any]) -> None:
    machine = results["machine"]
    features = ", ".join(flag.upper() for flag in machine.get("cpu_features", []))
    print(f"{machine['cpu']} ({machine['cores']} cores; {features}), "
          f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, PyTorch {machine['torch']}")
    print(table(results["summary"]))
    print(f"\nratios: median of {results.get('repeats_done', results['settings']['repeats'])} per-repeat ratios (min-max)")
    for name, ratio in results["ratios"].items():
        if not isinstance(ratio, dict):  # a results file from before per-repeat ratios
            print(f"{name}: {ratio:.2f} (of the medians)")
            continue
        at_most, target = name in AT_MOST, ratio["target"]
        met = target is not None and (ratio["median"] <= target if at_most else ratio["median"] >= target)
        verdict = "" if target is None else (
            f"; target {'at most ' if at_most else ''}{target:g}x: {'met' if met else 'missed'}")
        pairs = len(ratio["per_repeat"])  # fewer than the repeats where a run timed out
        print(f"{name}: {ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f}, {pairs} pairs){verdict}")
    before, after = results["load_average_before"], results["load_average_after"]
    print("load average (1, 5, 15 min): before " + ", ".join(f"{v:.2f}" for v in before)
          + "; after " + ", ".join(f"{v:.2f}" for v in after))
    for note in results.get("warnings", []):
        print(f"NOTE: {note}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="Keras-layout mnist.npz shared by every path")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each path, interleaved")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is warm-up")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="intra- and inter-op threads for TensorFlow and PyTorch (default: cores)")
    parser.add_argument("--paths", help=f"comma-separated (default: {', '.join(DEFAULT_PATHS)}); see the docstring")
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
        results = json.loads(args.table.read_text())
        results["ratios"], results["warnings"] = ratios(results["runs"]), []
        results["warnings"] = warnings(results)
        return print_report(results)
    if args.data is None or not args.data.is_file():
        sys.exit(f"{args.data}: no such file (pass --data path/to/mnist.npz)")
    paths = args.paths.split(",") if args.paths else list(DEFAULT_PATHS)
    unknown = [path for path in paths if not known_path(path)]
    if unknown:
        sys.exit(f"benchmarks/run.py: unknown path(s) {', '.join(unknown)}; see its docstring")
    args.paths = ",".join(paths)
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    for repeat in range(args.repeats):
        for path in paths:
            runs[path].append(run_path(path, args))
            last = runs[path][-1]
            speed = f"{last['images_per_second']:,.0f} img/s" if "timed_out" not in last else "timed out"
            print(f"repeat {repeat + 1} {path}: {speed}, load {last['load_before'][0]:.2f}",
                  file=sys.stderr, flush=True)
        if args.out:  # after every repeat, so an interrupted benchmark keeps the repeats it finished
            args.out.write_text(json.dumps(collect(args, runs, load_before, repeat + 1), indent=1) + "\n")
    results = collect(args, runs, load_before, args.repeats)
    print_report(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


def collect(args: argparse.Namespace, runs: dict[str, list[dict[str, Any]]], load_before, repeats_done: int):
    """The results file: settings, machine, load, per-path summaries, ratios, notes, every run."""
    summaries = {path: summarise(path_runs) for path, path_runs in runs.items()}
    results: dict[str, Any] = {
        # The data by content, not by where this machine keeps it.
        "settings": {"data_fingerprint": data_fingerprint(args.data),
                     **{key: (str(value) if isinstance(value, Path) else value)
                        for key, value in vars(args).items() if key not in ("worker", "data", "out")}},
        "repeats_done": repeats_done,
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "summary": summaries,
        "ratios": ratios(runs),
        "runs": runs,
    }
    results["warnings"] = warnings(results)
    return results

if __name__ == "__main__":
    main()
