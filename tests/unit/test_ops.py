import itertools

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from cnnviz import ops

RNG = np.random.default_rng(0)


def keras_conv(x, kernel, stride, padding, dilation):
    """tf.nn.conv2d (what Keras Conv2D calls) on one image and one output channel."""
    x3 = x[..., None] if x.ndim == 2 else x
    k3 = kernel[..., None] if kernel.ndim == 2 else kernel
    if isinstance(padding, int) or padding == "full":
        p = ops.pad_amounts(0, kernel.shape[0], 1, dilation, "full")[0] if padding == "full" else padding
        q = ops.pad_amounts(0, kernel.shape[1], 1, dilation, "full")[0] if padding == "full" else padding
        x3 = np.pad(x3, ((p, p), (q, q), (0, 0)))
        padding = "valid"
    out = tf.nn.conv2d(x3[None].astype(np.float32), k3[..., None].astype(np.float32),
                       strides=stride, padding=padding.upper(), dilations=dilation)
    return out.numpy()[0, ..., 0]


SHAPES = [(7, 7), (8, 5), (9, 10, 3)]
KERNELS = [(1, 1), (2, 2), (3, 3), (4, 3), (5, 5)]


@pytest.mark.parametrize("shape, ksize, stride, padding", [
    (s, k, st, p) for s, k, st, p in itertools.product(SHAPES, KERNELS, [1, 2, 3],
                                                       ["valid", "same", "full", 1])
])
def test_conv2d_matches_tensorflow(shape, ksize, stride, padding):
    x = RNG.normal(size=shape)
    kernel = RNG.normal(size=ksize + shape[2:])
    try:
        want = keras_conv(x, kernel, stride, padding, 1)
    except Exception:  # TF refuses what has no output; so must we
        with pytest.raises(ops.OpError):
            ops.conv2d(x, kernel, stride=stride, padding=padding)
        return
    got = ops.conv2d(x, kernel, stride=stride, padding=padding)
    assert got.shape == want.shape
    assert got.shape == tuple(ops.output_size(n, k, stride, 1, padding) for n, k in zip(shape, ksize))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dilation, padding, ksize", itertools.product(
    [2, 3], ["valid", "same", "full", 2], [(2, 2), (3, 3), (3, 2)]))
def test_dilated_conv2d_matches_tensorflow(dilation, padding, ksize):
    x = RNG.normal(size=(12, 11, 2))
    kernel = RNG.normal(size=ksize + (2,))
    want = keras_conv(x, kernel, 1, padding, dilation)
    np.testing.assert_allclose(ops.conv2d(x, kernel, padding=padding, dilation=dilation), want,
                               rtol=1e-5, atol=1e-5)


def test_dilation_with_stride_is_the_strided_subsample():
    """TF refuses dilation together with stride, so compare with a subsampled stride-1 result."""
    x, kernel = RNG.normal(size=(15, 14)), RNG.normal(size=(3, 3))
    dense = ops.conv2d(x, kernel, dilation=2)
    np.testing.assert_allclose(ops.conv2d(x, kernel, dilation=2, stride=3), dense[::3, ::3])


@pytest.mark.parametrize("boundary, mode", [("reflect", "mirror"), ("symmetric", "reflect"),
                                            ("wrap", "wrap"), ("zeros", "constant")])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_same_size_boundaries_match_scipy(boundary, mode, k):
    x, kernel = RNG.normal(size=(20, 17)), RNG.normal(size=(k, k))
    want = ndimage.correlate(x, kernel, mode=mode, cval=0.0)
    got = ops.conv2d(x, kernel, padding="same", boundary=boundary)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_window_sums_to_the_output_cell():
    x, kernel = RNG.normal(size=(9, 8, 3)), RNG.normal(size=(3, 3, 3))
    out = ops.conv2d(x, kernel, stride=2, padding="same", dilation=1)
    for i, j in [(0, 0), (2, 1), (out.shape[0] - 1, out.shape[1] - 1)]:
        w = ops.conv_window(x, kernel, i, j, stride=2, padding="same")
        assert w["products"].shape == (3, 3, 3) and w["channel_sums"].shape == (3,)
        assert w["sum"] == pytest.approx(out[i, j], abs=1e-12)


def test_kernel_larger_than_the_padded_input_names_the_sizes():
    with pytest.raises(ops.OpError, match="spans 7×7 pixels but the padded input is only 5×5"):
        ops.conv2d(np.ones((5, 5)), np.ones((7, 7)))


@pytest.mark.parametrize("kernel, message", [
    (np.array([[1.0, np.nan]]), "NaN or infinite"), (np.array([[np.inf]]), "NaN or infinite"),
    (np.zeros((0, 3)), "empty"),
])
def test_bad_kernels_are_refused(kernel, message):
    with pytest.raises(ops.OpError, match=message):
        ops.conv2d(np.ones((5, 5)), kernel)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("shape, size, stride, padding", [
    (s, k, st, p) for s, k, st, p in itertools.product(
        [(6, 6), (7, 9), (5, 8, 3)], [2, 3, (2, 3)], [None, 1, 2], ["valid", "same"])
])
def test_pool2d_matches_keras(mode, shape, size, stride, padding):
    import keras

    x = RNG.normal(size=shape)
    layer = (keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D)(
        pool_size=size, strides=stride, padding=padding)
    x3 = x[..., None] if x.ndim == 2 else x
    try:
        want = layer(x3[None].astype(np.float32)).numpy()[0]
    except Exception:
        with pytest.raises(ops.OpError):
            ops.pool2d(x, size, stride=stride, padding=padding, mode=mode)
        return
    got = ops.pool2d(x, size, stride=stride, padding=padding, mode=mode)
    np.testing.assert_allclose(got, want[..., 0] if x.ndim == 2 else want, rtol=1e-5, atol=1e-6)


def test_pool_window_gives_the_value_and_argmax():
    x = RNG.normal(size=(7, 7))
    out = ops.pool2d(x, 3, stride=2, padding="same")
    for i, j in itertools.product(range(out.shape[0]), range(out.shape[1])):
        w = ops.pool_window(x, 3, i, j, stride=2, padding="same")
        assert w["value"] == out[i, j] == x[w["argmax"]]
    avg = ops.pool2d(x, 2, mode="avg")
    assert ops.pool_window(x, 2, 1, 2, mode="avg")["value"] == pytest.approx(avg[1, 2])


@pytest.mark.parametrize("n, k, s, d, padding", [(28, 3, 1, 1, "valid"), (28, 5, 2, 1, "same"),
                                                  (7, 3, 3, 2, "full"), (10, 4, 2, 3, 2),
                                                  (5, 2, 4, 1, "same")])
def test_size_formula_shows_the_numbers_and_the_real_output_size(n, k, s, d, padding):
    text = ops.size_formula(n, k, s, d, padding)
    before, after = ops.pad_amounts(n, k, s, d, padding)
    out = ops.conv2d(np.ones((n, n)), np.ones((k, k)), stride=s, dilation=d, padding=padding)
    assert text.startswith(f"⌊({n} + {before} + {after} − {d}·({k}−1) − 1) / {s}⌋ + 1")
    assert text.endswith(f"= {out.shape[0]}")


@pytest.mark.parametrize("dy, dx", [(0, 1), (1, 0), (-2, 1), (0, 0), (3, -3)])
def test_shift_matches_scipy(dy, dx):
    x = np.random.default_rng(0).random((6, 7))
    expected = ndimage.shift(x, (dy, dx), order=0, mode="constant", cval=0.0)
    np.testing.assert_array_equal(ops.shift(x, dy, dx), expected)


def test_pooling_changes_less_than_the_map_when_the_input_shifts():
    rng = np.random.default_rng(1)
    x = np.zeros((28, 28))
    x[rng.integers(0, 28, 40), rng.integers(0, 28, 40)] = 1.0  # sparse features, as after ReLU
    unpooled, pooled = ops.shift_robustness(x, 1, 2, mode="max")
    assert unpooled == pytest.approx(ops.relative_change(x, ops.shift(x, 0, 1)))
    assert pooled < unpooled
    assert ops.shift_robustness(np.zeros((4, 4)), 1, 2) == (0.0, 0.0)
