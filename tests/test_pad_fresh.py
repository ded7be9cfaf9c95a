"""The pad's not-a-digit check on fresh held-out drawings (tests/pad_strokes_fresh.py), with the shipped model.

The criterion was partly chosen after seeing its results on tests/pad_strokes.py; these drawings were committed
before the pad was first run on them, and this test was run once, as written, to give an honest held-out check.
`python -m pytest -n 0 -p no:randomly tests/test_pad_fresh.py -q -s` prints each drawing's reading.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import lenet
from pad_strokes import CANVAS, Stroke  # tests/ is on sys.path
from pad_strokes_fresh import FRESH_DIGITS, FRESH_NON_DIGITS

SUPERSAMPLE = 4  # drawn 4x larger and averaged down: anti-aliased edges, as a browser canvas draws them
STEP = 4  # pixels between the pointer positions a mouse reports along a stroke


def canvas_pixels(pen: int, strokes: list[Stroke]) -> np.ndarray:
    """The canvas's grey levels, uint8 (CANVAS, CANVAS), 255 white paper: each stroke a black pen of width `pen`
    with round caps and joins, moved in straight lines of STEP-pixel pointer moves between its points."""
    scale = SUPERSAMPLE
    image = Image.new("L", (CANVAS * scale, CANVAS * scale), 255)
    draw = ImageDraw.Draw(image)
    radius = pen * scale / 2
    for stroke in strokes:
        path = [stroke[0]]
        for (x0, y0), (x1, y1) in zip(stroke[:-1], stroke[1:], strict=True):
            steps = max(1, round(np.hypot(x1 - x0, y1 - y0) / STEP))
            path += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(1, steps + 1)]
        points = [(x * scale, y * scale) for x, y in path]
        if len(points) > 1:
            draw.line(points, fill=0, width=pen * scale)
        for x, y in points:  # round caps and joins
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return np.asarray(image.resize((CANVAS, CANVAS), Image.Resampling.BOX))


@pytest.fixture(scope="module")
def readings() -> dict[str, list[tuple[str, dict]]]:
    """Each fresh drawing's reading by the pad with the shipped model, printed (pytest -s shows it)."""
    pad = lenet.DrawPad()
    drawings = {
        "digits": [(str(digit), pen, strokes) for digit, pen, strokes in FRESH_DIGITS],
        "non_digits": FRESH_NON_DIGITS,
    }
    found: dict[str, list[tuple[str, dict]]] = {}
    for kind, items in drawings.items():
        found[kind] = []
        for name, pen, strokes in items:
            pad.pixels = canvas_pixels(pen, strokes).tobytes()
            result = dict(pad.result)
            found[kind].append((name, result))
            probabilities = result.get("probabilities") or []
            likeliest = f"{int(np.argmax(probabilities))} at {max(probabilities):.1%}" if probabilities else "-"
            flagged = "FLAGGED" if result["answer"] is None else "read"
            print(
                f"{kind:10} {name:15} answer={result['answer']!s:5} {flagged:8} likeliest={likeliest:10} "
                f"message={result['message']!r}"
            )
    digits, non_digits = found["digits"], found["non_digits"]
    print(
        f"non-digits flagged: {sum(r['answer'] is None for _, r in non_digits)} of {len(non_digits)}; "
        f"digits flagged: {sum(r['answer'] is None for _, r in digits)} of {len(digits)}; "
        f"digits read right: {sum(r['answer'] == int(name) for name, r in digits)} of {len(digits)}"
    )
    return found


def test_fresh_non_digits_get_no_answer(readings: dict[str, list[tuple[str, dict]]]) -> None:
    flagged = [name for name, result in readings["non_digits"] if result["answer"] is None]
    assert len(flagged) >= 4, f"only {flagged} of the 5 fresh non-digits got no answer"


def test_fresh_digits_are_rarely_flagged(readings: dict[str, list[tuple[str, dict]]]) -> None:
    flagged = [name for name, result in readings["digits"] if result["answer"] is None]
    assert len(flagged) <= 1, f"fresh digits that got no answer: {flagged}"


def test_fresh_digits_are_read_right(readings: dict[str, list[tuple[str, dict]]]) -> None:
    wrong = [(name, result["answer"]) for name, result in readings["digits"] if result["answer"] != int(name)]
    assert len(wrong) <= 2, f"fresh digits not read right (digit, answer): {wrong}"
