"""How much does the recipe's test accuracy depend on the seed? Train it once per seed.

    python scripts/seed_spread.py --data ../shared/data/mnist.npz [--recipe original]

Each seed runs in a fresh process (as the notebook would), through lenet.train_and_evaluate,
writing its artifacts to RUNS/RECIPE/seed-N; the summary goes to --out (default
reports/seed_spread_RECIPE.json) as JSON, and its table
(lenet.report.spread_markdown) to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.compare import accuracy_summary, run_summary, shared_config, train_in_fresh_process  # noqa: E402
from lenet.config import RECIPES, TrainConfig  # noqa: E402
from lenet.report import spread_markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras, sample or a path (default: keras)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 42], help="default: 0 1 2 42")
    parser.add_argument("--recipe", default=TrainConfig().recipe, choices=list(RECIPES), help="default: %(default)s")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "seeds"), help="where each run's artifacts go")
    parser.add_argument("--out", help="summary JSON (default: reports/seed_spread_RECIPE.json)")
    args = parser.parse_args()
    out = Path(args.out or ROOT / "reports" / f"seed_spread_{args.recipe}.json")

    runs = []
    for seed in args.seeds:
        try:
            results = train_in_fresh_process(
                TrainConfig(seed=seed, recipe=args.recipe), args.data, Path(args.runs) / args.recipe / f"seed-{seed}"
            )
        except RuntimeError as error:
            sys.exit(f"seed {seed}: {error}")
        runs.append(run_summary(results))
    spread = {
        # The data by its recorded name, not a folder of this machine (--runs, --out change no number).
        "command": f"python scripts/seed_spread.py --data {results['data']['source']} --seeds {' '.join(map(str, args.seeds))}",
        "data": results["data"],
        "config": shared_config(results, ("seed",)),
        "environment": results["environment"],
        "runs": runs,
        "summary": accuracy_summary(runs),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spread, indent=2) + "\n")
    print(spread_markdown(spread))


if __name__ == "__main__":
    main()
