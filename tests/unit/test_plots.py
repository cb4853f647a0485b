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


def test_image_grid_wraps_into_rows_top_to_bottom():
    images = np.random.default_rng(1).random((12, 8, 8))
    fig = plots.heatmap_grid(images, [str(i) for i in range(12)], cols=5)
    assert len(fig.data) == 12
    for i, trace in enumerate(fig.data):
        np.testing.assert_array_equal(trace.z, images[i])
    first, sixth, eleventh = (fig.layout[f"yaxis{s}"].domain for s in ("", "6", "11"))
    assert first[0] > sixth[1] and sixth[0] > eleventh[1]  # rows stacked, row 1 highest
    assert fig.layout.xaxis.domain == fig.layout.xaxis6.domain  # same column


def test_epoch_points_sit_where_each_epoch_ended_even_a_stopped_one():
    logs = [{"loss": 1.0, "accuracy": 0.5}, {"loss": 0.5, "accuracy": 0.8}]
    fig = plots.training_curves(np.linspace(1, 0.5, 126), np.linspace(0, 1, 126), logs, [125, 126])
    assert list(fig.data[2].x) == [125, 126] and list(fig.data[2].y) == [1.0, 0.5]
    assert fig.data[0].x[-1] == 126  # the batch curve reaches the last batch


def test_accuracy_curves_draw_one_line_per_model_with_its_points():
    fig = plots.accuracy_curves({"shipped": ((-10, 0, 10), (0.9, 0.99, 0.95)),
                                 "run": ((-10, 0, 10), (0.5, 0.98, 0.6))}, "Rotation (°)")
    assert [t.name for t in fig.data] == ["shipped", "run"]
    assert list(fig.data[1].x) == [-10, 0, 10] and list(fig.data[1].y) == [0.5, 0.98, 0.6]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.layout.xaxis.title.text == "Rotation (°)"
    assert tuple(fig.layout.yaxis.range) == (0, 1.02)
