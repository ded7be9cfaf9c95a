"""Today's LeNet-5 against the 1998 paper's network (lenet5-1998), trained with the same Adam recipe: measure it.

    python scripts/compare_variants.py --data keras --recipe original

A thin caller of `lenet sweep` (lenet/sweep.py): every variant (lenet.build_lenet5(variant=...))
with the same recipe once per seed, each run in a fresh Ray worker process, seeds outermost so
that a busy machine slows both variants alike. Artifacts go to RUNS/runs/NAME, the sweep's
record to RUNS/sweep.json, the comparison to --out as JSON and its table
(tools/report.py: variants_markdown) to stdout.
"""

from __future__ import annotations

import argparse
from typing import Any

from common import parse_study, run_study, write_report

from lenet.config import RECIPES, VARIANTS, TrainConfig
from lenet.sweep import grid, shared_config
from tools.report import run_summary, variants_markdown


def report(args: argparse.Namespace, study: dict[str, Any]) -> dict[str, Any]:
    """The comparison from the sweep's record: its summary has one group per variant."""
    results = [entry["results"] for entry in study["runs"]]
    groups = {group["config"]["variant"]: group for group in study["summary"]}
    return {
        # The data by its recorded name, not a folder of this machine (--runs, --out change no number).
        "command": (
            f"python scripts/compare_variants.py --recipe {args.recipe} --data {results[0]['data']['source']} "
            f"--seeds {' '.join(map(str, args.seeds))} --variants {' '.join(args.variants)}"
            + ("" if args.epochs is None else f" --epochs {args.epochs}")
        ),
        "data": results[0]["data"],
        "config": shared_config(results[0], ("seed", "variant")),
        "environment": results[0]["environment"],
        "variants": {
            variant: {
                "runs": [run_summary(result) for result in results if result["config"]["variant"] == variant],
                "summary": groups[variant]["test_accuracy"],
                "seconds_per_epoch": groups[variant]["seconds_per_epoch"],
            }
            for variant in args.variants
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--recipe", default=TrainConfig().recipe, choices=list(RECIPES), help="default: %(default)s")
    args = parse_study(parser, "runs/variants", "reports/compare_variants.json")
    runs = grid(args.data, seed=args.seeds, variant=args.variants, epochs=args.epochs, recipe=[args.recipe])
    comparison = report(args, run_study(runs, args))
    write_report(args, comparison, variants_markdown(comparison))


if __name__ == "__main__":
    main()
