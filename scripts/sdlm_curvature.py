"""Why SDLM breaks down in its second pass (docs/paper.md): the step sizes eta/(mu + h) of every layer and the share
of each layer's units in the squashing function's tails, before each pass, and the error on held-out training digits
every few thousand digits, for the paper's mu or another.

    python scripts/sdlm_curvature.py --passes 2                        # the paper's mu, 0.02
    python scripts/sdlm_curvature.py --passes 2 --mu 0.2 --out reports/sdlm_curvature_mu0.2.json

The run is `lenet train --variant lenet5-1998 --recipe sdlm-1998 --validation-size 5000`'s own (the same model,
order and curvature digits), with the last 5,000 training digits held out and watched; the test set is not touched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # lenet from this checkout

TAIL = 1.5  # |f(a)| above it: f'(a)^2 under 6% of its value at a = 0


def layer_tails(model: Any, images: Any) -> dict[str, float]:
    """The share of each weighted layer's outputs beyond TAIL on `images`."""
    import tensorflow as tf

    shares, x = {}, tf.cast(images, tf.float32)
    for layer in model.layers:
        x = layer(x)
        if layer.trainable_weights:
            shares[layer.name] = float(tf.reduce_mean(tf.cast(tf.abs(x) > TAIL, tf.float32)))
    return shares


def step_summary(variables: list, steps: list) -> dict[str, dict[str, float]]:
    import numpy as np

    summary = {}
    for variable, step in zip(variables, steps, strict=True):
        values = np.asarray(step).ravel()
        summary[variable.path] = {
            "min": float(values.min()),
            "median": float(np.median(values)),
            "max": float(values.max()),
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="keras", help="keras (full MNIST), sample or a path (default: keras)")
    parser.add_argument("--passes", type=int, default=2, help="default: 2")
    parser.add_argument("--mu", type=float, help="instead of the paper's 0.02 (a labelled extra)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hold-out", type=int, default=5000, help="training digits held out and watched")
    parser.add_argument("--every", type=int, default=5000, help="digits between two held-out errors")
    parser.add_argument("--out", default=str(ROOT / "reports" / "sdlm_curvature.json"))
    args = parser.parse_args()

    import lenet  # first: its pins must precede TensorFlow's start
    import numpy as np
    import tensorflow as tf

    from lenet import sdlm
    from lenet.artifacts import save_json

    if args.mu is not None:
        sdlm.MU = args.mu
    config = lenet.TrainConfig(
        variant="lenet5-1998", recipe="sdlm-1998", seed=args.seed, validation_size=args.hold_out, epochs=args.passes
    )
    _, split = lenet.prepare_data(args.data, config)
    lenet.set_seed(config.seed)
    model = lenet.compiled_lenet5(config, split)
    trainer, size = sdlm.SDLM(model), len(split.y_train)

    def held_out_error() -> float:
        return 1.0 - lenet.evaluate(model, split.x_val, split.y_val)["accuracy"]

    passes = []
    for pass_index in range(args.passes):  # fit_sdlm's passes, one by one
        order, curvature_digits = sdlm.pass_digits(config.seed, pass_index, size)
        curvature_images = tf.constant(split.x_train[curvature_digits][..., np.newaxis], tf.float32)
        eta = sdlm.eta(config.recipe_settings.learning_rate, pass_index + 1)
        steps = trainer.step_sizes(curvature_images, eta)
        record = {
            "pass": pass_index + 1,
            "eta": eta,
            "tails": layer_tails(model, curvature_images),
            "steps": step_summary(trainer.variables, steps),
            "held_out_error": [],
        }
        for start in range(0, size, args.every):
            indices = order[start : start + args.every]
            images = tf.constant(split.x_train[indices][..., np.newaxis], tf.float32)
            trainer.train_chunk(images, tf.constant(split.y_train[indices].astype(np.int32)), steps)
            record["held_out_error"].append([start + len(indices), held_out_error()])
        passes.append(record)
        tails = ", ".join(f"{name} {share:.0%}" for name, share in record["tails"].items())
        print(f"pass {pass_index + 1}: in the tails before it: {tails}")
        for name, summary in record["steps"].items():
            print(f"  step {name:30s} median {summary['median']:.1e}  max {summary['max']:.1e}")
        trace = " ".join(f"{error:.2%}" for _, error in record["held_out_error"])
        print(f"  held-out error every {args.every} digits: {trace}", flush=True)
    command = " ".join(["python scripts/sdlm_curvature.py", *sys.argv[1:]])
    save_json(Path(args.out), {"command": command, "mu": sdlm.MU, "seed": config.seed, "passes": passes})


if __name__ == "__main__":
    main()
