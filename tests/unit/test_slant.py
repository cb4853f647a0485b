"""Slant correction against scipy.ndimage: the same shear, and moments measured by scipy."""

import numpy as np
import pytest
from scipy import ndimage

from cnnviz import slant


def bar(s: float, h=60, w=80):
    """A 4-px bar from top to bottom leaning by `s` px per row (negative: top to the right)."""
    img = np.zeros((h, w), np.float32)
    for y in range(h):
        x = int(round(w / 2 + s * (y - (h - 1) / 2)))
        img[y, x - 2:x + 2] = 1.0
    return img


@pytest.mark.parametrize("s", [-0.6, -0.2, 0.0, 0.35])
def test_slant_of_a_leaning_bar_is_its_lean(s):
    got, cy = slant.slant(bar(s))
    assert got == pytest.approx(s, abs=0.03)
    assert cy == pytest.approx(ndimage.center_of_mass(bar(s))[0], abs=1e-4)


def test_shear_equals_scipy_affine_transform():
    ink = np.random.default_rng(0).random((40, 30)).astype(np.float32)
    s, centre, pad = 0.37, 17.3, 12
    got = slant.shear(ink, s, centre, pad)
    wide = np.pad(ink, ((0, 0), (pad, pad)))
    # source (row, col) = (y, x + s * (y - centre)) in the padded frame
    ref = ndimage.affine_transform(wide, np.array([[1.0, 0.0], [s, 1.0]]),
                                   offset=[0.0, -s * centre], order=1, mode="grid-constant")
    np.testing.assert_allclose(got, ref, atol=1e-5)


@pytest.mark.parametrize("s", [-0.6, 0.4])
def test_upright_makes_a_leaning_bar_vertical_and_keeps_its_ink(s):
    img = bar(s)
    out = slant.upright(img)
    assert out.shape[0] == img.shape[0]
    assert abs(slant.slant(out)[0]) < 0.03
    assert out.shape[1] < 10  # a 4-px bar, no longer spread over the width it leaned across
    assert out.sum() == pytest.approx(img.sum(), rel=0.01)


def test_upright_leaves_an_upright_digit_and_blank_ink_alone():
    img = bar(0.0)
    np.testing.assert_allclose(slant.upright(img), img[:, 38:42], atol=1e-6)
    assert slant.upright(np.zeros((5, 5), np.float32)).sum() == 0
