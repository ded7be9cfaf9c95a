"""The pad's not-a-digit criterion (lenet/pad.py's Familiarity) on the drawings it is chosen on, and on real digits.

    python benchmarks/pad_not_digits.py [--mnist]

Prints, for the shipped model: which development drawings (tests/pad_strokes_dev.py: non-digits and digits, drawn as
the pad's canvas draws them) the pad flags, and the share of real digits flagged: the shipped sample's 1,000 held-out
digits (the ones the limits are measured on) and, with --mnist, all 10,000 of MNIST's test digits (the `keras` source;
LENET_MNIST_PATH may point it at a local copy). The test drawings (tests/pad_strokes.py) are not read here: they only
check the chosen criterion, in tests/test_pad.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import lenet  # first: its pins before TensorFlow starts
from lenet.images import mnist_style
from lenet.pad import familiarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pad_strokes_dev import DIGITS, NOT_DIGITS
from test_pad import render


def flagged(family: lenet.pad.Familiarity, digits: np.ndarray) -> np.ndarray:
    """Which digits (N, 28, 28) the pad flags as not digits, as Familiarity.is_digit judges one."""
    distances, steadiness, likeness = family.measure(digits)
    return (
        (distances > family.distance_limit)
        | (steadiness < family.steadiness_limit)
        | (likeness < family.likeness_limit)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", action="store_true", help="also count MNIST's 10,000 test digits flagged")
    arguments = parser.parse_args()
    family = familiarity(lenet.load_model())
    for label, drawings in (("development non-digits", NOT_DIGITS), ("development digits", DIGITS)):
        flags = flagged(family, np.stack([mnist_style(render(strokes, pen)) for _name, pen, strokes in drawings]))
        names = [str(name) for (name, _pen, _strokes), flag in zip(drawings, flags, strict=True) if flag]
        print(f"{label}: {flags.sum()} of {len(flags)} flagged: {', '.join(names)}")
    sources = [("the sample's held-out digits", lenet.load_mnist("sample").x_test)]
    if arguments.mnist:
        sources.append(("MNIST's test digits", lenet.load_mnist("keras").x_test))
    for label, digits in sources:
        flags = flagged(family, digits)
        print(f"{label}: {flags.sum()} of {len(flags)} flagged ({flags.mean():.1%})")


if __name__ == "__main__":
    main()
