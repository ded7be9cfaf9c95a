"""tf.data options for lenet's training pipeline, A/B in one process (issue 21's lever check).

    python benchmarks/pipeline_options.py --data path/to/mnist.npz --train-limit 12800 --rounds 4

One compiled model trains one epoch at a time on datasets that differ only in their
tf.data options, the variants taking turns (`--rounds` times after a warm-up round), so load
from other jobs falls on all alike. Prints each variant's median wall and CPU seconds per
epoch and its per-round ratio to the first. The options change where the pipeline's work runs,
never what it produces (the map is deterministic), so the numbers of a run stay the same.
Variants: base (lenet's pipeline as it is), priv1 / priv2 (a private thread pool of 1 or 2
threads for tf.data), intra1 (tf.data ops limited to one thread each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# issue 19's pins (lenet's defaults once it sets them itself): one intra-op thread, AVX2.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")


def dataset(variant: str, x, y, config):
    import tensorflow as tf

    from lenet.training import training_batches

    options = tf.data.Options()
    if variant.startswith("priv"):
        options.threading.private_threadpool_size = int(variant.removeprefix("priv"))
    elif variant == "intra1":
        options.threading.max_intra_op_parallelism = 1
    return training_batches(x, y, config).with_options(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="Keras-layout mnist.npz")
    parser.add_argument("--train-limit", type=int, default=12800, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds (each variant once per round)")
    parser.add_argument("--variants", default="base,priv1,priv2,intra1")
    parser.add_argument("--recipe", help="a TrainConfig recipe (default: the default recipe)")
    args = parser.parse_args()
    import lenet
    from lenet.training import steps_per_epoch

    config = lenet.TrainConfig(epochs=1, **({"recipe": args.recipe} if args.recipe else {}))
    _, split = lenet.prepare_data(args.data, config)
    x, y = split.x_train[: args.train_limit], split.y_train[: args.train_limit]
    lenet.set_seed(0)
    steps = steps_per_epoch(len(y), config.batch_size)
    model = lenet.compile_with_recipe(lenet.build_lenet5(), config, steps)  # with its steps per execution
    variants = args.variants.split(",")
    times: dict[str, list[tuple[float, float]]] = {variant: [] for variant in variants}
    load_before = os.getloadavg()
    for round_ in range(args.rounds + 1):  # round 0 traces and warms up
        for variant in variants:
            batches = dataset(variant, x, y, config)
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)
            if round_:
                times[variant].append((time.perf_counter() - wall, time.process_time() - cpu))
    first = times[variants[0]]
    results = {
        variant: {
            "wall_s_median": statistics.median(w for w, _ in pairs),
            "cpu_s_median": statistics.median(c for _, c in pairs),
            "wall_s": [round(w, 2) for w, _ in pairs],
            "speed_vs_first_median": statistics.median(a[0] / b[0] for a, b in zip(first, pairs, strict=True)),
        }
        for variant, pairs in times.items()
    }
    print(
        json.dumps(
            {
                "recipe": config.recipe,
                "train_images": len(y),
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "variants": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
