"""From the 1998 paper's LeNet-5 and its training to this project's default, one change at a time: which change
buys what? One run per row (one seed), each row keeping every change above it.

    python scripts/ablation_1998.py                # full MNIST, seed 0

Rows are trained in order, each in a fresh process, into RUNS/ROW (an interrupted one resumes after its last
finished epoch); rows already
in --out are skipped; --out is written atomically after each row. The last row is `lenet train`'s default.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # lenet from this checkout

# (row, what changes from the row above, builder switches of lenet.paper.build_paper_network, recipe, which
# length: the paper's passes or today's epochs). Every switch is cumulative. Every row trains on all 60,000
# training digits, as the paper did, until the row "hold-out" holds out today's 5,000 for validation.
PAPER = {"rbf": True, "trainable_subsampling": True, "scaled_tanh_activation": True, "sparse_c3": True}
PAPER |= {"paper_input": True, "init": "sqrt_fan_in"}
ROWS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("paper", "the 1998 network trained by SDLM on its MSE criterion", {}, "sdlm-1998", "passes"),
    ("adam", "Adam, batches of 64, cosine from 0.002; cross-entropy over -y", {}, "cosine-2e-3", "passes"),
    ("softmax", "dense logits instead of the RBF units", {"rbf": False}, "cosine-2e-3", "passes"),
    ("max-pooling", "max pooling instead of trainable subsampling", {"trainable_subsampling": False}, "cosine-2e-3", "passes"),
    ("relu", "ReLU instead of the scaled tanh", {"scaled_tanh_activation": False}, "cosine-2e-3", "passes"),
    ("full-c3", "every C3 map reads every S2 map", {"sparse_c3": False}, "cosine-2e-3", "passes"),
    ("input-28", "28x28 'same'-padded input, pixels 0-1", {"paper_input": False}, "cosine-2e-3", "passes"),
    ("keras-init", "Keras's default initial weights", {"init": "keras"}, "cosine-2e-3", "passes"),
    ("epochs", "today's number of epochs", {}, "cosine-2e-3", "epochs"),
    ("hold-out", "the last 5,000 training digits held out for validation", {}, "cosine-2e-3", "epochs"),
    ("augmentation", "shifts of up to 2 pixels: lenet train's default", {}, "shift-2e-3", "epochs"),
]  # fmt: skip


def train_row(
    name: str, switches: dict[str, Any], recipe: str, epochs: int, hold_out: bool, seed: int, data: str, runs: Path
) -> dict[str, Any]:
    """One row's run, through lenet's own steps (a switched network is no named variant), resumed if interrupted."""
    import lenet
    from lenet import paper, sdlm
    from lenet.checkpoint import checkpoint_dir

    # What results.json records; the switches (in it too) say which network the row trained.
    variant = "modern" if not any(value is True for value in switches.values()) else "lenet5-1998"
    validation = {"validation_size": None if hold_out else 0}  # None: the default's 5,000
    config = lenet.TrainConfig(variant=variant, recipe=recipe, epochs=epochs, seed=seed, **validation)
    data_set, split = lenet.prepare_data(data, config)
    lenet.set_seed(seed)
    model = paper.build_paper_network(**switches, name=f"lenet5_ablation_{name}".replace("-", "_"))
    output_dir = runs / name
    if config.recipe_settings.optimizer == "sdlm":
        history = sdlm.fit_sdlm(
            sdlm.compile_for_sdlm(model), split, config, 0, checkpoint_dir=checkpoint_dir(output_dir)
        )
    else:
        lenet.compile_with_recipe(model, config, lenet.steps_per_epoch(len(split.y_train), config.batch_size))
        history = lenet.fit(model, split, config, 0, checkpoint_dir=checkpoint_dir(output_dir))
    test = lenet.evaluate(model, split.x_test, split.y_test)
    results = lenet.build_results(config, data_set, split, history, test)
    lenet.save_artifacts(output_dir, {**results, "ablation": {"row": name, "switches": switches}}, model)
    return {
        "test_error": 1.0 - test["accuracy"],
        "epochs": epochs,
        "validation_size": config.resolved_validation_size(len(data_set.y_train)),
        "recipe": recipe,
        "seed": seed,
        "data": results["data"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras (full MNIST), sample or a path (default: keras)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--passes", type=int, default=20, help="the paper's passes, for the rows above 'epochs'")
    parser.add_argument("--epochs", type=int, default=10, help="today's epochs, from the row 'epochs' on")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "ablation_1998"), help="the rows' run directories")
    parser.add_argument("--out", default=str(ROOT / "reports" / "ablation_1998.json"), help="the report")
    args = parser.parse_args()

    import json

    from lenet.artifacts import save_json

    out = Path(args.out)
    try:
        report = json.loads(out.read_text())
    except (OSError, ValueError):
        report = {"rows": []}
    report["command"] = " ".join(["python scripts/ablation_1998.py", *sys.argv[1:]])
    done = {row["row"] for row in report["rows"]}
    switches, hold_out = dict(PAPER), False
    for name, change, row_switches, recipe, length in ROWS:
        hold_out = hold_out or name == "hold-out"
        switches |= row_switches
        if name in done:
            print(f"{name}: finished before, kept")
            continue
        epochs = args.passes if length == "passes" else args.epochs
        # Each row in a fresh process, as `lenet train` would run it: no state left by the rows before.
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            row_settings = (name, dict(switches), recipe, epochs, hold_out, args.seed, args.data, Path(args.runs))
            entry = pool.submit(train_row, *row_settings).result()
        report["rows"].append({"row": name, "change": change, "switches": dict(switches), **entry})
        save_json(out, report)
        print(f"{name}: test error {entry['test_error']:.2%} ({change})", flush=True)


if __name__ == "__main__":
    main()
