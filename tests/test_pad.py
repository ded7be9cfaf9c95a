"""The drawing pad (lenet/pad.py) without a browser: what it reads from drawings rendered as the canvas draws them,
its messages for bad drawings, and `lenet predict`'s probabilities for the same drawing saved as a PNG."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import lenet
from lenet import cli
from lenet.pad import SIDE, DrawPad
from pad_strokes import DIGITS, NOT_DIGITS  # tests/ is on sys.path (pytest's prepend import mode)


def render(strokes: list[list[tuple[int, int]]], pen: int) -> np.ndarray:
    """Strokes drawn as the pad's canvas draws them: black, round caps and joins, on white; uint8 (SIDE, SIDE)."""
    image = Image.new("L", (SIDE, SIDE), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        if len(stroke) > 1:
            draw.line(stroke, fill=0, width=pen, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=0)
    return np.asarray(image)


@pytest.fixture(scope="module")
def pad() -> DrawPad:
    return DrawPad()  # the shipped model


def draw(pad: DrawPad, image: np.ndarray) -> dict:
    """What the browser does as a stroke ends: the canvas's grey levels into `pixels`; the page's new result."""
    count = pad.result["count"]
    pad.pixels = image.tobytes()
    assert pad.result["count"] == count + 1
    json.dumps(pad.result)  # what goes to the page is plain JSON
    return pad.result


def test_the_pad_opens_on_the_shipped_drawing_read_and_pictured(pad):
    assert isinstance(pad.result["answer"], int) and len(pad.result["digit"]) == 28 * 28
    data, _metadata = pad._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data  # the pad where widgets show
    assert data["image/png"]  # and a picture of it where they cannot (a headless run, a saved notebook)


def test_a_saved_notebook_keeps_the_pads_picture_not_the_widget(pad):
    import nbformat

    from tools.run_notebook import WIDGET_VIEW, clean_outputs

    data, metadata = pad._repr_mimebundle_()
    cell = nbformat.v4.new_code_cell(
        "pad", outputs=[nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    )
    clean_outputs(cell)  # as tools/run_notebook.py saves the notebook
    assert WIDGET_VIEW not in cell.outputs[0].data and cell.outputs[0].data["image/png"] == data["image/png"]


def test_the_pad_reads_the_drawn_digits(pad):
    answers = [draw(pad, render(strokes, pen))["answer"] for _digit, pen, strokes in DIGITS]
    right = sum(answer == digit for answer, (digit, _pen, _strokes) in zip(answers, DIGITS, strict=True))
    assert right >= 27, answers
    assert answers.count(None) <= 1, answers  # at most one digit taken for a non-digit


def test_the_pad_flags_drawings_that_are_not_digits(pad):
    answers = {name: draw(pad, render(strokes, pen))["answer"] for name, pen, strokes in NOT_DIGITS}
    assert list(answers.values()).count(None) >= 4, answers


@pytest.mark.parametrize(
    ("strokes", "message"),
    [
        ([], "Nothing drawn"),
        ([[(140, 140), (142, 141)]], "Only a dot"),
        ([[(0, 0), (279, 279)], [(279, 0), (0, 279)]], "touches every edge"),
    ],
)
def test_a_bad_drawing_gets_its_message_and_no_answer(pad, strokes, message):
    result = draw(pad, render(strokes, 18))
    assert message in result["message"] and result["answer"] is None and result["probabilities"] == []


def test_a_drawing_saved_as_png_gives_lenet_predict_the_pads_probabilities_to_the_bit(tmp_path):
    model_file = tmp_path / "model.keras"
    lenet.load_model().save(model_file)
    pad = DrawPad(lenet.load_model(model_file))
    for number, (_digit, pen, strokes) in enumerate(DIGITS[::7]):
        draw(pad, render(strokes, pen))
        path = tmp_path / f"drawing{number}.png"
        pad.save(path)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):  # one drawing, one image: a batch of 1, as the pad predicts
            assert cli.main(["predict", str(model_file), str(path), "--top", "10", "--json"]) == 0
        (row,) = json.loads(printed.getvalue())["predictions"]
        by_digit = [entry["probability"] for entry in sorted(row["top"], key=lambda entry: entry["digit"])]
        assert by_digit == pad.reading["probabilities"].tolist()  # float32 to float and JSON are exact
