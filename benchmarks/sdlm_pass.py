"""Seconds per pass of the 1998 paper's training (variant lenet5-1998, recipe sdlm-1998) on one core.

    python benchmarks/sdlm_pass.py --data path/to/mnist.npz [--passes 3] [--out benchmarks/sdlm_pass.json]

Pins this process to one core (os.sched_setaffinity, as `taskset -c 0` would) before TensorFlow starts, trains
--passes passes of the paper's per-digit SDLM on all 60,000 training digits through `lenet.train_and_evaluate`
(the path `lenet train --variant lenet5-1998 --recipe sdlm-1998` takes), and prints each pass's seconds (the
record results.json keeps: curvature estimate, 60,000 updates, checkpoint) and their median. Run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a Keras-layout mnist.npz (or any lenet data source)")
    parser.add_argument("--passes", type=int, default=3, help="passes to time (default: 3)")
    parser.add_argument("--out", type=Path, help="write the measurement as JSON here")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, before TensorFlow's thread pools exist
    sys.path.insert(0, str(ROOT))
    import lenet
    from lenet import reproducibility

    config = lenet.TrainConfig(variant="lenet5-1998", recipe="sdlm-1998", epochs=args.passes)
    with tempfile.TemporaryDirectory() as output_dir:
        results = lenet.train_and_evaluate(config, args.data, output_dir, verbose=0, evaluate_test=False)
    seconds = results["seconds_per_epoch"]
    report = {
        # The data by its recorded name, never a path of this machine.
        "command": f"python benchmarks/sdlm_pass.py --data {results['data']['source']} --passes {args.passes}",
        "cores": 1,
        "training_digits": results["data"]["sizes"]["train"],
        "seconds_per_pass": seconds,
        "median_seconds_per_pass": statistics.median(seconds),
        "load_average_after": os.getloadavg(),
        "environment": reproducibility.environment(),
    }
    print(f"{report['training_digits']:,} digits a pass on one core: " + ", ".join(f"{s:.1f}" for s in seconds)
          + f" s; median {report['median_seconds_per_pass']:.1f} s")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
