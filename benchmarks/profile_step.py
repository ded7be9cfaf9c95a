"""Where a training step's time goes: per-call overhead vs the step's own work.

    python benchmarks/profile_step.py
    python benchmarks/profile_step.py --intra-threads 1   # one thread per op, two for the graph
    python benchmarks/profile_step.py --ops               # time per TensorFlow op type, per step
    python benchmarks/profile_step.py --step-only         # just the compiled loops, for lever checks
    python benchmarks/profile_step.py --predict           # one image per call, each way of asking (LiteRT too)

Times one batch of 64 (random uint8 images) trained over and over: through Keras one
call per step (`train_on_batch`), through one compiled loop of many steps (what fit does
with steps_per_execution), the same loop XLA-compiled (without op determinism, which
XLA does not support here), the same step split into two half-batches whose gradients are
summed before one Adam update (two independent branches that inter-op threads can run at
once; not what lenet does), and PyTorch's eager step (at its default OpenMP settings unless
OMP_WAIT_POLICY is set) if installed. Prints milliseconds per step, the arithmetic rate it
implies, and the process's CPU milliseconds per step (all threads; spinning included).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from run import BATCH_SIZE, torch_model  # benchmarks/run.py: the same batch and PyTorch LeNet-5
# Multiply-adds per image of LeNet-5's forward pass (c1, c3, c5, f6, logits), times 2 for
# FLOPs, times 3 for forward + backward (the backward pass is about twice the forward).
FORWARD_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 120 * 84 + 84 * 10
TRAIN_FLOPS_PER_IMAGE = 3 * 2 * FORWARD_MACS


CPU_MS: dict[str, float] = {}  # name -> CPU milliseconds per step of the last timing


def per_step_ms(run, steps: int, seconds: float = 3.0, name: str | None = None) -> float:
    run()  # trace and warm up
    start, cpu_start, calls = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - start < seconds:
        run()
        calls += 1
    if name:
        CPU_MS[name] = (time.process_time() - cpu_start) / (calls * steps) * 1000
    return (time.perf_counter() - start) / (calls * steps) * 1000


def random_batch():
    """A batch of BATCH_SIZE random uint8 images (B, 28, 28, 1) and int32 labels, the same every time."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (BATCH_SIZE, 28, 28, 1), dtype=np.uint8)
    return images, rng.integers(0, 10, BATCH_SIZE).astype(np.int32)


def compiled_lenet5(deterministic: bool = True):
    """lenet's LeNet-5 compiled with its default recipe, seeded, with op determinism unless not `deterministic`."""
    import keras
    import lenet

    if deterministic:
        lenet.set_seed(0)
    else:
        keras.utils.set_random_seed(0)
    return lenet.compile_with_recipe(lenet.build_lenet5(), lenet.TrainConfig(), steps_per_epoch=1)


def keras_steps(loop_steps: int, step_only: bool = False) -> dict[str, float]:
    import tensorflow as tf

    x, y = random_batch()
    results = {}
    # XLA first: Keras refuses jit_compile once op determinism is on (and TensorFlow has no
    # deterministic XLA MaxPool gradient), so the XLA timing is of a non-deterministic step.
    for name, jit in (("graph", False),) if step_only else (("xla", True), ("graph", False)):
        model = compiled_lenet5(deterministic=not jit)
        model.jit_compile = jit
        if not jit and not step_only:
            results["keras_train_on_batch"] = per_step_ms(lambda: model.train_on_batch(x, y), 1)
        step = tf.function(model.train_step, jit_compile=jit)
        data = (tf.constant(x), tf.constant(y))

        @tf.function
        def loop():
            for _ in tf.range(loop_steps):
                step(data)

        results[f"compiled_loop_{name}"] = per_step_ms(loop, loop_steps, name=f"compiled_loop_{name}")
        if not jit:
            results["compiled_loop_two_halves"] = per_step_ms(
                two_halves_loop(model, data, loop_steps), loop_steps, name="compiled_loop_two_halves"
            )
        if step_only:
            break
        forward = tf.function(lambda images: model(images, training=False), jit_compile=jit)
        results[f"forward_only_{name}"] = per_step_ms(lambda: forward(data[0]).numpy(), 1)
    return results


def single_image_calls(threads: int, count: int = 200) -> dict[str, float]:
    """Milliseconds per call on one image: the ways to ask Keras, lenet's API, and PyTorch."""
    import lenet
    import numpy as np
    import tensorflow as tf

    model = compiled_lenet5()
    images = np.random.default_rng(0).integers(0, 256, (count, 28, 28), dtype=np.uint8)
    singles = [images[i : i + 1] for i in range(count)]
    lite = lenet.to_lite(model, images)

    def model_predict(x):  # lenet.predict_probabilities before the traced fast path
        dataset = tf.data.Dataset.from_tensor_slices(x[..., np.newaxis]).batch(1024)
        return tf.nn.softmax(model.predict(dataset, verbose=0)).numpy()

    calls = {
        "keras_model_predict": (model_predict, 20),
        "keras_eager_call": (lambda x: model(x[..., np.newaxis], training=False).numpy(), 50),
        "keras_predict_on_batch": (lambda x: model.predict_on_batch(x[..., np.newaxis]), count),
        "lenet_predict_probabilities": (lambda x: lenet.predict_probabilities(model, x), count),
        # The same model exported to LiteRT (what `lenet export` writes and `lenet predict` uses).
        "lenet_predict_probabilities_lite": (lambda x: lenet.predict_probabilities(lite, x), count),
    }
    results = {
        f"single_{name}": per_step_ms(lambda: [call(x) for x in singles[:n]], n, 2.0, name=f"single_{name}")
        for name, (call, n) in calls.items()
    }
    try:
        import torch
    except ImportError:
        return results
    torch.set_num_threads(threads)
    network = torch_model()
    tensors = [torch.from_numpy(x).float().div_(255).unsqueeze(1) for x in singles]

    def torch_calls() -> None:
        with torch.inference_mode():
            for x in tensors:
                network(x).softmax(1)

    results["single_torch"] = per_step_ms(torch_calls, count, 2.0, name="single_torch")
    return results


def two_halves_loop(model, data, loop_steps: int):
    """A compiled loop of steps that each train on two half-batches, gradients summed."""
    import keras
    import tensorflow as tf

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")

    def step(images, labels):
        gradients = []
        for half_images, half_labels in zip(tf.split(images, 2), tf.split(labels, 2)):
            with tf.GradientTape() as tape:
                value = loss(half_labels, model(half_images, training=True)) / BATCH_SIZE
            gradients.append(tape.gradient(value, model.trainable_variables))
        model.optimizer.apply([a + b for a, b in zip(*gradients)], model.trainable_variables)

    @tf.function
    def loop():
        for _ in tf.range(loop_steps):
            step(*data)

    return loop


def op_profile(loop_steps: int) -> dict[str, float]:
    """Microseconds per step by TensorFlow op type in the compiled loop, from TF's profiler."""
    import collections
    import glob
    import tempfile

    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    model = compiled_lenet5()
    data = tuple(map(tf.constant, random_batch()))

    @tf.function
    def loop():
        for _ in tf.range(loop_steps):
            model.train_step(data)

    loop()
    repeats = 3
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(repeats):
            loop()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0]).read_bytes())
    per_op: collections.Counter = collections.Counter()
    for plane in space.planes:
        names = {key: value.name for key, value in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if line.name.startswith("tf_") and ":" in name and "::" not in name:  # "node:op type"
                    node, op = name.rsplit(":", 1)
                    layer = next((part for part in node.split("/") if part[:2] in LAYER_PREFIXES), "")
                    per_op[f"op {op} {layer.removesuffix('_1')}".strip()] += event.duration_ps / 1e6
    return {name: us / (repeats * loop_steps) for name, us in per_op.most_common(15)}


LAYER_PREFIXES = ("c1", "c3", "c5", "s2", "s4", "f6", "lo")


def layer_breakdown(loop_steps: int) -> dict[str, float]:
    """Milliseconds per batch of 64 of each layer's forward plus backward, in a compiled loop."""
    import lenet
    import tensorflow as tf

    lenet.set_seed(0)
    model = lenet.build_lenet5()
    activation = tf.constant(random_batch()[0])
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
    """PyTorch's step and forward pass, `threads` threads (PyTorch's own default is the cores)."""
    try:
        import torch
    except ImportError:
        return {}

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

    return {"torch_step": per_step_ms(step, 1, name="torch_step"), "torch_forward_only": per_step_ms(forward, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="TensorFlow's inter-op threads and PyTorch's threads (default: cores)")
    parser.add_argument("--intra-threads", type=int, help="TensorFlow's intra-op threads (default: --threads)")
    parser.add_argument("--loop-steps", type=int, default=100, help="steps per compiled loop")
    parser.add_argument("--ops", action="store_true", help="only the time per op type (TensorFlow's profiler)")
    parser.add_argument("--step-only", action="store_true", help="only the compiled loops (quick lever checks)")
    parser.add_argument("--predict", action="store_true", help="only single-image prediction, per call")
    args = parser.parse_args()
    import lenet  # noqa: F401  (first: it sets TensorFlow's environment before TensorFlow loads)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.intra_threads or args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    load_before = os.getloadavg()
    if args.ops:
        results = op_profile(args.loop_steps)
        for name, us in results.items():
            print(f"{name:60s} {us:8.1f} us/step")
        print(json.dumps({"us_per_step": results, "load_before": load_before, "load_after": os.getloadavg()}))
        return
    if args.predict:
        results = single_image_calls(args.threads)
    elif args.step_only:
        results = keras_steps(args.loop_steps, step_only=True)
    else:
        results = {
            **keras_steps(args.loop_steps),
            **layer_breakdown(args.loop_steps),
            **torch_steps(args.threads),
        }
    print(f"LeNet-5 training: {TRAIN_FLOPS_PER_IMAGE / 1e6:.2f} MFLOP per image, batch {BATCH_SIZE}, "
          f"threads {args.threads}, intra-op {args.intra_threads or args.threads}, "
          f"OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    for name, ms in results.items():
        if name.startswith("layer_"):
            print(f"{name:24s} {ms:7.3f} ms/step  (forward + backward of this layer alone)")
            continue
        if name.startswith("single_"):
            print(f"{name:34s} {ms:7.3f} ms/call  {1000 / ms:7,.0f} img/s  cpu {CPU_MS[name]:6.3f} ms/call")
            continue
        step_flops = TRAIN_FLOPS_PER_IMAGE / (3 if "forward" in name else 1) * BATCH_SIZE
        cpu = f"  cpu {CPU_MS[name]:6.2f} ms/step" if name in CPU_MS else ""
        print(f"{name:24s} {ms:7.3f} ms/step  {BATCH_SIZE / ms * 1000:9,.0f} img/s  "
              f"{step_flops / ms / 1e6:6.1f} GFLOP/s{cpu}")
    print(json.dumps({"ms_per_step": results, "cpu_ms_per_step": CPU_MS, "load_before": load_before,
                      "load_after": os.getloadavg()}))


if __name__ == "__main__":
    main()
