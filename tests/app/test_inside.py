import json

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


def chart(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id and key in
                           c.proto.id).proto.spec)


def chart_titles(spec: dict) -> list[str]:
    return [a["text"] for a in spec["layout"].get("annotations", [])]


def test_inside_page_shows_one_input_channel_of_a_filter_not_the_rest():
    at = page("inside")
    at.selectbox(key="inside_filters_layer").set_value("conv2").run()
    at.slider(key="inside_filters_channel").set_value(3).run()
    at.toggle(key="inside_filters_numbers").set_value(True).run()
    table = at.dataframe[1].value  # after the layer table
    kernel = models.load(models.SHIPPED_MODEL).get_layer("conv2").kernel.numpy()
    assert set(table["channel"]) == {3}
    for row in table.sample(20, random_state=0).itertuples():
        assert row.weight == kernel[row.row, row.column, 3, row.filter]
    assert len(table) == 5 * 5 * 16


def test_inside_page_activation_maximization_titles_are_the_models_probabilities():
    from cnnviz import data

    at = page("inside")
    at.button(key="inside_dream_run").click().run()
    assert not at.exception
    assert any("steps in" in c.value for c in at.caption)
    dream = at.session_state["inside_dream_result"][1]
    model = models.load(models.SHIPPED_MODEL)
    probs = model(dream.images, training=False).numpy()
    ds = data.load("mnist")
    means = np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(10)])
    mean_probs = model(means, training=False).numpy()
    titles = chart_titles(chart(at, "inside_dream_grid"))
    assert titles == [f"{c} {probs[c, c]:.0%}" for c in range(10)] + \
        [f"mean {c} {mean_probs[c, c]:.0%}" for c in range(10)]
    png = at.get("download_button")[0].proto
    assert png.label == "Download PNG"


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


def test_one_unit_of_conv2_adds_up_to_the_keras_output():
    import keras

    drawing = np.random.default_rng(5).random((28, 28)).astype(np.float32)
    at = page("inside", drawing=drawing)
    at.selectbox(key="inside_unit_layer").set_value("conv2").run()
    at.slider(key="inside_unit_row").set_value(3)
    at.slider(key="inside_unit_column").set_value(4)
    at.slider(key="inside_unit_channel").set_value(5).run()
    assert not at.exception
    model = models.load(models.SHIPPED_MODEL)
    want = keras.Model(model.input, model.get_layer("conv2").output)(
        drawing[None, ..., None]).numpy()[0, 3, 4, 5]
    shown = {m.label: m.value for m in at.metric}
    assert shown["conv2 at [3, 4, 5]"] == f"{want:.6f}"
    assert any("rows 6–19 and columns 8–21" in c.value for c in at.caption)


def test_one_unit_of_the_output_layer_shows_the_softmax_step():
    drawing = np.random.default_rng(6).random((28, 28)).astype(np.float32)
    at = page("inside", drawing=drawing)
    at.selectbox(key="inside_unit_layer").set_value("dense3").run()
    at.slider(key="inside_unit_unit").set_value(7).run()
    assert not at.exception
    probs = models.load(models.SHIPPED_MODEL)(drawing[None, ..., None]).numpy()[0]
    assert {m.label: m.value for m in at.metric}["dense3 at [7]"] == f"{probs[7]:.6f}"
    assert any("softmax over all 10 units" in m.value for m in at.markdown)


def test_inside_page_shows_each_classs_favourite_test_images_beside_the_dreams():
    at = page("inside")
    at.button(key="inside_dream_run").click().run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "then the 5 of the 10,000 test images with the highest score (before the softmax)" \
        in captions
    assert any(m.value == "**Test images each class likes best**" for m in at.markdown)


def test_inside_page_sanity_check_curves_are_the_cascades_correlations():
    from cnnviz import data, sanity

    at = page("inside")
    assert at.segmented_control(key="inside_saliency_source").value == "MNIST test image"
    at.button(key="inside_sanity_run").click().run()
    assert not at.exception and not at.error
    image = data.load_sample("mnist").x_test[0]
    cls = int(np.argmax(models.load(models.SHIPPED_MODEL)(image[None]).numpy()))
    check = sanity.Randomiser(models.load(models.SHIPPED_MODEL)).run(image, cls)
    spec = chart(at, "inside_sanity_curves")
    assert [t["name"] for t in spec["data"]] == ["Gradient", "SmoothGrad", "Grad-CAM"]
    for t in spec["data"]:
        np.testing.assert_allclose(t["y"], check.correlation[t["name"]], atol=1e-6)
    assert spec["data"][0]["x"] == ["trained", "…dense3", "…dense2", "…dense1", "…conv2",
                                    "…conv1"]
    assert f"Gradient {check.correlation['Gradient'][-1]:+.2f}" in " ".join(
        c.value for c in at.caption)


def test_inside_page_shows_each_filters_favourite_test_images():
    at = page("inside")
    at.selectbox(key="inside_dream_target").set_value("each filter of conv1").run()
    at.button(key="inside_dream_run").click().run()
    assert not at.exception and not at.error
    assert any(m.value == "**Test images each filter likes best**" for m in at.markdown)
    assert "highest summed response for the same filter" in " ".join(c.value for c in at.caption)
