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

import argparse
import statistics
from typing import Any

from common import parse_study, run_study, write_report

from lenet.config import RECIPES
from lenet.sweep import grid
from tools.report import study_markdown


def candidate(group: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """One recipe's validation numbers: its group of the sweep's summary, and the losses it has not."""
    losses = [record["history"]["val_loss"][-1] for record in records]
    return {
        "recipe": records[0]["recipe"],
        "seeds": group["seeds"],
        "val_accuracy": [record["history"]["val_accuracy"][-1] for record in records],
        "val_loss": losses,
        "mean_val_accuracy": group["final_val_accuracy"]["mean"],
        "std_val_accuracy": group["final_val_accuracy"]["std"],
        "mean_val_loss": statistics.mean(losses),
        # Over every epoch of every seed (the sweep's summary takes the median of each run's median).
        "seconds_per_epoch": statistics.median(s for record in records for s in record["seconds_per_epoch"]),
    }


def report(args: argparse.Namespace, study: dict[str, Any]) -> dict[str, Any]:
    """The ranking from the sweep's record: its summary has one group per recipe."""
    records = [entry["results"] for entry in study["runs"]]
    assert all(record["test"] is None for record in records)  # the test set stayed untouched
    groups = {group["config"]["recipe"]: group for group in study["summary"]}
    candidates = {
        name: candidate(groups[name], [record for record in records if record["config"]["recipe"] == name])
        for name in args.recipes
    }
    ranking = sorted(
        candidates, key=lambda name: (-candidates[name]["mean_val_accuracy"], candidates[name]["mean_val_loss"])
    )
    return {
        # The data by its recorded name, never a folder of this machine.
        "command": f"python scripts/recipe_study.py --data {records[0]['data']['source']}",
        "data": records[0]["data"],
        "epochs": args.epochs,  # None: each recipe's own length (10 unless it sets one)
        "ranking": ranking,
        "chosen": ranking[0],
        "candidates": candidates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Ranked by validation: a recipe that holds out no validation set cannot be a candidate.
    validated = [name for name, recipe in RECIPES.items() if recipe.validation_size != 0]
    parser.add_argument("--recipes", nargs="+", default=validated, choices=validated, help="default: all of them")
    args = parse_study(parser, "runs/recipes", "reports/recipe_study.json")
    runs = grid(args.data, evaluate_test=False, recipe=args.recipes, seed=args.seeds, epochs=args.epochs)
    study = report(args, run_study(runs, args))
    write_report(args, study, study_markdown(study))
    print(
        f"\nchosen on validation: {study['chosen']}; its test accuracy: "
        f"python scripts/seed_spread.py --recipe {study['chosen']} --data {args.data}"
    )


if __name__ == "__main__":
    main()
