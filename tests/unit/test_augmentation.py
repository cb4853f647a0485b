"""The augmentation's resampling and affine map against scipy.ndimage, an independent
implementation."""

import numpy as np
import pytest
from scipy import ndimage

from cnnviz import augmentation


def test_warp_equals_scipy_map_coordinates_on_the_same_field():
    rng = np.random.default_rng(0)
    x = rng.random((3, 28, 28, 1)).astype(np.float32)
    # large enough to move some samples past the border, where both read zeros
    dy = rng.normal(0, 3, (3, 28, 28)).astype(np.float32)
    dx = rng.normal(0, 3, (3, 28, 28)).astype(np.float32)
    out = augmentation.warp(x, dy, dx).numpy()
    rows, cols = np.mgrid[:28, :28]
    for i in range(3):
        ref = ndimage.map_coordinates(x[i, ..., 0], [rows + dy[i], cols + dx[i]], order=1,
                                      mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(out[i, ..., 0], ref, atol=1e-5)


def test_zero_displacement_is_the_identity():
    x = np.random.default_rng(2).random((1, 28, 28, 1)).astype(np.float32)
    zero = np.zeros((1, 28, 28), np.float32)
    np.testing.assert_allclose(augmentation.warp(x, zero, zero).numpy(), x, atol=1e-6)


class Highest:
    """A generator that always draws the top of its range: a known affine map."""

    def uniform(self, shape, lo, hi):
        import tensorflow as tf

        return tf.fill(shape, float(hi))


@pytest.mark.parametrize("g", [augmentation.Geometry(12.0, 0.15, 0.1, 0.3),
                               augmentation.Geometry(0.0, 0.0, 0.0, 0.3),
                               augmentation.Geometry(30.0, 0.0, 0.0, 0.0)])
def test_affine_part_equals_scipy_affine_transform(g):
    x = np.random.default_rng(3).random((1, 28, 28, 1)).astype(np.float32)
    out = augmentation.distort(x, Highest(), geometry=g).numpy()[0, ..., 0]
    a, s = np.radians(g.rotation), 1 + g.zoom
    # source (row, col) = M @ (output - centre) + centre + shift
    m = np.array([[np.cos(a) * s, -np.sin(a) * s], [np.sin(a) * s + g.shear, np.cos(a) * s]])
    c = np.array([13.5, 13.5])
    ref = ndimage.affine_transform(x[0, ..., 0], m, offset=c + g.shift * 28 - m @ c, order=1,
                                   mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(out, ref, atol=1e-4)
