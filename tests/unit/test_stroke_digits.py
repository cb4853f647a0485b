"""The stroke-built stand-in digits: shapes, determinism, both polarities, a round pen."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from bench import stroke_digits as sd
from bench.stroke_templates import ALLOGRAPHS

SMALL = replace(sd.DEV, writers=2)


def test_a_set_has_every_digit_from_every_writer_as_canvas_images():
    images, labels, writers, names = sd.stroke_set(SMALL, per_class=2)
    assert images.shape == (40, 280, 280) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [4] * 10
    assert np.bincount(writers).tolist() == [20, 20]
    assert all(n in {f.__name__ for f in ALLOGRAPHS[d]} for d, n in zip(labels, names))


def test_the_same_seed_draws_the_same_digits_and_another_set_others():
    a = sd.stroke_set(SMALL, per_class=1)[0]
    assert np.array_equal(a, sd.stroke_set(SMALL, per_class=1)[0])
    b = sd.stroke_set(replace(sd.HELD_OUT, writers=2), per_class=1)[0]
    assert not np.array_equal(a, b)


def test_both_polarities_with_ink_inside_the_canvas():
    images = sd.stroke_set(SMALL, per_class=2)[0]
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], 1)
    background = np.median(border, axis=1)
    assert set(background) == {0, 255}  # white on black and black on white
    for img, bg in zip(images, background):
        ink = img > 127 if bg == 0 else img < 128
        assert 0.005 < ink.mean() < 0.5


@pytest.mark.parametrize("pen", [8.0, 30.0])
def test_a_straight_stroke_is_drawn_with_a_round_pen_of_that_width(pen):
    """Across the stroke the ink is as wide as the pen; along it, round caps add half a pen."""
    line = np.array([[60.0, 140.0], [220.0, 140.0]])
    img = sd.render([line], pen, dark_on_light=False)
    width = (img[:, 140] > 127).sum()  # across the stroke's middle
    assert abs(width - pen) <= 1.5
    ends = (img[140, :] > 127).nonzero()[0]  # along it: round caps add pen / 2 at each end
    assert abs(ends[0] - (60 - pen / 2)) <= 1.5 and abs(ends[-1] - (220 + pen / 2)) <= 1.5
    inverted = sd.render([line], pen, dark_on_light=True)
    assert np.array_equal(inverted, 255 - img)


def test_a_loop_left_open_is_open():
    from bench.stroke_templates import Shape, zero_oval

    def holes(gap):
        path = sd.stroke_path(zero_oval(Shape(gap, 0.5, 0.0, 0.45, 0.6))[0]) * 200 + 40
        ink = sd.render([path], 10.0, dark_on_light=False) > 127
        return ndimage.label(~ink)[1] - 1  # regions of paper besides the outside

    assert holes(0.0) == 1 and holes(0.15) == 0
