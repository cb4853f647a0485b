"""Every model kind × every page that uses a model: a working view or one clear sentence."""

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import preprocess
from cnnviz.ui.choice import Uploads
from tests import model_kinds
from tests.model_kinds import keras_input
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: model_kinds.save(kind, folder)
            for kind in [*model_kinds.USABLE, *model_kinds.REFUSED]}


def page_with_model(page: str, path, **state) -> AppTest:
    """The page with the model at `path` uploaded and chosen, as the sidebar would do it."""
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=180)
    uploads = Uploads()
    uploads.paths[path.name], uploads.file_ids[path.name] = path, "test"
    at.session_state["uploaded_models"] = uploads
    at.session_state["chosen_model"] = f"Upload {path.name}"
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_draw_page_predicts_as_keras_for_every_usable_kind(saved, kind):
    at = page_with_model("draw", saved[kind], draw_source="MNIST test digit")
    # random weights: "The label is …" in red is the page judging a wrong answer
    problems = [e.value for e in at.error if not e.value.startswith("The label is")]
    assert not at.exception and not problems, problems
    assert at.selectbox(key="draw_model").value == f"Upload {kind}.keras"
    from cnnviz import data

    image = data.load("mnist").x_test[at.session_state["draw_mnist_index"], ..., 0]
    x = preprocess.preprocess(image).model_input
    model = keras.models.load_model(saved[kind])
    out = model(keras_input(model, x), training=False).numpy()[0]
    probs = keras.ops.softmax(out).numpy() if kind == "logits" else out
    shown = {m.label: m.value for m in at.metric}
    assert shown["Prediction"] == str(int(np.argmax(probs)))
    assert shown["Confidence"] == f"{probs.max():.1%}"
    captions = texts(at.caption)
    assert ("applies a softmax" in captions) == (kind == "logits")
    if kind in model_kinds.NO_CONV:
        assert "This model has no conv layers" in texts(at.info)
        assert "Grad-CAM needs a conv layer" in captions
    else:
        assert at.segmented_control(key="draw_layer").options


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_inside_page_shows_what_applies_for_every_usable_kind(saved, kind):
    at = page_with_model("inside", saved[kind])
    assert not at.exception and not at.error, texts(at.error)
    if kind in model_kinds.NO_CONV:
        infos = texts(at.info)
        assert "no conv layers: it has no filters" in infos
        assert "no layer outputs a map" in infos
        assert "Grad-CAM needs a conv layer" in texts(at.caption)
    else:
        assert at.selectbox(key="inside_filters_layer").options
        assert at.selectbox(key="inside_maps_layer").options
        assert at.selectbox(key="inside_saliency_layer").options
    at.button(key="inside_dream_run").click().run()
    assert not at.exception
    captions = texts(at.caption)
    assert "steps in" in captions and "test images with the highest" in captions
    at.button(key="inside_sanity_run").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert "Rank correlation with the trained map once every layer is random" in texts(at.caption)


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_robustness_lab_predicts_and_draws_curves_as_keras_for_every_usable_kind(saved, kind):
    at = page_with_model("robustness", saved[kind], robust_shift=3, robust_numbers=True,
                         robust_curve_corruption="Shift right", robust_curve_images=500)
    assert not at.exception and not at.error, texts(at.error)
    from cnnviz import data

    ds = data.load("mnist")
    x = np.zeros((1, 28, 28, 1), np.float32)  # the first test image moved 3 px right, by hand
    x[0, :, 3:] = data.load_sample("mnist").x_test[0, :, :25]
    model = keras.models.load_model(saved[kind])

    def keras_probs(images):
        out = model(keras_input(model, images), training=False).numpy()
        return keras.ops.softmax(out).numpy() if kind == "logits" else out

    probs = keras_probs(x)[0]
    assert {m.label: m.value for m in at.metric}["Prediction"] == str(int(np.argmax(probs)))
    table = next(d.value for d in at.dataframe if "probability" in d.value.columns)
    np.testing.assert_allclose(table["probability"], probs, atol=1e-6)
    at.button(key="robust_curve_run").click().run()
    at.toggle(key="robust_curve_numbers").set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    curves = next(d.value for d in at.dataframe if "strength (px)" in d.value.columns)
    at_zero = curves.loc[curves["strength (px)"] == 0, f"Upload {kind}.keras"].item()
    want = (keras_probs(ds.x_test[:500]).argmax(1) == ds.y_test[:500]).mean()
    assert at_zero == want


@pytest.mark.parametrize("page", ["draw", "inside", "robustness"])
@pytest.mark.parametrize("kind", model_kinds.REFUSED)
def test_refused_kinds_get_one_sentence_on_every_page(saved, kind, page):
    at = page_with_model(page, saved[kind], draw_source="MNIST test digit")
    assert not at.exception
    message = texts(at.error)
    assert f"Upload {kind}.keras cannot classify 28×28 digits" in message
    assert model_kinds.REFUSED[kind][1] in message
    assert "Traceback" not in message and str(saved[kind].parent) not in message
