"""Natural images beside the dreams: the test images that raise a class score or a filter's
total response most, against responses computed by Keras and sorted by numpy."""

import keras
import numpy as np
import pytest

from cnnviz import dreams, models
from tests import model_kinds


def images(n=40, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1), dtype=np.float32)


def check(top, responses, x, k):
    want = np.argsort(-responses, axis=0, kind="stable")[:k].T
    np.testing.assert_array_equal(top.indices, want)
    np.testing.assert_allclose(top.responses, np.take_along_axis(responses.T, want, 1),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(top.means, x[want].mean(1), rtol=1e-6)


@pytest.mark.parametrize("kind", ["functional", "logits", "mlp"])
def test_top_images_of_each_class_score(tmp_path, kind):
    model = models.load(model_kinds.save(kind, tmp_path))
    x = images()
    last = model.layers[-1]
    if kind == "logits":  # the output is the scores already
        scores = model(x).numpy()
    else:  # a softmax Dense: the score is its input times its kernel plus its bias
        before = keras.Model(model.inputs, last.input)(x).numpy()
        scores = before @ last.kernel.numpy() + last.bias.numpy()
    top = dreams.Dreamer(model).top_images(x, k=4, batch=16)
    check(top, scores, x, 4)


def test_top_images_of_each_filter_sum_its_map(tmp_path):
    model = models.load(model_kinds.save("functional", tmp_path))
    x = images()
    maps = keras.Model(model.inputs, model.get_layer("conv2").output)(x).numpy()
    top = dreams.Dreamer(model, "conv2").top_images(x, k=3, batch=7)
    check(top, maps.sum(axis=(1, 2)), x, 3)


def test_a_padded_model_is_fed_padded_images(tmp_path):
    model = models.load(model_kinds.save("padded32", tmp_path))
    x = images(12)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    maps = keras.Model(model.inputs, model.get_layer("conv1").output)(padded).numpy()
    top = dreams.Dreamer(model, "conv1").top_images(x, k=2)
    check(top, maps.sum(axis=(1, 2)), x, 2)
