"""The Robustness lab's corruptions against scipy.ndimage and hand-computed literals."""

import numpy as np
import pytest
from scipy import ndimage

from cnnviz import corruptions
from cnnviz.corruptions import Corruption, apply, apply_all


def images(n=4, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28)).astype(np.float32)


def each(x, f):
    return np.stack([f(image) for image in x])


@pytest.mark.parametrize("corruption", Corruption)
def test_strength_zero_returns_the_input_exactly(corruption):
    x = images()
    np.testing.assert_array_equal(apply(x, corruption, 0), x)
    np.testing.assert_array_equal(apply(x[0], corruption, 0), x[0])
    assert apply(x, corruption, 0) is not x  # a copy: the caller's image is never changed


@pytest.mark.parametrize("corruption", Corruption)
def test_values_stay_in_0_1_with_the_input_shape_at_every_strength(corruption):
    x = images()
    for s in (corruption.low, corruption.high, *corruption.curve):
        out = apply(x, corruption, s, seed=3)
        assert out.shape == x.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1
        np.testing.assert_array_equal(apply(x[1], corruption, s, seed=3).shape, (28, 28))


@pytest.mark.parametrize("corruption", Corruption)
def test_every_curve_has_strength_zero_and_stays_in_range(corruption):
    assert 0 in corruption.curve and list(corruption.curve) == sorted(corruption.curve)
    for s in corruption.curve:
        corruption.check(s)
    assert Corruption.from_key(corruption.key) is corruption


@pytest.mark.parametrize("degrees", [5, -12, 30, 90, -135, 180])
def test_rotation_equals_scipy_rotate(degrees):
    x = images()
    want = each(x, lambda a: ndimage.rotate(a, degrees, reshape=False, order=1,
                                            mode="grid-constant"))
    np.testing.assert_allclose(apply(x, Corruption.ROTATE, degrees), np.clip(want, 0, 1),
                               atol=1e-6)


def test_rotation_is_counterclockwise_on_screen():
    x = np.zeros((28, 28), np.float32)
    x[12:16, 20:24] = 1  # right of the centre (13.5, 13.5)
    out = apply(x, Corruption.ROTATE, 90)
    want = np.zeros_like(x)
    want[4:8, 12:16] = 1  # above it
    np.testing.assert_allclose(out, want, atol=1e-6)


@pytest.mark.parametrize("pixels", [1, 3, -5, 14, -14])
def test_shift_equals_scipy_shift_and_a_literal(pixels):
    x = images()
    want = each(x, lambda a: ndimage.shift(a, (0, pixels), order=1, mode="grid-constant"))
    out = apply(x, Corruption.SHIFT, pixels)
    np.testing.assert_allclose(out, want, atol=1e-6)
    literal = np.zeros_like(x)
    if pixels > 0:
        literal[:, :, pixels:] = x[:, :, :-pixels]
    else:
        literal[:, :, :pixels] = x[:, :, -pixels:]
    np.testing.assert_array_equal(out, literal)


@pytest.mark.parametrize("percent", [-50, -15, 20, 100])
def test_scale_equals_scipy_affine_transform_about_the_centre(percent):
    f, c = 1 + percent / 100, 13.5
    x = images()
    want = each(x, lambda a: ndimage.affine_transform(a, np.eye(2) / f, offset=c - c / f,
                                                      order=1, mode="grid-constant"))
    np.testing.assert_allclose(apply(x, Corruption.SCALE, percent), np.clip(want, 0, 1),
                               atol=1e-6)


def test_doubling_a_centred_square_by_hand():
    x = np.zeros((28, 28), np.float32)
    x[13:15, 13:15] = 1  # the 2×2 pixels around the centre 13.5
    # output row r reads input row (r - 13.5) / 2 + 13.5: rows 11..16 read 12.25 .. 14.75
    profile = np.array([0.25, 0.75, 1, 1, 0.75, 0.25])
    want = np.zeros_like(x)
    want[11:17, 11:17] = np.outer(profile, profile)
    np.testing.assert_allclose(apply(x, Corruption.SCALE, 100), want, atol=1e-6)


@pytest.mark.parametrize("sigma", [0.25, 0.5, 1.25, 3])
def test_blur_equals_scipy_gaussian_filter(sigma):
    x = images()
    want = each(x, lambda a: ndimage.gaussian_filter(a.astype(np.float64), sigma,
                                                     mode="constant"))
    np.testing.assert_allclose(apply(x, Corruption.BLUR, sigma), want, atol=1e-6)


def test_the_round_pen_by_hand():
    assert sorted(corruptions.disk(1)) == [(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1)]
    assert len(corruptions.disk(2)) == 21  # 5×5 without its 4 corners
    assert (2, 2) not in corruptions.disk(2) and (2, 1) in corruptions.disk(2)


@pytest.mark.parametrize("pixels", [-2, -1, 1, 2, 3])
def test_stroke_width_equals_scipy_grey_morphology(pixels):
    r = abs(pixels)
    footprint = np.zeros((2 * r + 1, 2 * r + 1), bool)
    for dr, dc in corruptions.disk(r):
        footprint[dr + r, dc + r] = True
    morph = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion
    x = images()
    want = each(x, lambda a: morph(a, footprint=footprint, mode="constant", cval=0.0))
    np.testing.assert_array_equal(apply(x, Corruption.STROKE, pixels), want)


def test_a_one_pixel_line_grows_to_three_and_thins_away():
    x = np.zeros((28, 28), np.float32)
    x[5:20, 14] = 1
    thick = apply(x, Corruption.STROKE, 1)
    assert thick[10].tolist().count(1.0) == 3 and thick[4, 13:16].tolist() == [1, 1, 1]
    assert apply(x, Corruption.STROKE, -1).max() == 0


def test_noise_is_fixed_by_the_seed_with_the_same_draws_at_every_strength():
    x = np.full((2, 28, 28), 0.5, np.float32)
    a, b = apply(x, Corruption.NOISE, 0.05, seed=7), apply(x, Corruption.NOISE, 0.05, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, apply(x, Corruption.NOISE, 0.05, seed=8))
    draws = (a - 0.5) / 0.05  # 10 σ from clipping: nothing clipped
    assert abs(draws.std() - 1) < 0.05 and abs(draws.mean()) < 0.05
    np.testing.assert_allclose((apply(x, Corruption.NOISE, 0.1, seed=7) - 0.5) / 0.1, draws,
                               atol=1e-4)


@pytest.mark.parametrize("side", [1, 5, 12, 28])
def test_occlusion_blacks_out_one_square_of_the_side(side):
    x = np.ones((6, 28, 28), np.float32)
    out = apply(x, Corruption.OCCLUSION, side, seed=4)
    for image in out:
        rows, cols = np.nonzero(image == 0)
        assert len(rows) == side * side
        assert rows.max() - rows.min() == side - 1 and cols.max() - cols.min() == side - 1
    np.testing.assert_array_equal(out, apply(x, Corruption.OCCLUSION, side, seed=4))


def test_occlusion_keeps_each_patch_centre_as_it_grows():
    x = np.ones((20, 28, 28), np.float32)
    small = apply(x, Corruption.OCCLUSION, 2, seed=1)
    large = apply(x, Corruption.OCCLUSION, 6, seed=1)
    assert ((small == 0) <= (large == 0)).all()  # the small square lies inside the large one
    centres = [np.argwhere(image == 0).mean(0) for image in small]
    assert all(7 <= c.min() and c.max() <= 21 for c in centres)  # near the middle
    assert len({tuple(c) for c in centres}) > 10  # not one place for every image


def test_apply_all_with_one_corruption_equals_apply():
    x = images()
    for corruption in Corruption:
        s = corruption.curve[-1]
        np.testing.assert_array_equal(apply_all(x, {corruption: s}, seed=2),
                                      apply(x, corruption, s, seed=2))
    np.testing.assert_array_equal(apply_all(x, {}), x)


def test_apply_all_warps_once_for_scale_rotation_and_shift():
    """The three in one resampling equal scipy's affine_transform of the composed map."""
    x = images()
    a = np.radians(30)
    forward = 1.2 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    inverse = np.linalg.inv(forward)
    c = np.array([13.5, 13.5])
    offset = c - inverse @ (c + np.array([0, 3]))
    want = each(x, lambda im: ndimage.affine_transform(im, inverse, offset=offset, order=1,
                                                       mode="grid-constant"))
    got = apply_all(x, {Corruption.SCALE: 20, Corruption.ROTATE: 30, Corruption.SHIFT: 3})
    np.testing.assert_allclose(got, np.clip(want, 0, 1), atol=1e-6)


@pytest.mark.parametrize("corruption, strength, message", [
    (Corruption.ROTATE, 200, "rotate strength must be between -180 and 180 ° (got 200)"),
    (Corruption.NOISE, -0.1, "noise strength must be between 0 and 1 σ (got -0.1)"),
    (Corruption.BLUR, float("nan"), "blur strength must be between 0 and 3 px (got nan)"),
    (Corruption.STROKE, 1.5, "stroke strength counts whole pixels (got 1.5)"),
    (Corruption.OCCLUSION, 29, "occlusion strength must be between 0 and 28 px (got 29)"),
])
def test_strengths_outside_the_range_are_refused_in_one_sentence(corruption, strength,
                                                                 message):
    with pytest.raises(ValueError) as err:
        apply(images(1), corruption, strength)
    assert str(err.value) == message
