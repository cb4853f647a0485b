import numpy as np
import pytest
from scipy import ndimage
from streamlit.testing.v1 import AppTest

from cnnviz import data, kernels, ops
from tests.conftest import ROOT


def lab(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / f"pages/{name}.py"), default_timeout=120).run()


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_conv_lab_default_sobel_x_on_an_mnist_digit_matches_scipy():
    at = lab("conv")
    assert not at.exception and not at.error
    assert at.selectbox(key="conv_named").value == "Sobel x"
    x = data.load_sample("mnist").x_test[0, ..., 0].astype(np.float64)
    want = ndimage.correlate(x, kernels.NAMED["Sobel x"], mode="constant")[1:-1, 1:-1]
    i, j = at.slider(key="conv_cell_row").value, at.slider(key="conv_cell_col").value
    assert (i, j) == np.unravel_index(np.abs(want).argmax(), want.shape)  # strongest first
    shown = metrics(at)
    assert shown[f"Output [{i}, {j}]"] == f"{want[i, j]:.4f}" != "0.0000"
    assert shown["Sum of products"] == shown[f"Output [{i}, {j}]"]
    assert any("= 26" in m.value for m in at.markdown)  # 28 - 3 + 1, per axis


def test_conv_lab_step_moves_one_cell_and_wraps():
    at = lab("conv")
    at.slider(key="conv_cell_row").set_value(25)
    at.slider(key="conv_cell_col").set_value(25).run()
    at.button(key="conv_cell_next").click().run()
    assert (at.slider(key="conv_cell_row").value, at.slider(key="conv_cell_col").value) == (0, 0)
    at.button(key="conv_cell_prev").click().run()
    assert (at.slider(key="conv_cell_row").value, at.slider(key="conv_cell_col").value) == (25, 25)


def test_conv_lab_parameters_change_the_output_shape_as_the_formula_says():
    at = lab("conv")
    at.segmented_control(key="conv_padding").set_value("full")
    at.slider(key="conv_stride").set_value(3)
    at.slider(key="conv_dilation").set_value(2).run()
    assert not at.exception and not at.error
    out = ops.output_size(28, 3, 3, 2, "full")
    assert any(m.value.endswith(f"= {out}") for m in at.markdown)
    assert at.slider(key="conv_cell_row").max == out - 1


def test_conv_lab_bias_relu_and_flip():
    at = lab("conv")
    at.number_input(key="conv_bias").set_value(-0.5)
    at.segmented_control(key="conv_activation").set_value("ReLU")
    at.radio(key="conv_mode").set_value("true convolution").run()
    shown = metrics(at)
    z = float(shown["Sum of products"]) - 0.5
    assert shown["After ReLU"] == f"{max(z, 0):.4f}"
    i, j = at.slider(key="conv_cell_row").value, at.slider(key="conv_cell_col").value
    assert shown[f"Output [{i}, {j}]"] == shown["After ReLU"]


def test_conv_lab_custom_kernel_errors_keep_the_page_alive():
    at = lab("conv")
    at.segmented_control(key="conv_family").set_value("Custom").run()
    for text, message in [("nan 1", "NaN"), ("", "empty"), ("\n".join(["1 " * 8] * 8), "8×8"),
                          ("1 2\n3", "same number")]:
        at.text_area(key="conv_custom").set_value(text).run()
        assert not at.exception
        assert message in at.error[0].value
    at.text_area(key="conv_custom").set_value("\n".join(["1 " * 7] * 7)).run()
    at.segmented_control(key="conv_padding").set_value("valid")
    assert not at.error
    at.selectbox(key="conv_source").set_value("Photo (Chelsea the cat)").run()
    at.slider(key="conv_side").set_value(16).run()  # 16x11: a 7x7 kernel fits, just
    at.slider(key="conv_dilation").set_value(3).run()  # spans 19 px: more than the input
    assert not at.exception
    assert "spans 19×19 pixels but the padded input is only 11×16" in at.error[0].value


def test_conv_lab_rgb_photo_has_per_channel_views_that_add_up():
    at = lab("conv")
    at.selectbox(key="conv_source").set_value("Photo (Chelsea the cat)").run()
    at.toggle(key="conv_rgb").set_value(True)
    at.slider(key="conv_side").set_value(32).run()
    assert not at.exception and not at.error
    assert any("Channel sums" in m.value for m in at.markdown)
    assert at.get("plotly_chart")  # per-channel figure present
    assert "Per channel" in [h.value for h in at.subheader]


def test_conv_lab_learned_filter_on_the_drawing_is_the_networks_own_map():
    import keras

    from cnnviz import models

    drawing = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120)
    at.session_state["drawing"] = drawing
    at.run()
    at.segmented_control(key="conv_family").set_value("Learned").run()
    at.selectbox(key="conv_learned").set_value("conv1 filter 3").run()
    assert not at.exception
    model = models.load(models.SHIPPED_MODEL)
    conv1 = keras.Model(model.input, model.get_layer("conv1").output)
    want = conv1(drawing[None, ..., None], training=False).numpy()[0, ..., 3]
    i, j = at.slider(key="conv_cell_row").value, at.slider(key="conv_cell_col").value
    shown = {m.label: m.value for m in at.metric}
    assert shown[f"Output [{i}, {j}]"] == f"{want[i, j]:.4f}"
    assert at.slider(key="conv_cell_row").max == want.shape[0] - 1  # 24×24, as Keras'
    at.slider(key="conv_cell_row").set_value(5)
    at.slider(key="conv_cell_col").set_value(17).run()
    assert {m.label: m.value for m in at.metric}["Output [5, 17]"] == f"{want[5, 17]:.4f}"


def test_conv_lab_uses_the_drawing_from_the_draw_page():
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120)
    at.session_state["drawing"] = np.eye(28, dtype=np.float32)
    at.run()
    assert at.selectbox(key="conv_source").value == "Your drawing"
    assert not at.exception


def test_pool_lab_default_matrix_steps_match_keras_style_pooling():
    at = lab("pool")
    assert not at.exception and not at.error
    x = kernels.parse(at.text_area(key="pool_matrix").value)
    pooled = ops.pool2d(x, 2)
    for _ in range(4):
        i, j = at.slider(key="pool_cell_row").value, at.slider(key="pool_cell_col").value
        shown = metrics(at)
        assert shown[f"Output [{i}, {j}]"] == f"{pooled[i, j]:.4f}"
        assert shown["Window value"] == shown[f"Output [{i}, {j}]"]
        at.button(key="pool_cell_next").click().run()


@pytest.mark.parametrize("mode, reduce", [("global max", np.max), ("global average", np.mean)])
def test_pool_lab_global_pooling_is_one_window(mode, reduce):
    at = lab("pool")
    at.radio(key="pool_mode").set_value(mode).run()
    x = kernels.parse(at.text_area(key="pool_matrix").value)
    assert metrics(at)["Output [0, 0]"] == f"{reduce(x):.4f}"
    assert not at.exception


def test_pool_lab_bad_matrix_and_too_big_window():
    at = lab("pool")
    at.text_area(key="pool_matrix").set_value("1 2\n3 x").run()
    assert "'x' is not a number" in at.error[0].value
    at.text_area(key="pool_matrix").set_value("1 2\n3 4")
    at.slider(key="pool_size").set_value(3).run()
    assert not at.exception
    assert "No output" in at.error[0].value


def test_pool_lab_feature_map_of_the_drawing():
    at = AppTest.from_file(str(ROOT / "pages/pool.py"), default_timeout=120)
    at.session_state["drawing"] = np.eye(28, dtype=np.float32)
    at.run()
    at.radio(key="pool_source").set_value("Feature map of your drawing").run()
    assert not at.exception
    assert at.selectbox(key="pool_layer").value == "conv1"
    assert "Output [" in " ".join(metrics(at))


@pytest.mark.parametrize("setting, value, note", [
    ("conv_padding", "full", "pads only 'valid' or 'same'"),
    ("conv_boundary", "reflect", "mode 'REFLECT'"),
    ("conv_mode", "true convolution", "rotated by 180°"),
])
def test_conv_lab_says_which_settings_keras_conv2d_does_not_have(setting, value, note):
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120).run()
    assert not any("Keras" in i.value for i in at.info)  # the defaults are Keras' own
    widget = {"conv_padding": at.segmented_control, "conv_boundary": at.selectbox,
              "conv_mode": at.radio}[setting](key=setting)
    widget.set_value(value).run()
    assert any(note in i.value for i in at.info)


def test_conv_lab_stride_with_dilation_is_explained():
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120).run()
    at.slider(key="conv_stride").set_value(2)
    at.slider(key="conv_dilation").set_value(2).run()
    assert any("refuses a stride above 1 together with a dilation" in i.value for i in at.info)


def test_a_unit_opened_from_the_inside_page_is_its_channel_sum_in_the_lab():
    import keras

    from cnnviz import models, units
    from cnnviz.ui.inputs import LabUnit

    drawing = np.random.default_rng(7).random((28, 28, 1)).astype(np.float32)
    model = models.load(models.SHIPPED_MODEL)
    cutter = units.Cutter(model)
    unit = units.explain(cutter, drawing, "conv2", (2, 5, 9))
    x = keras.Model(model.input, model.get_layer("avgpool1").output)(drawing[None]).numpy()[0]
    kernel = model.get_layer("conv2").kernel.numpy()[:, :, 4, 9]  # from Keras, not the unit
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120)
    # what the Inside page's "Open in the Convolution lab" leaves for the lab
    at.session_state["lab_unit"] = LabUnit("conv2's input, channel 4", x[..., 4], kernel, 1,
                                           "valid", 1, 2, 5, float(unit.channel_sums[4]))
    for name, value in (("source", "A unit from the Inside page"), ("padding", "valid"),
                        ("stride", 1), ("dilation", 1), ("cell_row", 2), ("cell_col", 5)):
        at.session_state[f"conv_{name}"] = value
    at.run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Output [2, 5]"] == f"{unit.channel_sums[4]:.4f}"
    assert at.slider(key="conv_cell_row").max == 7  # conv2's 8×8 output


def test_the_inside_page_button_carries_the_unit_to_the_lab():
    at = AppTest.from_file(str(ROOT / "pages/inside.py"), default_timeout=120)
    at.session_state["drawing"] = np.random.default_rng(8).random((28, 28)).astype(np.float32)
    at.run()
    at.selectbox(key="inside_unit_layer").set_value("conv2").run()
    at.button(key="inside_unit_lab").click().run()
    unit = at.session_state["lab_unit"]
    assert unit.kernel.shape == (5, 5) and unit.image.shape == (12, 12)
    assert at.session_state["conv_source"] == "A unit from the Inside page"
    assert (at.session_state["conv_cell_row"], at.session_state["conv_cell_col"]) == \
        (unit.row, unit.col)
