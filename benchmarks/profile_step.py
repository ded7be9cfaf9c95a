"""Where a training step's time goes: per-call overhead vs the step's own work.

    python benchmarks/profile_step.py

Times one batch of 64 (random uint8 images) trained over and over: through Keras one
call per step (`train_on_batch`), through one compiled loop of many steps (what fit does
with steps_per_execution), the same loop XLA-compiled (without op determinism, which
XLA does not support here), and PyTorch's eager step if
installed. Prints milliseconds per step and the arithmetic rate it implies.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH_SIZE = 64
# Multiply-adds per image of LeNet-5's forward pass (c1, c3, c5, f6, logits), times 2 for
# FLOPs, times 3 for forward + backward (the backward pass is about twice the forward).
FORWARD_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 120 * 84 + 84 * 10
TRAIN_FLOPS_PER_IMAGE = 3 * 2 * FORWARD_MACS


def per_step_ms(run, steps: int, seconds: float = 3.0) -> float:
    run()  # trace and warm up
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        run()
        calls += 1
    return (time.perf_counter() - start) / (calls * steps) * 1000


def keras_steps(threads: int, loop_steps: int) -> dict[str, float]:
    import keras
    import lenet  # sets TensorFlow's environment as every lenet run has it
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (BATCH_SIZE, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, BATCH_SIZE).astype(np.int32)
    results = {}
    # XLA first: Keras refuses jit_compile once op determinism is on (and TensorFlow has no
    # deterministic XLA MaxPool gradient), so the XLA timing is of a non-deterministic step.
    for name, jit in (("xla", True), ("graph", False)):
        if jit:
            keras.utils.set_random_seed(0)
        else:
            lenet.set_seed(0)
        model = lenet.compile_lenet5(lenet.build_lenet5(), lenet.TrainConfig(), steps_per_epoch=1)
        model.jit_compile = jit
        if not jit:
            results["keras_train_on_batch"] = per_step_ms(lambda: model.train_on_batch(x, y), 1)
        step = tf.function(model.train_step, jit_compile=jit)
        data = (tf.constant(x), tf.constant(y))

        @tf.function
        def loop():
            for _ in tf.range(loop_steps):
                step(data)

        results[f"compiled_loop_{name}"] = per_step_ms(loop, loop_steps)
        forward = tf.function(lambda images: model(images, training=False), jit_compile=jit)
        results[f"forward_only_{name}"] = per_step_ms(lambda: forward(data[0]).numpy(), 1)
    return results


def layer_breakdown(threads: int, loop_steps: int) -> dict[str, float]:
    """Milliseconds per batch of 64 of each layer's forward plus backward, in a compiled loop."""
    import lenet
    import numpy as np
    import tensorflow as tf

    lenet.set_seed(0)
    model = lenet.build_lenet5()
    rng = np.random.default_rng(0)
    activation = tf.constant(rng.integers(0, 256, (BATCH_SIZE, 28, 28, 1), dtype=np.uint8))
    results = {}
    for layer in model.layers:
        inputs = tf.cast(activation, "float32")

        @tf.function
        def loop(inputs=inputs, layer=layer):
            total = tf.constant(0.0)
            for _ in tf.range(loop_steps):
                with tf.GradientTape() as tape:
                    tape.watch(inputs)
                    outputs = tf.reduce_sum(layer(inputs))
                gradients = tape.gradient(outputs, [inputs, *layer.trainable_weights])
                total += tf.add_n([tf.reduce_sum(g) for g in gradients])
            return total

        results[f"layer_{layer.name}"] = per_step_ms(lambda: loop().numpy(), loop_steps, 1.0)
        activation = layer(inputs) if layer.name != "rescale" else layer(activation)
    return results


def torch_steps(threads: int) -> dict[str, float]:
    try:
        import torch
    except ImportError:
        return {}
    from run import torch_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(BATCH_SIZE, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH_SIZE,))

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    def forward() -> None:
        with torch.inference_mode():
            model(x)

    return {"torch_step": per_step_ms(step, 1), "torch_forward_only": per_step_ms(forward, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--loop-steps", type=int, default=100, help="steps per compiled loop")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = {
        **keras_steps(args.threads, args.loop_steps),
        **layer_breakdown(args.threads, args.loop_steps),
        **torch_steps(args.threads),
    }
    print(f"LeNet-5 training: {TRAIN_FLOPS_PER_IMAGE / 1e6:.2f} MFLOP per image, batch {BATCH_SIZE}")
    for name, ms in results.items():
        if name.startswith("layer_"):
            print(f"{name:24s} {ms:7.3f} ms/step  (forward + backward of this layer alone)")
            continue
        step_flops = TRAIN_FLOPS_PER_IMAGE / (3 if "forward" in name else 1) * BATCH_SIZE
        print(f"{name:24s} {ms:7.3f} ms/step  {BATCH_SIZE / ms * 1000:9,.0f} img/s  "
              f"{step_flops / ms / 1e6:6.1f} GFLOP/s")
    print(json.dumps({"ms_per_step": results, "load_before": load_before, "load_after": os.getloadavg()}))


if __name__ == "__main__":
    main()
