"""The Embedding map page: the drawing's point, its neighbours and the map against Keras, numpy's
SVD and a brute-force search; every kind of model."""

import json

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import data, models, preprocess
from cnnviz.ui.draw import Strokes
from tests import model_kinds
from tests.model_kinds import keras_input
from tests.app.test_model_kinds import page_with_model, texts
from tests.conftest import ROOT, requires_data


def a_drawn_seven() -> np.ndarray:
    pixels = np.zeros((280, 280), np.uint8)
    pixels[50:70, 60:220] = 255  # the bar
    for r in range(70, 240):  # the stem, slanting left
        c = int(200 - (r - 70) * 0.55)
        pixels[r, c - 10:c + 10] = 255
    return pixels


def strokes(pixels) -> dict:
    return {"draw_canvas_strokes": Strokes(objects=[{"type": "path"}], pixels=pixels)}


def chart(at) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart")
                           if "map_chart" in c.proto.id).proto.spec)


def trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


def values(v) -> np.ndarray:
    """A trace's array as Plotly's JSON carries it (a list, or typed-array bytes)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


@requires_data
def test_the_drawing_lands_where_pca_of_keras_features_puts_it():
    at = AppTest.from_file(str(ROOT / "pages/map.py"), default_timeout=180)
    for key, value in strokes(a_drawn_seven()).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="map_layer").value == "dense2"  # the penultimate layer
    model = models.load(models.SHIPPED_MODEL)
    x = preprocess.preprocess(a_drawn_seven()).model_input
    probs = model(x[None]).numpy()[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["The network says"] == str(int(np.argmax(probs)))
    # the reference: Keras' dense2 outputs, PCA by numpy's SVD, distances by brute force
    ds = data.load("mnist")
    cut = keras.Model(model.inputs, model.get_layer("dense2").output)
    assert model.input_shape == (None, 28, 28, 1)
    feats, f = cut(ds.x_test[:5000]).numpy(), cut(x[None]).numpy()[0]
    centred = feats.astype(np.float64) - feats.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:2] * np.sign(vt[np.arange(2), np.abs(vt[:2]).argmax(1)])[:, None]
    spec = chart(at)
    star = trace(spec, "your drawing")
    np.testing.assert_allclose([values(star["x"])[0], values(star["y"])[0]],
                               (f - feats.mean(0)) @ vt.T, rtol=1e-3, atol=1e-3)
    nearest = np.argsort(np.linalg.norm(feats - f, axis=1))[:8]
    np.testing.assert_array_equal(values(trace(spec, "nearest")["customdata"]), nearest)
    sevens = trace(spec, "7")
    idx = values(sevens["customdata"])
    np.testing.assert_array_equal(idx, np.flatnonzero(ds.y_test[:5000] == 7))
    np.testing.assert_allclose(values(sevens["x"]), (centred @ vt[0])[idx], rtol=1e-3, atol=1e-3)


def test_without_a_drawing_the_map_invites_one():
    at = AppTest.from_file(str(ROOT / "pages/map.py"), default_timeout=180).run()
    assert not at.exception and not at.error
    assert "Draw a digit: a star marks where it lands" in texts(at.info)
    names = [t.get("name") for t in chart(at)["data"]]
    assert "your drawing" not in names and names[:10] == [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: model_kinds.save(kind, folder)
            for kind in [*model_kinds.USABLE, *model_kinds.REFUSED]}


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_every_usable_kind_maps_the_drawing(saved, kind):
    at = page_with_model("map", saved[kind], **strokes(a_drawn_seven()))
    assert not at.exception and not at.error, texts(at.error)
    model = keras.models.load_model(saved[kind])
    x = preprocess.preprocess(a_drawn_seven()).model_input
    out = model(keras_input(model, x)).numpy()[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["The network says"] == str(int(np.argmax(out)))
    assert trace(chart(at), "your drawing")


@pytest.mark.parametrize("kind", model_kinds.REFUSED)
def test_refused_kinds_get_one_sentence(saved, kind):
    at = page_with_model("map", saved[kind])
    assert not at.exception
    message = texts(at.error)
    assert f"Upload {kind}.keras cannot classify 28×28 digits" in message
    assert model_kinds.REFUSED[kind][1] in message


@requires_data
def test_a_wide_layer_maps_only_as_many_images_as_its_features_allow(monkeypatch):
    from cnnviz import embedding

    monkeypatch.setattr(embedding, "MAX_VALUES", 3_456 * 800)  # conv1: 24×24×6 features
    at = AppTest.from_file(str(ROOT / "pages/map.py"), default_timeout=180)
    at.session_state["map_layer"] = "conv1"
    at.run()
    assert not at.exception and not at.error
    assert "800 test images on the map: as many as 3,456 features each allow." in texts(
        at.caption)
    names = [t.get("name") for t in chart(at)["data"]]
    assert sum(len(values(t["customdata"])) for t in chart(at)["data"] if t["name"] in
               [str(d) for d in range(10)]) == 800, names
