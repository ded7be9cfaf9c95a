"""Which training recipe? Train every candidate on validation only, and rank them by it.

    python scripts/recipe_study.py --data ../shared/data/mnist.npz

Each candidate of lenet.config.RECIPES trains with seeds 0, 1 and 2, each in a fresh process,
on the training set minus the validation set; the test set is never loaded into a model here.
Candidates are ranked by mean final validation accuracy, mean final validation loss breaking
ties. The table goes to --out as JSON and to stdout as markdown. Only after the choice is the
winner's test accuracy measured, by `scripts/seed_spread.py --recipe WINNER`.
Finished runs are kept in RUNS/RECIPE/seed-N/validation.json and skipped when started again.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet.config import RECIPES, TrainConfig  # noqa: E402
from lenet.report import study_markdown  # noqa: E402

VALIDATION_FILE = "validation.json"


def validate(config: TrainConfig, data: str, run_dir: str) -> None:
    """Train with `config` and keep the validation history; never evaluates on the test set."""
    import dataclasses

    import lenet
    from lenet.checkpoint import remove_checkpoint

    source, split = lenet.prepare_data(data, config)
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    history = lenet.fit(model, split, config, verbose=2, checkpoint_dir=lenet.checkpoint_dir(run_dir))
    record = {
        "config": config.to_dict(),
        "recipe": {"name": config.recipe, **dataclasses.asdict(config.recipe_settings)},
        "data": {"source": source.source, "fingerprint": source.fingerprint, "sizes": split.sizes()},
        "history": {name: values for name, values in history.items() if name != "seconds"},
        "seconds_per_epoch": history["seconds"],
    }
    lenet.save_json(Path(run_dir) / VALIDATION_FILE, record)
    remove_checkpoint(lenet.checkpoint_dir(run_dir))


def validated(config: TrainConfig, data: str, run_dir: Path) -> dict:
    """The run's validation record, training it first (in a fresh process) unless it exists."""
    if not (run_dir / VALIDATION_FILE).is_file():
        process = multiprocessing.get_context("spawn").Process(target=validate, args=(config, data, str(run_dir)))
        process.start()
        process.join()
        if process.exitcode != 0:
            sys.exit(f"{run_dir}: training failed with exit code {process.exitcode}")
    return json.loads((run_dir / VALIDATION_FILE).read_text())


def candidate_summary(name: str, records: list[dict]) -> dict:
    accuracies = [record["history"]["val_accuracy"][-1] for record in records]
    losses = [record["history"]["val_loss"][-1] for record in records]
    return {
        "recipe": records[0]["recipe"],
        "seeds": [record["config"]["seed"] for record in records],
        "val_accuracy": accuracies,
        "val_loss": losses,
        "mean_val_accuracy": statistics.mean(accuracies),
        "std_val_accuracy": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "mean_val_loss": statistics.mean(losses),
        "seconds_per_epoch": statistics.median(s for record in records for s in record["seconds_per_epoch"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras, sample or a path (default: keras)")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES), help="default: all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="default: 0 1 2")
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs, help="default: %(default)s")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "recipes"), help="where each run's record goes")
    parser.add_argument("--out", default=str(ROOT / "reports" / "recipe_study.json"), help="the table as JSON")
    args = parser.parse_args()

    started = time.perf_counter()
    candidates = {}
    total, done = len(args.recipes) * len(args.seeds), 0
    for name in args.recipes:
        records = []
        for seed in args.seeds:
            config = TrainConfig(recipe=name, seed=seed, epochs=args.epochs)
            records.append(validated(config, args.data, Path(args.runs) / name / f"seed-{seed}"))
            done += 1
            print(f"[{time.perf_counter() - started:7.0f} s] {done}/{total} {name} seed {seed}: "
                  f"val_accuracy {records[-1]['history']['val_accuracy'][-1]:.4f}", flush=True)
        candidates[name] = candidate_summary(name, records)
    ranking = sorted(candidates, key=lambda name: (-candidates[name]["mean_val_accuracy"], candidates[name]["mean_val_loss"]))
    study = {
        "command": "python scripts/recipe_study.py " + " ".join(sys.argv[1:]),
        "data": records[0]["data"],
        "epochs": args.epochs,
        "ranking": ranking,
        "chosen": ranking[0],
        "candidates": candidates,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(study, indent=2) + "\n")
    print(study_markdown(study))
    print(f"\nchosen on validation: {ranking[0]}; its test accuracy: "
          f"python scripts/seed_spread.py --recipe {ranking[0]} --data {args.data}")


if __name__ == "__main__":
    main()
