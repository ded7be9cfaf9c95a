"""Does ReLU with max pooling beat the 1998 paper's tanh with average pooling? Measure it.

    python scripts/compare_variants.py --data keras --recipe original

A thin caller of `lenet sweep` (lenet/sweep.py): every variant (lenet.build_lenet5(variant=...))
with the same recipe once per seed, each run in a fresh Ray worker process, seeds outermost so
that a busy machine slows both variants alike. Artifacts go to RUNS/runs/NAME, the sweep's
record to RUNS/sweep.json, the comparison to --out as JSON and its table
(tools/report.py: variants_markdown) to stdout.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import RECIPES, VARIANTS, TrainConfig
from tools.report import study_parser, run_summary, variants_markdown
from lenet.sweep import SweepError, grid, shared_config, spread, sweep


def main() -> None:
    parser = study_parser(__doc__, seeds=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="default: the recipe's 10")
    parser.add_argument("--recipe", default=TrainConfig().recipe, choices=list(RECIPES), help="default: %(default)s")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "variants"), help="the sweep's directory")
    parser.add_argument("--out", default=str(ROOT / "reports" / "compare_variants.json"), help="summary JSON")
    args = parser.parse_args()

    runs = grid(args.data, seed=args.seeds, variant=args.variants, epochs=args.epochs, recipe=[args.recipe])
    try:
        study = sweep(runs, args.runs, address=args.address, threads=args.threads)
    except SweepError as error:
        sys.exit(f"compare_variants: {error}")
    results = [entry["results"] for entry in study["runs"]]
    by_variant = {
        variant: [run_summary(result) for result in results if result["config"]["variant"] == variant]
        for variant in args.variants
    }
    comparison = {
        # The data by its recorded name, not a folder of this machine (--runs, --out change no number).
        "command": (
            f"python scripts/compare_variants.py --recipe {args.recipe} --data {results[0]['data']['source']} "
            f"--seeds {' '.join(map(str, args.seeds))} --variants {' '.join(args.variants)} --epochs {args.epochs}"
        ),
        "data": results[0]["data"],
        "config": shared_config(results[0], ("seed", "variant")),
        "environment": results[0]["environment"],
        "variants": {
            variant: {
                "runs": variant_runs,
                "summary": spread([run["test_accuracy"] for run in variant_runs]),
                "seconds_per_epoch": statistics.median(run["seconds_per_epoch"] for run in variant_runs),
            }
            for variant, variant_runs in by_variant.items()
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(comparison, indent=2) + "\n")
    print(variants_markdown(comparison))


if __name__ == "__main__":
    main()
