import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz import models
from tests.conftest import ROOT


def page(name: str, drawing=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"pages/{name}.py"), default_timeout=180)
    if drawing is not None:
        at.session_state["drawing"] = drawing
    return at.run()


def test_inside_page_filters_maps_and_saliency_render():
    at = page("inside")
    assert not at.exception and not at.error
    assert at.selectbox(key="inside_filters_layer").options == ["conv1", "conv2"]
    at.selectbox(key="inside_filters_layer").set_value("conv2").run()
    assert at.slider(key="inside_filters_channel").max == 5  # conv2 reads 6 channels
    assert at.selectbox(key="inside_maps_layer").options == ["conv1", "avgpool1", "conv2",
                                                             "avgpool2"]
    assert at.selectbox(key="inside_saliency_layer").value == "conv2"
    assert not at.exception


def test_inside_page_activation_maximization_shows_self_probabilities():
    at = page("inside")
    at.button(key="inside_dream_run").click().run()
    assert not at.exception
    assert any("steps in" in c.value for c in at.caption)
    png = at.get("download_button")
    assert png  # PNG export offered


def test_inside_page_uses_the_drawing():
    at = page("inside", drawing=np.eye(28, dtype=np.float32))
    assert at.segmented_control(key="inside_maps_source").value == "Your drawing"
    assert not at.exception


def test_gallery_numbers_equal_keras():
    import keras

    at = page("gallery")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Parameters"] == f"{models.build('alexnet').count_params():,}"
    at.segmented_control(key="gallery_arch").set_value("vgg16").run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Parameters"] == f"{keras.applications.VGG16(weights=None).count_params():,}"
    table = at.dataframe[0].value
    assert table["parameters"].sum() == 138_357_544
    assert not at.exception


def test_draw_page_shows_where_the_network_looked():
    at = AppTest.from_file(str(ROOT / "pages/draw.py"), default_timeout=180).run()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    assert not at.exception
    assert any("Where the network looked" in c.value for c in at.caption)
