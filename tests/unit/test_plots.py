import numpy as np
import pytest

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


def _formatted(template: str, v: float) -> str:
    """What Plotly's d3-format writes for the few templates the grids use. ".3~g" is
    JavaScript's toPrecision(3) with trailing zeros trimmed: fixed notation unless the exponent
    is below -6 or at least the precision (4.4e-05 -> "0.000044", 1.94e-9 -> "1.94e-9")."""
    spec = template.removeprefix("%{z:").removesuffix("}")
    if not spec.endswith("~g"):
        return format(v, spec)
    p = int(spec[1:-2])
    if v == 0:
        return "0"
    e = int(np.floor(np.log10(abs(float(f"{v:.{p - 1}e}")))))
    if e < -6 or e >= p:
        mantissa, exp = f"{v:.{p - 1}e}".split("e")
        text = mantissa.rstrip("0").rstrip(".") + "e" + str(int(exp)).replace("+", "")
        return text if int(exp) < 0 else text.replace("e", "e+")
    fixed = f"{v:.{max(p - 1 - e, 0)}f}"
    return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed


def test_formatted_follows_javascripts_to_precision():
    assert [_formatted("%{z:.3~g}", v) for v in (4.4e-05, 1.94e-9, -0.000435, 1234.0, 0.5)] \
        == ["0.000044", "1.94e-9", "-0.000435", "1.23e+3", "0.5"]


@pytest.mark.parametrize("k", [3, 5, 7])
def test_every_number_of_the_arithmetic_grids_fits_its_cell(k):
    """Issue 20.12: with 5×5 and 7×7 kernels the numbers ran into each other."""
    rng = np.random.default_rng(k)
    worst = np.array([-9.87654, 4.4e-05, -0.000123, 9.99, -5.55])  # typed kernels, tiny products
    patch = rng.choice(worst, (k, k, 1))
    fig = plots.arithmetic(patch, patch, patch * patch)
    width = 700  # the three grids share about this much of the lab's column
    for trace, axis in zip(fig.data, ("xaxis", "xaxis2", "xaxis3")):
        domain = fig.layout[axis].domain
        cell = width * (domain[1] - domain[0]) / k
        size = trace.textfont.size
        longest = max(len(_formatted(trace.texttemplate, v)) for v in np.ravel(trace.z))
        assert longest * 0.6 * size <= cell, (k, trace.texttemplate, longest, cell)


@pytest.mark.parametrize("rows", [1, 2, 3, 5])
def test_grid_titles_have_room_above_their_row(rows):
    """Issue 20.15: titles of a row (the most confident mistakes, filters' dreams) ran into
    the row above."""
    fig = plots.heatmap_grid(np.zeros((rows * 10, 8, 8)), ["5 as 3 (99%)"] * rows * 10)
    height = fig.layout.height
    tops = sorted({fig.layout[f"yaxis{'' if i == 0 else i + 1}"].domain for i in
                   range(0, rows * 10, 10)}, key=lambda d: -d[1])
    for above, below in zip(tops, tops[1:]):
        assert (above[0] - below[1]) * height >= 24  # a 12-px title and its margins


def test_architectures_map_keeps_every_name_inside_its_axes():
    summaries = {"LeNet-5": {"total_params": 61_706, "macs": 416_520},
                 "VGG16": {"total_params": 138_357_544, "macs": 15_470_264_320},
                 "tiny": {"total_params": 100, "macs": 0}}
    fig = plots.architectures_map(summaries)
    lo, hi = fig.layout.xaxis.range
    ylo, yhi = fig.layout.yaxis.range
    for s in summaries.values():
        assert lo + 0.4 <= np.log10(s["total_params"]) <= hi - 0.4
        assert ylo + 0.4 <= np.log10(max(s["macs"], 1)) <= yhi - 0.4


def test_the_plotly_tool_bar_stands_aside_of_chart_titles():
    for fig in (plots.heatmap_grid(np.zeros((2, 4, 4)), ["a", "b"]),
                plots.weight_histogram(np.zeros(5)), plots.confusion(np.eye(10), list("0123456789"))):
        assert fig.layout.modebar.orientation == "v"


def test_accuracy_curves_draw_one_line_per_model_with_its_points():
    fig = plots.accuracy_curves({"shipped": ((-10, 0, 10), (0.9, 0.99, 0.95)),
                                 "run": ((-10, 0, 10), (0.5, 0.98, 0.6))}, "Rotation (°)")
    assert [t.name for t in fig.data] == ["shipped", "run"]
    assert list(fig.data[1].x) == [-10, 0, 10] and list(fig.data[1].y) == [0.5, 0.98, 0.6]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.layout.xaxis.title.text == "Rotation (°)"
    assert tuple(fig.layout.yaxis.range) == (0, 1.02)
