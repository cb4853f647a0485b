"""Server-rendered pictures show exactly the values they are given."""

import numpy as np
from PIL import Image

from cnnviz import lab_pictures, pictures


def test_colour_maps_hit_their_ends_and_grey_is_linear():
    a = np.array([0.0, 0.5, 1.0])
    np.testing.assert_array_equal(pictures.colourize(a, pictures.GREY, 0, 1),
                                  [[0, 0, 0], [128, 128, 128], [255, 255, 255]])
    ends = pictures.colourize(np.array([-2.0, 2.0]), pictures.DIVERGING, -2, 2)
    np.testing.assert_array_equal(ends, [pictures.DIVERGING[0], pictures.DIVERGING[-1]])
    assert tuple(pictures.colourize(np.array([np.nan]), pictures.GREY, 0, 1)[0]) == (128,) * 3


def test_signed_maps_get_a_diverging_scale_centred_at_zero():
    anchors, lo, hi = pictures.value_scale(np.array([-1.0, 3.0]))
    assert anchors is pictures.DIVERGING and (lo, hi) == (-3.0, 3.0)
    anchors, lo, hi = pictures.value_scale(np.array([0.0, 3.0]))
    assert anchors is pictures.GREY and (lo, hi) == (0.0, 3.0)


def tile_pixels(img: Image.Image, x0: int, y0: int, h: int, w: int, cell: int) -> np.ndarray:
    """The centre pixel of each cell of a tile drawn at (x0, y0)."""
    a = np.asarray(img)
    return a[y0 + cell // 2: y0 + h * cell: cell, x0 + cell // 2: x0 + w * cell: cell]


def test_feature_map_tiles_are_the_maps_cell_by_cell():
    rng = np.random.default_rng(0)
    fmap = rng.random((12, 12, 3)).astype(np.float32)
    img = pictures.feature_maps(fmap, tile_px=84)
    cell = 84 // 12
    hi = float(fmap.max())
    for i in range(3):
        x0 = i * (12 * cell + 10)
        got = tile_pixels(img, x0, 18, 12, 12, cell)
        want = pictures.colourize(fmap[..., i], pictures.GREY, 0.0, hi)
        np.testing.assert_array_equal(got, want)


def test_stages_keep_their_aspect_ratio():
    tall = np.zeros((20, 13), np.float32)  # a 13-wide, 20-high fit, as the preprocessing makes
    img = np.asarray(pictures.stages({"box": tall}, {"box": "Fit"}, height=100))
    ink = np.argwhere((img == 0).all(-1))  # black pixels: the stage itself, on white
    (top, left), (bottom, right) = ink.min(0), ink.max(0)
    assert (bottom - top + 1, right - left + 1) == (20 * 5, 13 * 5)


def test_probability_bars_are_as_tall_as_the_probabilities():
    probs = np.array([0.0, 0.25, 0.75] + [0.0] * 7)
    img = np.asarray(pictures.probability_bars(probs, range(10), width=500, height=200))
    heights = []
    for i in (1, 2):
        column = img[:, int((i + 0.5) * 50), :]
        bar = np.flatnonzero((column != 255).any(1) & (np.abs(column.astype(int) - column[-30]).sum(1) == 0))
        heights.append(len(bar))
    assert abs(heights[1] / heights[0] - 3) < 0.1


def test_maps_of_a_diverged_model_draw_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        img = pictures.feature_maps(np.full((5, 5, 3), np.nan, np.float32))
    assert img.width > 0


def test_probability_bars_highlight_the_top_class_and_none_before_a_drawing():
    def colours(probs):
        a = np.asarray(pictures.probability_bars(np.asarray(probs), range(10), 500, 200))
        return [tuple(a[170, int((i + 0.5) * 50)]) for i in range(10)]  # just above the base

    shown = colours([0.1, 0.7, 0.2] + [0.0] * 7)
    assert shown[1] == (255, 75, 75) and shown[0] == shown[2] == (160, 160, 175)
    assert len(set(colours(np.zeros(10)))) == 1  # no bar stands out before a drawing


def test_filters_near_square_on_request_on_a_scale_centred_at_zero():
    kernel = np.random.default_rng(2).normal(size=(5, 5, 1, 6)).astype(np.float32)
    wide, square = pictures.filters(kernel), pictures.filters(kernel, cols=None)
    cell = 56 // 5
    tile = 5 * cell
    assert wide.width == 6 * tile + 5 * 10  # one row of six
    assert square.width == 3 * tile + 2 * 10  # three columns
    bound = float(np.abs(kernel).max())
    for i in range(6):
        r, c = divmod(i, 3)
        got = tile_pixels(square, c * (tile + 10), 18 + r * (tile + 18 + 10), 5, 5, cell)
        want = pictures.colourize(kernel[:, :, 0, i], pictures.DIVERGING, -bound, bound)
        np.testing.assert_array_equal(got, want)


def test_pool_view_boxes_the_window_its_max_and_the_output_cell():
    x = np.arange(16.0).reshape(4, 4)
    window = {"rows": [2, 3], "cols": [0, 1], "argmax": (3, 1)}
    img = np.asarray(lab_pictures.pool_views(x, x[::2, ::2], window, (1, 0)))
    cell = 260 // 4
    def at(r, c, x0=0):  # a pixel on the left edge of cell (r, c) of a panel starting at x0
        return tuple(img[18 + r * cell + cell // 2, x0 + c * cell + 1])
    assert at(2, 0) == lab_pictures.HIGHLIGHT  # the window's box
    assert at(3, 1) == lab_pictures.ARGMAX  # its maximum
    pooled_x0 = 4 * cell + 24
    pooled_cell = 260 // 2
    left_edge = tuple(img[18 + pooled_cell + pooled_cell // 2, pooled_x0 + 1])
    assert left_edge == lab_pictures.HIGHLIGHT  # output cell (1, 0) boxed
    not_yet = tuple(img[18 + pooled_cell + pooled_cell // 2, pooled_x0 + pooled_cell * 3 // 2])
    assert not_yet == pictures.BACKGROUND  # (1, 1) is not pooled yet: blank


def test_conv_view_draws_the_padding_and_the_patch_in_it():
    from cnnviz import ops

    image, kernel = np.random.default_rng(0).random((6, 6)), np.ones((3, 3))
    shown, pads = ops.padded(image, (3, 3), padding="same")
    window = ops.conv_window(image, kernel, 0, 0, padding="same")
    img = np.asarray(lab_pictures.conv_views(shown, pads, kernel, ops.conv2d(image, kernel,
                                                                         padding="same"),
                                         window, (0, 0)))
    cell = round(260 / 8)  # 6 + 2 padding cells
    x0 = (3 * round(260 / 3) - 8 * cell) // 2  # centred in the widest panel's width (the kernel's)
    assert tuple(img[18 + cell // 2, x0 + 1]) == lab_pictures.HIGHLIGHT  # the patch starts on padding
    assert tuple(img[18 + cell + cell // 2, x0 + cell + 1]) == pictures.MUTED  # the image's edge


def test_the_forward_pass_picture_shows_each_layer_as_computed():
    rng = np.random.default_rng(3)
    image = rng.random((28, 28, 1)).astype(np.float32)
    outputs = {"conv": rng.random((24, 24, 3)).astype(np.float32),
               "dense": rng.random(20).astype(np.float32)}
    img = np.asarray(pictures.network(image, outputs, tile=48))
    assert img.shape[0] == 18 + 20 * 14  # the tallest column: 20 dense units of 14 px
    cell = 48 // 24
    widths = [max(28 * 3, int(pictures.font(11).getlength("input")) + 4),
              max(48, int(pictures.font(11).getlength("conv 24x24x3")) + 4)]
    x0 = widths[0] + 18 + (widths[1] - 48) // 2  # where the conv column's tiles start
    got = img[18 + cell // 2: 18 + 48: cell, x0 + cell // 2: x0 + 48: cell]
    anchors, lo, hi = pictures.value_scale(outputs["conv"])
    np.testing.assert_array_equal(got, pictures.colourize(outputs["conv"][..., 0], anchors, lo, hi))
