"""Which training recipe? Train every candidate on validation only, and rank them by it.

    python scripts/recipe_study.py --data keras

A thin caller of `lenet sweep` (lenet/sweep.py): each candidate of lenet.config.RECIPES trains
with seeds 0, 1 and 2, each run in a fresh Ray worker process, with `evaluate_test=False`, so
the test set is never loaded into a model here. Candidates are ranked by mean final validation
accuracy, mean final validation loss breaking ties. The table goes to --out as JSON and to
stdout as markdown. Only after the choice is the winner's test accuracy measured, by
`scripts/seed_spread.py --recipe WINNER`. Started again with the same --runs, the sweep skips
the runs it has finished.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import RECIPES, TrainConfig
from tools.report import study_parser, study_markdown
from lenet.sweep import SweepError, grid, spread, sweep


def candidate_summary(records: list[dict]) -> dict:
    """The validation numbers of one recipe's runs (results.json contents, test never set)."""
    accuracies = [record["history"]["val_accuracy"][-1] for record in records]
    losses = [record["history"]["val_loss"][-1] for record in records]
    accuracy = spread(accuracies)
    return {
        "recipe": records[0]["recipe"],
        "seeds": [record["config"]["seed"] for record in records],
        "val_accuracy": accuracies,
        "val_loss": losses,
        "mean_val_accuracy": accuracy["mean"],
        "std_val_accuracy": accuracy["std"],
        "mean_val_loss": statistics.mean(losses),
        "seconds_per_epoch": statistics.median(s for record in records for s in record["seconds_per_epoch"]),
    }


def main() -> None:
    parser = study_parser(__doc__, seeds=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES), help="default: all")
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs, help="default: %(default)s")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "recipes"), help="the sweep's directory")
    parser.add_argument("--out", default=str(ROOT / "reports" / "recipe_study.json"), help="the table as JSON")
    args = parser.parse_args()

    runs = grid(args.data, evaluate_test=False, recipe=args.recipes, seed=args.seeds, epochs=args.epochs)
    try:
        study = sweep(runs, args.runs, address=args.address, threads=args.threads)
    except SweepError as error:
        sys.exit(f"recipe_study: {error}")
    records = [entry["results"] for entry in study["runs"]]
    assert all(record["test"] is None for record in records)  # the test set stayed untouched
    candidates = {
        name: candidate_summary([record for record in records if record["config"]["recipe"] == name])
        for name in args.recipes
    }
    ranking = sorted(
        candidates, key=lambda name: (-candidates[name]["mean_val_accuracy"], candidates[name]["mean_val_loss"])
    )
    report = {
        # The data by its recorded name, never a folder of this machine.
        "command": f"python scripts/recipe_study.py --data {records[0]['data']['source']}",
        "data": records[0]["data"],
        "epochs": args.epochs,
        "ranking": ranking,
        "chosen": ranking[0],
        "candidates": candidates,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(study_markdown(report))
    print(
        f"\nchosen on validation: {ranking[0]}; its test accuracy: "
        f"python scripts/seed_spread.py --recipe {ranking[0]} --data {args.data}"
    )


if __name__ == "__main__":
    main()
