"""Does ReLU with max pooling beat the 1998 paper's tanh with average pooling? Measure it.

    python scripts/compare_variants.py --data ../shared/data/mnist.npz

Trains every variant (lenet.build_lenet5(variant=...)) with the same recipe once per seed,
each run in a fresh process, seeds interleaved across variants so that a busy machine slows
both alike. Each run's artifacts go to RUNS/VARIANT-seed-N; the summary goes to --out as JSON
and its table (lenet.report.variants_markdown) to stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.compare import accuracy_summary, run_summary, shared_config, train_in_fresh_process  # noqa: E402
from lenet.config import VARIANTS, TrainConfig  # noqa: E402
from lenet.report import variants_markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras, sample or a path (default: keras)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="default: 0 1 2")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="default: the recipe's 10")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "variants"), help="where each run's artifacts go")
    parser.add_argument("--out", default=str(ROOT / "reports" / "compare_variants.json"), help="summary JSON")
    args = parser.parse_args()

    runs: dict[str, list] = {variant: [] for variant in args.variants}
    for seed in args.seeds:
        for variant in args.variants:
            config = TrainConfig(seed=seed, variant=variant, epochs=args.epochs)
            output_dir = Path(args.runs) / f"{variant}-seed-{seed}"
            try:
                results = train_in_fresh_process(config, args.data, output_dir)
            except RuntimeError as error:
                sys.exit(f"{variant}, seed {seed}: {error}")
            runs[variant].append(run_summary(results))
            print(f"{variant} seed {seed}: test accuracy {results['test']['accuracy']:.4f}", flush=True)
    comparison = {
        # The data by its recorded name, not a folder of this machine (--runs, --out change no number).
        "command": (
            f"python scripts/compare_variants.py --data {results['data']['source']} --seeds "
            f"{' '.join(map(str, args.seeds))} --variants {' '.join(args.variants)} --epochs {args.epochs}"
        ),
        "data": results["data"],
        "config": shared_config(results, ("seed", "variant")),
        "environment": results["environment"],
        "variants": {
            variant: {
                "runs": variant_runs,
                "summary": accuracy_summary(variant_runs),
                "seconds_per_epoch": statistics.median(run["seconds_per_epoch"] for run in variant_runs),
            }
            for variant, variant_runs in runs.items()
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(comparison, indent=2) + "\n")
    print(variants_markdown(comparison))


if __name__ == "__main__":
    main()
