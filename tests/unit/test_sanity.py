"""The saliency sanity check: rank correlation against scipy, the cascade against models
re-initialised by hand, and the published finding on the shipped LeNet-5."""

import keras
import numpy as np
import pytest
from scipy import stats

from cnnviz import data, explain, models, sanity
from tests import model_kinds


@pytest.mark.parametrize("seed", range(4))
def test_rank_correlation_equals_scipy_spearman(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(28, 28))
    b = a + rng.normal(scale=seed + 0.1, size=a.shape)
    b[b < 0] = 0  # ties, as a ReLU'd Grad-CAM map has
    a = np.round(a, 1)  # and more ties
    assert sanity.rank_correlation(a, b) == pytest.approx(stats.spearmanr(a.ravel(),
                                                                          b.ravel())[0], abs=1e-12)


def test_rank_correlation_of_a_constant_map_is_zero():
    assert sanity.rank_correlation(np.zeros((5, 5)), np.arange(25.0)) == 0.0


@pytest.fixture(scope="module")
def lenet():
    return models.load(models.SHIPPED_MODEL)


def test_the_cascade_randomises_from_the_top_and_restores_the_copy(lenet):
    r = sanity.Randomiser(lenet)
    weighted = [l.name for l in lenet.layers if l.trainable_weights]
    assert [path for path, _ in r.layers] == weighted[::-1]
    image = data.load_sample("mnist").x_test[0]
    check = r.run(image, 7)
    assert check.steps == ("trained", *weighted[::-1])
    assert set(check.maps) == {sanity.GRADIENT, sanity.SMOOTHGRAD, sanity.GRADCAM}
    # the copy ends as trained, and the trained model was never touched
    for a, b, c in zip(lenet.get_weights(), r.copy.get_weights(), models.load(
            models.SHIPPED_MODEL).get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    # step 0 is the trained model's own maps
    e = explain.Explainer(lenet)
    np.testing.assert_allclose(check.maps[sanity.GRADIENT][0], e.gradient(image, 7), rtol=1e-5)
    np.testing.assert_allclose(check.maps[sanity.GRADCAM][0], e.gradcam(image, 7), atol=1e-5)
    assert all(c[0] == pytest.approx(1.0) for c in check.correlation.values())


def test_a_step_equals_the_gradient_of_a_model_reinitialised_by_hand(lenet):
    """Step 2 (the top two weighted layers re-initialised) against a fresh copy given the
    same weights through Keras, its gradient taken by GradientTape."""
    r = sanity.Randomiser(lenet)
    image = data.load_sample("mnist").x_test[1]
    top_two = [path for path, _ in r.layers[:2]]
    captured = {}
    for i, (path, layer) in enumerate(r.layers[:2]):  # the cascade's own draw, reproduced
        sanity._reinitialise(layer, i)
        captured[path] = [w.numpy().copy() for w in layer.trainable_weights]
    r._restore()
    check = r.run(image, 2)
    by_hand = keras.models.clone_model(lenet)
    by_hand.set_weights(lenet.get_weights())
    for path in top_two:
        for v, w in zip(by_hand.get_layer(path).trainable_weights, captured[path]):
            v.assign(w)
    import tensorflow as tf

    last = by_hand.layers[-1]  # Dense with softmax: its score is input @ kernel + bias
    features = keras.Model(by_hand.inputs, last.input)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.matmul(features(x), last.kernel)[:, 2] + last.bias[2]
    g = tape.gradient(score, x)
    np.testing.assert_allclose(check.maps[sanity.GRADIENT][2], np.abs(g.numpy()[0, ..., 0]),
                               rtol=2e-3, atol=1e-6)


def test_randomised_weights_decorrelate_gradient_maps(lenet):
    """Adebayo et al. (2018): with every layer re-initialised, gradient and Grad-CAM maps no
    longer rank the pixels as the trained model's did."""
    ds = data.load_sample("mnist")
    r = sanity.Randomiser(lenet)
    final = {m: [] for m in (sanity.GRADIENT, sanity.GRADCAM)}
    for i in range(10):
        check = r.run(ds.x_test[i], int(ds.y_test[i]))
        for m in final:
            final[m].append(check.correlation[m][-1])
    assert np.mean(final[sanity.GRADIENT]) < 0.6
    assert np.mean(final[sanity.GRADCAM]) < 0.5


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_every_usable_kind_runs_the_cascade(tmp_path, kind):
    model = models.load(model_kinds.save(kind, tmp_path))
    check = sanity.Randomiser(model).run(np.random.default_rng(0).random((28, 28, 1),
                                                                         dtype=np.float32), 3)
    weighted = [p for p, layer in explain.introspect.layers_in_order(model)
                if layer.trainable_weights]
    assert len(check.steps) == len(weighted) + 1
    assert (sanity.GRADCAM in check.maps) == (kind not in model_kinds.NO_CONV)
    for maps in check.maps.values():
        assert len(maps) == len(check.steps) and all(m.shape == (28, 28) for m in maps)


def test_grad_cam_of_the_chosen_layer(lenet):
    image = data.load_sample("mnist").x_test[2]
    check = sanity.Randomiser(lenet).run(image, 1, gradcam_layer="conv1")
    np.testing.assert_allclose(check.maps[sanity.GRADCAM][0],
                               explain.Explainer(lenet).gradcam(image, 1, "conv1"), atol=1e-5)


def test_reinitialised_weights_are_fresh_draws_from_the_layers_initialisers(lenet):
    """Glorot uniform kernels within sqrt(6 / (fan_in + fan_out)), zero biases, and every
    kernel changed; the trained ones come back afterwards."""
    r = sanity.Randomiser(lenet)
    for i, (path, layer) in enumerate(r.layers):
        trained = layer.kernel.numpy().copy()
        sanity._reinitialise(layer, i)
        kernel = layer.kernel.numpy()
        fan_in, fan_out = np.prod(kernel.shape[:-1]), kernel.shape[-1]
        if kernel.ndim == 4:  # a conv kernel: the receptive field counts in both fans
            fan_out = kernel.shape[-1] * np.prod(kernel.shape[:2])
        bound = np.sqrt(6 / (fan_in + fan_out))
        assert np.abs(kernel).max() <= bound + 1e-7, path
        assert np.abs(kernel).max() > 0.8 * bound, path  # spread over the whole range
        assert not np.allclose(kernel, trained), path
        np.testing.assert_array_equal(layer.bias.numpy(), 0)
    r._restore()
    for a, b in zip(lenet.get_weights(), r.copy.get_weights()):
        np.testing.assert_array_equal(a, b)
