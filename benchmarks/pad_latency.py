"""The drawing pad's answer time: from a stroke's pixels reaching Python to the answer sent back to the page.

    python benchmarks/pad_latency.py [--readings 100]

One lenet.DrawPad on the shipped model; its `pixels` set as the browser sets them when a stroke ends (the shipped
drawing and the same drawing moved by 3 pixels, in turn, so every reading is of new pixels); timed until its
`result` is set, which is when anywidget sends it (here to no page: the comm's send is not timed, the browser
test times the whole round trip). Median of `--readings` warm readings, after 10 to warm up. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time

import numpy as np

import lenet  # first: its pins before TensorFlow starts
from lenet.images import read_image
from lenet.pad import EXAMPLE


def cpu_model() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), platform.processor()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=100, help="warm readings timed (default: 100)")
    arguments = parser.parse_args()
    drawing = read_image(EXAMPLE)
    drawings = [drawing.tobytes(), np.roll(drawing, 3, axis=(0, 1)).tobytes()]
    pad = lenet.DrawPad()
    times = []
    for number in range(10 + arguments.readings):
        pixels = drawings[number % 2]
        started = time.perf_counter()
        pad.pixels = pixels  # its observer reads the drawing and sets pad.result
        elapsed = time.perf_counter() - started
        assert pad.result["answer"] is not None, pad.result["message"]
        if number >= 10:
            times.append(elapsed * 1000)
    print(
        json.dumps(
            {
                "benchmark": "pad_latency",
                "median_ms": round(statistics.median(times), 2),
                "p90_ms": round(statistics.quantiles(times, n=10)[-1], 2),
                "readings": len(times),
                "cpu": cpu_model(),
                "cores": len(os.sched_getaffinity(0)),
            }
        )
    )


if __name__ == "__main__":
    main()
