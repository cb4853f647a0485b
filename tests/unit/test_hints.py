"""Hints for drawings unlike MNIST digits: they fire on such drawings and almost never on
MNIST itself. Drawings are made with Pillow's pen, independently of any model."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz import data, hints, preprocess


def drawn(lines, width: int) -> dict:
    img = Image.new("L", (280, 280), 0)
    pen = ImageDraw.Draw(img)
    for line in lines:
        pen.line(line, fill=255, width=width, joint="curve")
    result = preprocess.preprocess(np.asarray(img))
    assert result.ok
    return result.stages


SEVEN = [[(60, 50), (220, 50), (120, 240)]]
ONE_AND_ZERO = [[(40, 60), (40, 220)], [(150, 60), (250, 60), (250, 220), (150, 220), (150, 60)]]


@pytest.mark.parametrize("lines, width, hint", [
    ([[(120, 120), (150, 120), (130, 160)]], 6, "Your digit is small"),
    (SEVEN, 4, "thinner than MNIST's"),
    ([[(120, 110), (160, 110), (135, 170)]], 40, "much thicker than MNIST's"),
    (ONE_AND_ZERO, 18, "more than one digit side by side"),
])
def test_unusual_drawings_get_their_hint(lines, width, hint):
    found = hints.hints(drawn(lines, width))
    assert any(hint in h for h in found), found


def test_a_well_drawn_digit_gets_no_hint():
    assert hints.hints(drawn(SEVEN, 22)) == []


def test_stroke_width_estimate_on_bars_of_known_width():
    for w in (1, 2, 3, 5):
        bar = np.zeros((28, 28), np.float32)
        bar[4:24, 10:10 + w] = 1.0
        assert abs(hints.stroke_width(bar) - w) < 0.25 * w


def test_almost_no_mnist_digit_gets_a_hint():
    ds = data.load("mnist")  # the bundled sample when the full set is absent
    flagged = 0
    n = min(2000, len(ds.y_test))
    for image in ds.x_test[:n, ..., 0]:
        result = preprocess.preprocess(np.kron(image, np.ones((10, 10), np.float32)))
        flagged += bool(result.ok and hints.hints(result.stages))
    assert flagged / n <= 0.03, flagged
