"""The 1998 paper's table, reproduced: LeNet-5 (variant lenet5-1998) trained by SDLM, 0.95% test error in the
paper, 0.8% with distorted training digits; here over seeds, each run on its own.

    python scripts/paper_1998.py --jobs 2          # seeds 0 1 2, without and with distortions, full MNIST

Each run is `lenet.train_and_evaluate` into RUNS/NAME, so an interrupted run resumes after its last finished pass;
runs already in --out are skipped. After every pass a callback measures the error on the undistorted training
set and on the test set, for the error-against-passes figure only (the paper's Fig. 5): nothing is chosen on it,
and the reported test error is the last pass's. Written to RUNS/NAME/per_pass.json as it goes (a resumed run keeps
its earlier passes) and into --out, atomically, after each finished run, with the figure beside it (--out's
name with .png) and, at the end, the table (tools/report.py: paper_markdown) on stdout. --jobs N runs N at a time, each in a fresh
process of its own (one core each under lenet's pins).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # lenet from this checkout

RECIPES = {False: "sdlm-1998", True: "sdlm-1998-distorted"}  # distortions -> recipe
PER_PASS = "per_pass.json"


def run_name(seed: int, distortions: bool, mu: float | None = None) -> str:
    return f"seed-{seed}" + ("_distorted" if distortions else "") + (f"_mu{mu:g}" if mu is not None else "")


def train_one(
    seed: int, distortions: bool, data: str, epochs: int | None, runs: str, mu: float | None = None
) -> dict[str, Any]:
    """One run, resumed if it was interrupted; its entry of the report. Runs in a worker process."""
    import json

    import keras

    import lenet
    from lenet import sdlm
    from lenet.artifacts import save_json

    if mu is not None:  # a labelled extra row, not the paper's setting: its process only, recorded in the entry
        sdlm.MU = mu
    output_dir = Path(runs) / run_name(seed, distortions, mu)
    per_pass_file = output_dir / PER_PASS
    settings = {"epochs": epochs} if epochs else {}
    config = lenet.TrainConfig(variant="lenet5-1998", recipe=RECIPES[distortions], seed=seed, **settings)
    _, split = lenet.prepare_data(data, config)
    try:
        per_pass = json.loads(per_pass_file.read_text())
    except (OSError, ValueError):
        per_pass = {"train_error": [], "test_error": []}

    class ErrorPerPass(keras.callbacks.Callback):
        """The errors after each pass, on the undistorted training set and the test set (for the figure only)."""

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for name, x, y in (
                ("train_error", split.x_train, split.y_train),
                ("test_error", split.x_test, split.y_test),
            ):
                del per_pass[name][epoch:]  # a pass run again after an interruption replaces its record
                per_pass[name].append(1.0 - lenet.evaluate(self.model, x, y)["accuracy"])
            save_json(per_pass_file, per_pass)

    output_dir.mkdir(parents=True, exist_ok=True)
    finished = output_dir / "results.json"  # trained before, but the report was not written: not again
    if finished.is_file() and len(per_pass["test_error"]) == len(lenet.load_results(finished)["history"]["loss"]):
        results = lenet.load_results(finished)
    else:
        results = lenet.train_and_evaluate(config, data, output_dir, verbose=0, callbacks=[ErrorPerPass()])
    return {
        "seed": seed,
        "distortions": distortions,
        "recipe": config.recipe,
        "mu": sdlm.MU,
        "test_error": 1.0 - results["test"]["accuracy"],
        "train_error": per_pass["train_error"][-1],
        "history": {
            "train_error": per_pass["train_error"],
            "test_error": per_pass["test_error"],
            "loss": results["history"]["loss"],
        },
        "seconds_per_pass": results["seconds_per_epoch"],
        "data": results["data"],
        "config": results["config"],
        "environment": results["environment"],
    }


def error_figure(report: dict[str, Any]) -> Any:
    """Error against passes (the paper's Fig. 5): training (dashed) and test error of every run, one panel without
    distortions and one with, the paper's final test error as a line."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from tools.report import PAPER_1998_TEST_ERROR

    figure = Figure(figsize=(11, 4), layout="constrained")
    for axes, distortions in zip(figure.subplots(1, 2, sharey=True), (False, True), strict=True):
        for run in (run for run in report["runs"] if run["distortions"] is distortions):
            history = run["history"]
            passes = range(1, len(history["test_error"]) + 1)
            (line,) = axes.plot(passes, [100 * error for error in history["test_error"]], label=f"seed {run['seed']}")
            axes.plot(passes, [100 * error for error in history["train_error"]], "--", color=line.get_color())
        axes.axhline(100 * PAPER_1998_TEST_ERROR[distortions], color="black", lw=0.8, label="the paper's test error")
        title = "with distortions" if distortions else "without distortions"
        axes.set(title=f"LeNet-5, {title}", xlabel="pass", ylabel="error (%): test solid, training dashed")
        axes.set(yscale="log")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize=8)
    return figure


def load_report(path: Path) -> dict[str, Any]:
    import json

    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"runs": []}
    return report if isinstance(report.get("runs"), list) else {"runs": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras (full MNIST), sample or a path (default: keras)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="default: 0 1 2")
    parser.add_argument(
        "--distortions", choices=["both", "without", "with"], default="both", help="which rows (default: both)"
    )
    parser.add_argument("--epochs", type=int, help="passes per run (default: the recipe's)")
    parser.add_argument(
        "--mu", type=float, help="SDLM's mu instead of the paper's 0.02: a labelled extra row, give it its own --out"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process (default: 1)")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "paper_1998"), help="the runs' directories")
    parser.add_argument("--out", default=str(ROOT / "reports" / "paper_1998.json"), help="the report")
    args = parser.parse_args()

    from lenet.artifacts import save_figure, save_json
    from tools.report import paper_markdown

    out = Path(args.out)
    report = load_report(out)
    if any(run.get("mu", 0.02) != (args.mu or 0.02) for run in report["runs"]):
        parser.error(f"{out} holds runs with another mu: give this one its own --out")
    done = {(run["seed"], run["distortions"]) for run in report["runs"]}
    rows = {"both": (False, True), "without": (False,), "with": (True,)}[args.distortions]
    todo = [(seed, distortions) for distortions in rows for seed in args.seeds if (seed, distortions) not in done]
    for seed, distortions in sorted(done):
        print(f"{run_name(seed, distortions)}: finished before, kept")
    report["command"] = " ".join(["python scripts/paper_1998.py", *sys.argv[1:]])
    # A fresh process per run (spawned, one task each): its own TensorFlow, as `lenet train` would have.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {
            pool.submit(train_one, seed, distortions, args.data, args.epochs, args.runs, args.mu): (seed, distortions)
            for seed, distortions in todo
        }
        for future in concurrent.futures.as_completed(futures):
            entry = future.result()
            report["runs"] = sorted([*report["runs"], entry], key=lambda run: (run["distortions"], run["seed"]))
            save_json(out, report)
            save_figure(out.with_suffix(".png"), error_figure(report))
            print(
                f"{run_name(entry['seed'], entry['distortions'], args.mu)}: test error {entry['test_error']:.2%}",
                flush=True,
            )
    print(paper_markdown(report))


if __name__ == "__main__":
    main()
