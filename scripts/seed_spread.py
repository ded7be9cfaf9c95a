"""How much does the recipe's test accuracy depend on the seed? Train it once per seed.

    python scripts/seed_spread.py --data keras [--recipe original]

A thin caller of `lenet sweep` (lenet/sweep.py): each seed is a run in a fresh Ray worker
process, on this machine or on a cluster (--address), with its artifacts in RUNS/runs/NAME
and the sweep's own record in RUNS/sweep.json. The seed-spread summary goes to --out (default
reports/seed_spread_RECIPE.json) as JSON, and its table (tools/report.py: spread_markdown) to stdout.
"""

from __future__ import annotations

import argparse
from typing import Any

from common import parse_study, run_study, write_report

from lenet.config import RECIPES, TrainConfig
from lenet.sweep import grid
from tools.report import run_summary, spread_markdown


def report(args: argparse.Namespace, study: dict[str, Any]) -> dict[str, Any]:
    """The seed spread from the sweep's record: one group (one data source, one recipe), its test accuracies."""
    [group] = study["summary"]
    results = [entry["results"] for entry in study["runs"]]
    return {
        # The data by its recorded name, never a folder of this machine (--runs, --out change no number).
        "command": f"python scripts/seed_spread.py --recipe {args.recipe} --data {results[0]['data']['source']} "
        f"--seeds {' '.join(map(str, args.seeds))}" + ("" if args.epochs is None else f" --epochs {args.epochs}"),
        "data": results[0]["data"],
        "config": group["config"],
        "environment": results[0]["environment"],
        "runs": [run_summary(result) for result in results],
        "summary": group["test_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=TrainConfig().recipe, choices=list(RECIPES), help="default: %(default)s")
    args = parse_study(parser, "runs/seeds/{recipe}", "reports/seed_spread_{recipe}.json", seeds=(0, 1, 2, 42))
    summary = report(args, run_study(grid(args.data, seed=args.seeds, recipe=[args.recipe], epochs=args.epochs), args))
    write_report(args, summary, spread_markdown(summary))


if __name__ == "__main__":
    main()
