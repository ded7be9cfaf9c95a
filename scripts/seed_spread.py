"""How much does the recipe's test accuracy depend on the seed? Train it once per seed.

    python scripts/seed_spread.py --data keras [--recipe original]

A thin caller of `lenet sweep` (lenet/sweep.py): each seed is a run in a fresh Ray worker
process, on this machine or on a cluster (--address), with its artifacts in RUNS/runs/NAME
and the sweep's own record in RUNS/sweep.json. The seed-spread summary goes to --out (default
reports/seed_spread_RECIPE.json) as JSON, and its table (tools/report.py: spread_markdown) to stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import RECIPES, TrainConfig
from tools.report import study_parser, run_summary, spread_markdown
from lenet.sweep import SweepError, grid, shared_config, spread, sweep


def main() -> None:
    parser = study_parser(__doc__, seeds=[0, 1, 2, 42])
    parser.add_argument("--recipe", default=TrainConfig().recipe, choices=list(RECIPES), help="default: %(default)s")
    parser.add_argument("--runs", help="the sweep's directory (default: runs/seeds/RECIPE)")
    parser.add_argument("--out", help="summary JSON (default: reports/seed_spread_RECIPE.json)")
    args = parser.parse_args()
    out = Path(args.out or ROOT / "reports" / f"seed_spread_{args.recipe}.json")

    try:
        runs = grid(args.data, seed=args.seeds, recipe=[args.recipe])
        study = sweep(
            runs, args.runs or ROOT / "runs" / "seeds" / args.recipe, address=args.address, threads=args.threads
        )
    except SweepError as error:
        sys.exit(f"seed_spread: {error}")
    results = [entry["results"] for entry in study["runs"]]
    runs = [run_summary(result) for result in results]
    summary = {
        # The data by its recorded name, never a folder of this machine (--runs, --out change no number).
        "command": f"python scripts/seed_spread.py --recipe {args.recipe} --data {results[0]['data']['source']} "
        f"--seeds {' '.join(map(str, args.seeds))}",
        "data": results[0]["data"],
        "config": shared_config(results[0], ("seed",)),
        "environment": results[0]["environment"],
        "runs": runs,
        "summary": spread([run["test_accuracy"] for run in runs]),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(spread_markdown(summary))


if __name__ == "__main__":
    main()
