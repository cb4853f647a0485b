import keras
import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz import models, preprocess
from cnnviz.ui.draw import Strokes
from tests.conftest import ROOT


def draw_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/draw.py"), default_timeout=120).run()


def test_empty_canvas_gives_a_hint_and_no_prediction():
    at = draw_page()
    assert not at.exception
    assert "Draw a digit from 0 to 9" in at.info[0].value
    assert not [m for m in at.metric if m.label == "Prediction"]
    assert at.selectbox(key="draw_model").value == "LeNet-5 (shipped)"


def test_mnist_test_digit_is_classified_as_keras_computes():
    at = draw_page()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    assert not at.exception
    index = at.session_state["draw_mnist_index"]
    from cnnviz import data

    image = data.load("mnist").x_test[index, ..., 0]
    model = models.load(models.SHIPPED_MODEL)
    x = preprocess.preprocess(image).model_input
    expected = model(x[None], training=False).numpy()[0]  # Keras itself, not our probe
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Prediction"] == str(int(np.argmax(expected)))
    assert metrics["Confidence"] == f"{expected.max():.1%}"
    np.testing.assert_allclose(at.session_state["drawing"], x[..., 0])
    # one choice per conv/pooling layer, named with its shape
    labels = at.segmented_control(key="draw_layer").options
    assert labels == [f"{layer.name} {'×'.join(map(str, layer.output.shape[1:]))}"
                      for layer in model.layers
                      if isinstance(layer, (keras.layers.Conv2D, keras.layers.AveragePooling2D))]


def test_next_test_digit_button_changes_the_digit():
    at = draw_page()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    seen = {at.session_state["draw_mnist_index"]}
    for _ in range(3):
        at.button(key="draw_mnist_index_next").click().run()
        seen.add(at.session_state["draw_mnist_index"])
    assert len(seen) > 1 and not at.exception


def test_page_runs_keep_tensorflow_state_between_drawings():
    """Streamlit resets Keras after every script run unless the app stops it; that reset empties
    TensorFlow's kernel cache and runs a full garbage collection on every rerun."""
    import keras

    keras.layers.Dense(1)
    before = keras.layers.Dense(1).name  # names count up until a reset
    draw_page()
    after = keras.layers.Dense(1).name
    assert after != "dense" and after != before, (before, after)


def test_switching_to_an_empty_upload_clears_the_answer():
    at = draw_page()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    assert [m for m in at.metric if m.label == "Prediction"]
    at.segmented_control(key="draw_source").set_value("Upload").run()
    assert not at.exception
    assert not [m for m in at.metric if m.label == "Prediction"]
    assert "Upload a photo or scan of one digit" in at.info[0].value
    assert not at.subheader  # no stages or maps of the earlier digit
    at.segmented_control(key="draw_source").set_value("Draw").run()
    assert "Draw a digit from 0 to 9" in at.info[0].value


def test_clicking_the_selected_input_again_keeps_it_selected():
    at = draw_page()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    at.segmented_control(key="draw_source").set_value(None).run()  # what a second click sends
    assert at.segmented_control(key="draw_source").value == "MNIST test digit"
    assert [m for m in at.metric if m.label == "Prediction"]


def test_the_numbers_behind_the_pictures_are_what_keras_computes():
    from cnnviz import data

    at = draw_page()
    at.segmented_control(key="draw_source").set_value("MNIST test digit").run()
    at.toggle(key="draw_numbers").set_value(True).run()
    assert not at.exception
    image = data.load("mnist").x_test[at.session_state["draw_mnist_index"], ..., 0]
    x = preprocess.preprocess(image).model_input
    expected = models.load(models.SHIPPED_MODEL)(x[None], training=False).numpy()[0]
    probs_table, input_table = (d.value for d in at.dataframe)
    np.testing.assert_allclose(probs_table["probability"], expected, atol=1e-6)
    np.testing.assert_allclose(input_table.to_numpy(), x[..., 0], atol=1e-7)


def test_a_drawing_made_before_leaving_the_page_is_there_on_return():
    at = AppTest.from_file(str(ROOT / "pages/draw.py"), default_timeout=120)
    # what the page kept when the learner left: the canvas's strokes and pixels (a drawn 1)
    pixels = np.zeros((280, 280), np.uint8)
    pixels[40:240, 130:150] = 255
    at.session_state["draw_canvas_strokes"] = Strokes(objects=[{"type": "path"}], pixels=pixels)
    at.run()
    assert not at.exception
    x = preprocess.preprocess(pixels).model_input
    expected = models.load(models.SHIPPED_MODEL)(x[None], training=False).numpy()[0]
    assert {m.label: m.value for m in at.metric}["Prediction"] == str(int(np.argmax(expected)))


def test_a_drawing_unlike_mnist_gets_a_hint_and_still_an_answer():
    at = AppTest.from_file(str(ROOT / "pages/draw.py"), default_timeout=120)
    pixels = np.zeros((280, 280), np.uint8)
    pixels[40:240, 60:63] = 255  # a 1 drawn with a 3-pixel pen: about 0.5 px once scaled
    at.session_state["draw_canvas_strokes"] = Strokes(objects=[{"type": "path"}], pixels=pixels)
    at.run()
    assert not at.exception
    assert [m for m in at.metric if m.label == "Prediction"]
    assert any("thinner than MNIST's" in i.value for i in at.info)
