"""What the study scripts share: this checkout on sys.path, the sweep's flags, the sweep and the report file.

Imported as `common` (a script's own folder is the first entry of sys.path), so it stays out of the lenet package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # lenet and tools from this checkout

from lenet.artifacts import save_json
from lenet.config import DEFAULT_EPOCHS
from lenet.errors import ConfigError, SweepError
from lenet.sweep import Run, sweep


def parse_study(parser: argparse.ArgumentParser, runs: str, out: str, seeds: Sequence[int] = (0, 1, 2)) -> Any:
    """Add the flags every study takes to `parser` and parse them. --runs and --out default to `runs` and
    `out` under ROOT, formatted with the other flags (e.g. "runs/seeds/{recipe}")."""
    parser.add_argument("--data", default="keras", help="keras, sample or a path (default: keras)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(seeds), help=f"default: {' '.join(map(str, seeds))}"
    )
    parser.add_argument("--epochs", type=int, help=f"epochs per run (default: {DEFAULT_EPOCHS}, or the recipe's)")
    parser.add_argument("--runs", help=f"the sweep's directory (default: {runs})")
    parser.add_argument("--out", help=f"the report as JSON (default: {out})")
    parser.add_argument("--address", help="a Ray cluster (default: a local Ray instance)")
    # One intra-op thread per run, lenet's pin: each run gives the numbers of `lenet train`.
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TensorFlow intra-op threads (and CPUs) per run (default: 1, lenet's pin)",
    )
    args = parser.parse_args()
    args.runs = args.runs or str(ROOT / runs.format(**vars(args)))
    args.out = args.out or str(ROOT / out.format(**vars(args)))
    return args


def run_study(runs: list[Run], args: argparse.Namespace) -> dict[str, Any]:
    """The sweep's record (sweep.json) of `runs` in --runs; a sweep that fails exits with its one line."""
    try:
        return sweep(runs, args.runs, address=args.address, threads=args.threads)
    except (ConfigError, SweepError) as error:
        sys.exit(f"{Path(sys.argv[0]).stem}: {error}")


def write_report(args: argparse.Namespace, report: dict[str, Any], markdown: str) -> None:
    """The report to --out as JSON, its table to stdout."""
    save_json(Path(args.out), report)
    print(markdown)
