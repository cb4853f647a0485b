"""The embedding map: PCA against numpy's SVD, nearest neighbours against a brute-force search,
features and predictions against Keras, for every kind of model the app takes."""

import keras
import numpy as np
import pytest

from cnnviz import embedding, introspect, models
from tests import model_kinds
from tests.model_kinds import keras_input


def svd_pca(x, dims=2):
    """Reference: right singular vectors of the centred data, signs as `fit_pca` fixes them."""
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:dims] * np.sign(vt[np.arange(dims), np.argmax(np.abs(vt[:dims]), axis=1)])[:, None]
    return vt, s[:dims] ** 2 / (s ** 2).sum()


@pytest.mark.parametrize("n,d", [(500, 20), (60, 84), (300, 3)])
def test_exact_pca_equals_svd(n, d):
    x = np.random.default_rng(d).normal(size=(n, d)) * np.linspace(3, 0.5, d)
    p = embedding.fit_pca(x)
    want, explained = svd_pca(x)
    np.testing.assert_allclose(p.components, want, atol=1e-8)
    np.testing.assert_allclose(p.explained, explained, rtol=1e-8)
    np.testing.assert_allclose(p(x), (x - x.mean(0)) @ want.T, atol=1e-8)


def test_randomised_pca_on_many_features_equals_svd():
    rng = np.random.default_rng(0)
    d = embedding.EXACT_LIMIT + 200  # a conv layer's map: the randomised path
    x = rng.normal(size=(400, 5)) @ (rng.normal(size=(5, d)) * [[8], [5], [2], [1], [1]])
    x += 0.1 * rng.normal(size=x.shape)
    p = embedding.fit_pca(x)
    want, explained = svd_pca(x)
    np.testing.assert_allclose(p.components, want, atol=1e-6)
    np.testing.assert_allclose(p.explained, explained, rtol=1e-6)


def test_pca_of_constant_features_is_all_zero():
    p = embedding.fit_pca(np.ones((50, 4)))
    np.testing.assert_array_equal(p.explained, [0, 0])
    np.testing.assert_allclose(p(np.ones((3, 4))), 0)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_nearest_equals_brute_force(k):
    rng = np.random.default_rng(k)
    f, q = rng.normal(size=(1000, 30)), rng.normal(size=30)
    idx, dist = embedding.nearest(f, q, k)
    brute = np.linalg.norm(f - q, axis=1)
    np.testing.assert_array_equal(idx, np.argsort(brute, kind="stable")[:k])
    np.testing.assert_allclose(dist, np.sort(brute)[:k], rtol=1e-9)


def test_nearest_of_a_member_is_itself_at_zero():
    f = np.random.default_rng(1).normal(size=(50, 8))
    idx, dist = embedding.nearest(f, f[17], 3)
    assert idx[0] == 17 and dist[0] == pytest.approx(0, abs=1e-6)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: model_kinds.save(kind, folder) for kind in model_kinds.USABLE}


# The last layer before the 10-way Dense that computes something (Flatten only reshapes);
# Keras names the others' layers, so their type is checked.
PENULTIMATE = {"functional": "conv2", "logits": "conv2", "padded32": "conv2", "odd29": "conv2",
               "rgb": "conv2", "nested": "features/pool1"}
PENULTIMATE_TYPE = {"sequential": "AveragePooling2D", "mlp": "Dense",
                    "dynamic": "GlobalAveragePooling2D"}


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_features_and_predictions_equal_keras(saved, kind):
    model = models.load(saved[kind])
    mapper = embedding.Mapper(model)
    if kind in PENULTIMATE:
        assert mapper.layer == PENULTIMATE[kind]
    else:
        types = {path: type(layer).__name__ for path, layer in introspect.layers_in_order(model)}
        assert types[mapper.layer] == PENULTIMATE_TYPE[kind]
    images = np.random.default_rng(2).random((7, 28, 28, 1), dtype=np.float32)
    probs, feats = mapper.features(images, batch=3)
    x = keras_input(model, images)
    inner = model.get_layer(mapper.layer.split("/")[0]) if "/" not in mapper.layer else None
    if inner is not None:  # the layer's own output, from a model cut there by Keras
        cut = keras.Model(model.inputs, inner.output)
        np.testing.assert_allclose(feats, cut(x).numpy().reshape(7, -1), rtol=1e-5, atol=1e-5)
    out = model(x).numpy()
    want = keras.ops.softmax(out).numpy() if kind == "logits" else out
    np.testing.assert_allclose(probs, want, rtol=1e-5, atol=1e-6)


def test_every_feature_layer_of_a_nested_model_equals_keras(saved):
    model = models.load(saved["nested"])
    images = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    inner = model.get_layer("features")
    assert embedding.feature_layers(model) == ["features/conv1", "features/pool1"]
    for path, layer in (("features/conv1", "conv1"), ("features/pool1", "pool1")):
        _, feats = embedding.Mapper(model, path).features(images)
        cut = keras.Model(inner.inputs, inner.get_layer(layer).output)
        np.testing.assert_allclose(feats, cut(images).numpy().reshape(4, -1), rtol=1e-5,
                                   atol=1e-6)


def test_map_and_located_drawing(saved):
    model = models.load(saved["functional"])
    mapper = embedding.Mapper(model, "conv2")
    rng = np.random.default_rng(4)
    images, labels = rng.random((60, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 60)
    e = mapper.build(images, labels)
    cut = keras.Model(model.inputs, model.get_layer("conv2").output)
    feats = cut(images).numpy().reshape(60, -1).astype(np.float64)
    want, _ = svd_pca(feats)
    np.testing.assert_allclose(e.points, (feats - feats.mean(0)) @ want.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(e.predictions, model(images).numpy().argmax(1))
    drawing = rng.random((28, 28, 1), dtype=np.float32)
    located = mapper.locate(e, drawing, k=6)
    f = cut(drawing[None]).numpy().reshape(-1)
    brute = np.linalg.norm(feats - f, axis=1)
    np.testing.assert_array_equal(located.neighbours, np.argsort(brute)[:6])
    np.testing.assert_allclose(located.point, (f - feats.mean(0)) @ want.T, rtol=1e-4, atol=1e-4)


def test_a_classifier_reading_the_pixels_is_refused_in_a_sentence():
    inp = keras.Input((28, 28, 1))
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(inp)))
    with pytest.raises(embedding.EmbeddingError, match="reads the pixels themselves"):
        embedding.Mapper(model)


def test_one_feature_still_gives_a_map():
    p = embedding.fit_pca(np.arange(10.0)[:, None])
    np.testing.assert_allclose(p(np.arange(10.0)[:, None])[:, 0], np.arange(10.0) - 4.5)
    np.testing.assert_array_equal(p(np.arange(10.0)[:, None])[:, 1], 0)
    np.testing.assert_allclose(p.explained, [1, 0])


def test_a_map_larger_than_its_budget_is_refused(saved, monkeypatch):
    mapper = embedding.Mapper(models.load(saved["functional"]), "conv1")  # 26×26×4 features
    monkeypatch.setattr(embedding, "MAX_VALUES", 100 * 26 * 26 * 4)
    assert mapper.max_images() == 100
    with pytest.raises(embedding.EmbeddingError, match="at most 100 images at this layer"):
        mapper.build(np.zeros((101, 28, 28, 1), np.float32), np.zeros(101))


def test_a_model_without_weights_is_refused_in_a_sentence():
    inp = keras.Input((28, 28, 1))
    model = keras.Model(inp, keras.layers.Softmax()(keras.layers.Flatten()(inp)[:, :10]))
    with pytest.raises(embedding.EmbeddingError, match="no layer with weights"):
        embedding.Mapper(model)


def test_an_unknown_layer_is_refused(saved):
    with pytest.raises(embedding.EmbeddingError, match="no feature layer 'scores'"):
        embedding.Mapper(models.load(saved["functional"]), "scores")
