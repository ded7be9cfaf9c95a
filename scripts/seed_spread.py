"""How much does the recipe's test accuracy depend on the seed? Train it once per seed.

    python scripts/seed_spread.py --data ../shared/data/mnist.npz

Each seed runs in a fresh process (as the notebook would), through lenet.train_and_evaluate,
writing its artifacts to RUNS/seed-N; the summary goes to --out as JSON, and its table
(lenet.report.spread_markdown) to stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train_one(seed: int, data: str, output_dir: str) -> None:
    import lenet

    lenet.train_and_evaluate(lenet.TrainConfig(seed=seed), data, output_dir, verbose=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras, sample or a path (default: keras)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 42], help="default: 0 1 2 42")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "seeds"), help="where each run's artifacts go")
    parser.add_argument("--out", default=str(ROOT / "reports" / "seed_spread.json"), help="summary JSON")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    runs = []
    for seed in args.seeds:
        output_dir = Path(args.runs) / f"seed-{seed}"
        process = context.Process(target=train_one, args=(seed, args.data, str(output_dir)))
        process.start()
        process.join()
        if process.exitcode != 0:
            sys.exit(f"seed {seed}: training failed with exit code {process.exitcode}")
        results = json.loads((output_dir / "results.json").read_text())
        runs.append(
            {
                "seed": seed,
                "test_accuracy": results["test"]["accuracy"],
                "test_loss": results["test"]["loss"],
                "seconds_per_epoch": statistics.median(results["seconds_per_epoch"]),
                "val_accuracy": results["history"]["val_accuracy"],
            }
        )
    accuracies = [run["test_accuracy"] for run in runs]
    spread = {
        "command": "python scripts/seed_spread.py " + " ".join(sys.argv[1:]),
        "data": results["data"],
        "config": {key: value for key, value in results["config"].items() if key != "seed"},
        "environment": results["environment"],
        "runs": runs,
        "summary": {
            "n": len(runs),
            "mean": statistics.mean(accuracies),
            "std": statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
            "min": min(accuracies),
            "max": max(accuracies),
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(spread, indent=2) + "\n")

    from lenet.report import spread_markdown

    print(spread_markdown(spread))


if __name__ == "__main__":
    main()
