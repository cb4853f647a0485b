import numpy as np

from cnnviz import plots


def test_training_curves_hide_validation_when_there_is_none_and_refill_in_place():
    fig = plots.training_curves([1.0, 0.5], [0.1, 0.2], [{"loss": 1.0, "accuracy": 0.2}], [2])
    shown = {t.name: t.visible for t in fig.data}
    assert shown == {"batch": True, "batch, smoothed": True, "epoch (train)": True,
                     "epoch (validation)": False}
    logs = [{"loss": 1.0, "accuracy": 0.2, "val_loss": 1.1, "val_accuracy": 0.3}]
    same = plots.training_curves([1.0, 0.5, 0.4], [0.1, 0.2, 0.3], logs, [3], fig)
    assert same is fig and all(t.visible for t in fig.data)
    np.testing.assert_array_equal(fig.data[0].y, [1.0, 0.5, 0.4])


def test_image_panels_show_each_stage_exactly_on_square_hidden_axes_under_its_title():
    rng = np.random.default_rng(0)
    stages = {"raw": rng.random((28, 28)), "cropped": rng.random((40, 17)),
              "box": rng.random((20, 9)), "input": rng.random((28, 28))}
    titles = {name: name.upper() for name in stages}
    fig = plots.stages_strip(stages, titles)
    assert len(fig.data) == len(stages)
    lefts = []
    for i, (trace, (name, img)) in enumerate(zip(fig.data, stages.items())):
        x, y = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        assert (trace.xaxis, trace.yaxis) == (x, y)
        np.testing.assert_array_equal(trace.z, plots._pad_square(img))  # values, not a resample
        xaxis, yaxis = fig.layout[f"xaxis{x[1:]}"], fig.layout[f"yaxis{y[1:]}"]
        assert not xaxis.visible and not yaxis.visible
        assert yaxis.scaleanchor == x and yaxis.autorange == "reversed"  # square, row 0 on top
        lefts.append(xaxis.domain)
        assert fig.layout.annotations[i].text.startswith(name.upper())
        assert f"{img.shape[1]}×{img.shape[0]}" in fig.layout.annotations[i].text
    assert all(a[1] <= b[0] for a, b in zip(lefts, lefts[1:]))  # side by side, no overlap
    assert [t.showscale for t in fig.data] == [False, False, False, True]


def test_image_grid_wraps_into_rows_top_to_bottom():
    images = np.random.default_rng(1).random((12, 8, 8))
    fig = plots.heatmap_grid(images, [str(i) for i in range(12)], cols=5)
    assert len(fig.data) == 12
    for i, trace in enumerate(fig.data):
        np.testing.assert_array_equal(trace.z, images[i])
    first, sixth, eleventh = (fig.layout[f"yaxis{s}"].domain for s in ("", "6", "11"))
    assert first[0] > sixth[1] and sixth[0] > eleventh[1]  # rows stacked, row 1 highest
    assert fig.layout.xaxis.domain == fig.layout.xaxis6.domain  # same column


def test_pool_view_boxes_the_window_its_max_and_the_output_cell():
    x = np.arange(16.0).reshape(4, 4)
    fig = plots.pool_views(x, x[::2, ::2], window={"rows": [2, 3], "cols": [0, 1],
                                                   "argmax": (3, 1)}, cell=(1, 0))
    boxes = [(s.xref, s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes]
    assert boxes == [("x", -0.5, 1.5, 1.5, 3.5), ("x", 0.5, 1.5, 2.5, 3.5),
                     ("x2", -0.5, 0.5, 0.5, 1.5)]
    assert np.isnan(fig.data[1].z[1][1]) and fig.data[1].z[1][0] == 8.0  # not yet pooled


def test_feature_maps_of_a_diverged_model_draw_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.feature_maps(np.full((5, 5, 3), np.nan, np.float32))
    assert fig.data[0].zmin < fig.data[0].zmax


def test_probability_bars_highlight_the_top_class_and_none_before_a_drawing():
    probs = np.array([0.1, 0.7, 0.2] + [0.0] * 7)
    colours = plots.probability_bars(probs, list("0123456789")).data[0].marker.color
    assert [i for i, c in enumerate(colours) if c != colours[0]] == [1]
    empty = plots.probability_bars(np.zeros(10), list("0123456789")).data[0].marker.color
    assert len(set(empty)) == 1


def test_filters_grid_near_square_on_request_with_a_symmetric_scale():
    kernel = np.random.default_rng(2).normal(size=(5, 5, 1, 6)).astype(np.float32)
    wide, square = plots.filters_grid(kernel), plots.filters_grid(kernel, cols=None)
    assert wide.data[0].z.shape == (5, 6 * 6 - 1)  # one row of six
    z, index = square.data[0].z, square.data[0].customdata
    assert z.shape[1] == 3 * 6 - 1  # three columns
    for i in range(6):
        rows, cols = np.nonzero(index == i)
        assert (rows.min() > 5) == (i >= 3) and cols.min() == (i % 3) * 6  # two rows of three
        np.testing.assert_array_equal(z[rows.min():rows.max() + 1, cols.min():cols.max() + 1],
                                      kernel[:, :, 0, i])
    top_of_row_1 = np.nonzero(index == 3)[0].min()
    label_of_3 = next(a for a in square.layout.annotations if a.text == "#3")
    assert 4 < label_of_3.y < top_of_row_1 and top_of_row_1 - 4 >= 2  # its label in a gap
    bound = np.abs(kernel).max()
    assert square.data[0].zmin == -bound and square.data[0].zmax == bound


def test_epoch_points_sit_where_each_epoch_ended_even_a_stopped_one():
    logs = [{"loss": 1.0, "accuracy": 0.5}, {"loss": 0.5, "accuracy": 0.8}]
    fig = plots.training_curves(np.linspace(1, 0.5, 126), np.linspace(0, 1, 126), logs, [125, 126])
    assert list(fig.data[2].x) == [125, 126] and list(fig.data[2].y) == [1.0, 0.5]
    assert fig.data[0].x[-1] == 126  # the batch curve reaches the last batch
