import numpy as np
import pytest
from scipy import ndimage, signal

from cnnviz import kernels, models, ops


@pytest.mark.parametrize("name", list(kernels.NAMED))
def test_named_kernels_filter_like_scipy(name):
    x = np.random.default_rng(0).random((17, 23))
    k = kernels.NAMED[name]
    out = kernels.filter_image(x, {name: k}, padding="same").output
    np.testing.assert_allclose(out, ndimage.correlate(x, k, mode="constant"), atol=1e-12)
    assert name in kernels.DESCRIPTIONS


def test_blurs_keep_brightness_and_edge_kernels_ignore_flat_areas():
    for name in ("Box blur 3×3", "Box blur 5×5", "Gaussian 3×3", "Gaussian 5×5", "Identity"):
        assert kernels.NAMED[name].sum() == pytest.approx(1.0)
    for name in ("Sobel x", "Sobel y", "Prewitt x", "Prewitt y", "Laplacian (4-neighbour)",
                 "Laplacian (8-neighbour)", "Outline"):
        assert kernels.NAMED[name].sum() == pytest.approx(0.0)
    np.testing.assert_array_equal(kernels.NAMED["Sobel y"], kernels.NAMED["Sobel x"].T)


def test_gradient_magnitude_combines_both_sobels():
    x = np.random.default_rng(1).random((12, 9))
    name = "Sobel gradient magnitude"
    parts = {p: kernels.NAMED[p] for p in kernels.MAGNITUDES[name]}
    out = kernels.filter_image(x, parts, padding="same").output
    gx = ndimage.correlate(x, kernels.NAMED["Sobel x"], mode="constant")
    gy = ndimage.correlate(x, kernels.NAMED["Sobel y"], mode="constant")
    np.testing.assert_allclose(out, np.hypot(gx, gy), atol=1e-12)
    assert name in kernels.DESCRIPTIONS


def test_bias_and_relu_applied_after_the_sum():
    x = np.random.default_rng(2).normal(size=(8, 8))
    k = np.random.default_rng(3).normal(size=(3, 3))
    out = kernels.filter_image(x, {"k": k}, bias=0.5, activation="ReLU").output
    np.testing.assert_allclose(out, np.maximum(signal.correlate2d(x, k, "valid") + 0.5, 0))


def test_flipped_kernel_gives_true_convolution():
    x = np.random.default_rng(4).random((10, 11))
    k = np.random.default_rng(5).normal(size=(3, 4))
    np.testing.assert_allclose(ops.conv2d(x, kernels.flipped(k)), signal.convolve2d(x, k, "valid"))


def test_per_channel_outputs_add_up_to_the_conv_layer_output():
    x = np.random.default_rng(6).random((9, 7, 3))
    k = np.random.default_rng(7).normal(size=(3, 3, 3))
    parts = kernels.per_channel(x, k, padding="same")
    np.testing.assert_allclose(sum(parts.values()), ops.conv2d(x, k, padding="same"))
    two_d = kernels.per_channel(x, k[..., 0])
    np.testing.assert_allclose(two_d["G"], ops.conv2d(x[..., 1], k[..., 0]))


def test_learned_filters_are_the_shipped_first_layer_weights():
    model = models.load(models.SHIPPED_MODEL)
    learned = kernels.learned_filters(model)
    weights, biases = model.get_layer("conv1").get_weights()
    assert len(learned) == weights.shape[-1]
    for i, f in enumerate(learned.values()):
        np.testing.assert_array_equal(f.kernel, weights[:, :, 0, i])
        assert f.bias == biases[i] and f.activation == "ReLU"


@pytest.mark.parametrize("text, shape", [("1", (1, 1)), ("1 2 3", (1, 3)), ("1,2\n3,4\n5,6", (3, 2)),
                                         (" 0 -1 0\n-1 5 -1\n 0 -1 0\n", (3, 3)),
                                         ("\n".join(["1 " * 7] * 7), (7, 7))])
def test_parse_any_shape_up_to_7x7(text, shape):
    assert kernels.parse(text).shape == shape


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n  ", "empty"), ("1 2\n3", "same number"), ("1 x", "'x' is not a number"),
    ("nan 1", "NaN or infinity"), ("1 inf", "NaN or infinity"), ("-inf", "NaN or infinity"),
    ("1e30", "exceeds"), ("\n".join(["1 " * 8] * 8), "8×8"), ("1 " * 8, "1×8"),
])
def test_parse_refuses_bad_kernels_with_a_reason(text, message):
    with pytest.raises(kernels.KernelError, match=message):
        kernels.parse(text)


def test_parse_matrix_limit_and_wording():
    assert kernels.parse("\n".join(["1 " * 12] * 12), what="matrix", max_side=16).shape == (12, 12)
    with pytest.raises(kernels.KernelError, match="the matrix is empty"):
        kernels.parse("", what="matrix")


def test_normalise():
    np.testing.assert_allclose(kernels.normalise(np.ones((2, 2))), np.full((2, 2), 0.25))
    with pytest.raises(kernels.KernelError, match="sums to 0"):
        kernels.normalise(kernels.NAMED["Sobel x"])


def test_to_text_round_trips():
    for k in kernels.NAMED.values():
        np.testing.assert_allclose(kernels.parse(kernels.to_text(k)), k, rtol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_stride_with_dilation_is_the_strided_subsample_the_note_describes(padding):
    """The lab's note for stride > 1 with dilation > 1, checked against TensorFlow's own conv."""
    import tensorflow as tf

    from cnnviz import ops

    rng = np.random.default_rng(0)
    x, k = rng.random((17, 15)), rng.random((3, 3))
    got = ops.conv2d(x, k, stride=2, dilation=2, padding=padding)
    pads = [ops.pad_amounts(n, 3, 2, 2, padding) for n in x.shape]
    padded = np.pad(x, pads)[None, ..., None]
    full = tf.nn.conv2d(padded, k[..., None, None], strides=1, padding="VALID", dilations=2)
    np.testing.assert_allclose(got, full.numpy()[0, ::2, ::2, 0], atol=1e-10)
    notes = kernels.keras_notes(padding, 2, 2, "zeros", False)
    assert len(notes) == 1 and "one output in 2 along each axis" in notes[0]
