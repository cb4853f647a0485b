"""Every model kind through the core: the probe, the explanations and the dreamer agree with
Keras, and what cannot work is refused with its reason."""

import keras
import numpy as np
import pytest

from cnnviz import explain, introspect, models
from tests import model_kinds


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: model_kinds.save(kind, folder)
            for kind in [*model_kinds.USABLE, *model_kinds.REFUSED]}


def digit():
    return np.random.default_rng(1).random((28, 28, 1), dtype=np.float32)


def keras_input(model, image):
    """What Keras is given, built independently of the app: padded centred, grey repeated."""
    h, w, c = (28 if d is None else d for d in model.input_shape[1:])
    top, left = (h - 28) // 2, (w - 28) // 2
    x = np.zeros((1, h, w, c), np.float32)
    x[0, top:top + 28, left:left + 28] = image
    return x


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_probe_probabilities_equal_keras(saved, kind):
    model = models.load(saved[kind])
    probe = explain.Probe(model)
    image = digit()
    probs, maps = probe(image)
    out = model(keras_input(model, image), training=False).numpy()[0]
    want = keras.ops.softmax(out).numpy() if kind == "logits" else out
    np.testing.assert_allclose(probs, want, atol=1e-6)
    assert probe.applies_softmax == (kind == "logits")
    assert abs(probs.sum() - 1) < 1e-5
    if kind in model_kinds.NO_CONV:
        assert maps == {}
    else:
        assert maps, "a model with conv layers shows their maps"


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_gradient_and_dreams_work_for_every_usable_kind(saved, kind):
    model = models.load(saved[kind])
    e = explain.Explainer(model)
    g = e.gradient(digit(), 3)
    assert g.shape == (28, 28) and np.isfinite(g).all() and g.max() > 0
    if kind in model_kinds.NO_CONV:
        with pytest.raises(explain.ExplainError, match="no Conv2D layer"):
            e.gradcam(digit(), 3)
    else:
        cam = e.gradcam(digit(), 3)
        assert cam.shape == (28, 28) and 0 <= cam.min() and cam.max() <= 1
    dream = explain.Dreamer(model).run(explain.DreamSettings(steps=4))
    assert dream.images.shape[0] == 10


def test_logits_scores_are_the_output_itself(saved):
    model = models.load(saved["logits"])
    view = explain.inside_view(model)
    x = keras_input(model, digit())
    np.testing.assert_allclose(np.asarray(view(x)).reshape(1, 10), model(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", model_kinds.REFUSED)
def test_refused_kinds_say_why(saved, kind):
    model = models.load(saved[kind])
    with pytest.raises(models.ModelError, match=model_kinds.REFUSED[kind][1]):
        introspect.classifier(model)
    with pytest.raises(models.ModelError):
        explain.Probe(model)
