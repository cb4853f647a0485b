"""Every model kind through the core: the probe, the explanations and the dreamer agree with
Keras, and what cannot work is refused with its reason."""

import keras
import numpy as np
import pytest

from cnnviz import dreams, explain, introspect, models
from tests import model_kinds
from tests.model_kinds import keras_input


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: model_kinds.save(kind, folder)
            for kind in [*model_kinds.USABLE, *model_kinds.REFUSED]}


def digit():
    return np.random.default_rng(1).random((28, 28, 1), dtype=np.float32)


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
    dream = dreams.Dreamer(model).run(dreams.DreamSettings(steps=4))
    assert dream.images.shape[0] == 10
    # what the page shows as "the probability the model gives it": a distribution, logits too
    np.testing.assert_allclose(dream.probabilities.sum(1), 1.0, atol=1e-5)
    want = model(dream.images, training=False).numpy()
    want = keras.ops.softmax(want).numpy() if kind == "logits" else want
    np.testing.assert_allclose(dream.probabilities, want, atol=1e-6)


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


# --- every kind × every CLI command that takes a model -------------------------------------


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    from cnnviz.__main__ import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    from PIL import Image, ImageDraw

    path = tmp_path_factory.mktemp("png") / "one.png"
    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line([(140, 40), (140, 240)], fill=255, width=22)
    img.save(path)
    return path


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_cli_predict_and_dream_take_every_usable_kind(saved, kind, digit_png, tmp_path, capsys):
    import json

    code, out, err = run_cli(capsys, "predict", "--model", saved[kind], digit_png, "--json")
    assert code == 0, err
    line = json.loads(out)
    model = models.load(saved[kind])
    probe = explain.Probe(model)
    from cnnviz import preprocess

    x = preprocess.preprocess(np.asarray(__import__("PIL.Image").Image.open(digit_png))).model_input
    want = model(keras_input(model, x), training=False).numpy()[0]
    want = keras.ops.softmax(want).numpy() if probe.applies_softmax else want
    np.testing.assert_allclose(line["probs"], want, atol=1e-6)
    code, out, err = run_cli(capsys, "dream", "--model", saved[kind], "--out", tmp_path,
                             "--steps", 3, "--json")
    assert code == 0, err
    assert len(json.loads(out)["classes"]) == 10


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_cli_robustness_classifies_every_usable_kind_as_keras(saved, kind, capsys):
    import json

    from cnnviz import data

    code, out, err = run_cli(capsys, "robustness", "--model", saved[kind], "--corruption",
                             "shift", "--strengths", 0, 4, "--limit", 64, "--json")
    assert code == 0, err
    curve = json.loads(out)
    ds = data.load("mnist")
    model = models.load(saved[kind])
    for strength, accuracy in zip(curve["strengths"], curve["accuracy"]):
        shifted = np.zeros((64, 28, 28, 1), np.float32)  # moved right, by hand
        shifted[:, :, int(strength):] = ds.x_test[:64, :, :28 - int(strength)]
        x = np.concatenate([keras_input(model, image) for image in shifted])
        want = (model(x, training=False).numpy().argmax(1) == ds.y_test[:64]).mean()
        assert accuracy == want


@pytest.mark.parametrize("kind", model_kinds.REFUSED)
@pytest.mark.parametrize("command", ["predict", "dream", "robustness"])
def test_cli_refuses_every_unusable_kind_in_one_line(saved, kind, command, digit_png, tmp_path,
                                                     capsys):
    args = {"predict": ["predict", "--model", saved[kind], digit_png],
            "dream": ["dream", "--model", saved[kind], "--out", tmp_path],
            "robustness": ["robustness", "--model", saved[kind], "--corruption", "rotate"]
            }[command]
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {kind}.keras cannot classify 28×28 digits: ")
    assert model_kinds.REFUSED[kind][1] in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", [*model_kinds.USABLE, *model_kinds.REFUSED])
def test_cli_summary_lists_every_kind(saved, kind, capsys):
    import json

    code, out, err = run_cli(capsys, "summary", saved[kind], "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["total_params"] == models.load(saved[kind]).count_params()
    assert ("not counted" in run_cli(capsys, "summary", saved[kind])[1]) == bool(s["not_counted"])


@pytest.mark.parametrize("kind", model_kinds.USABLE)
def test_cli_evaluate_takes_grey_kinds_and_refuses_rgb_in_one_line(saved, kind, capsys):
    code, out, err = run_cli(capsys, "evaluate", saved[kind], "--dataset", "mnist", "--json")
    if kind == "rgb":
        assert code == 2 and "expects inputs of shape (28, 28, 3)" in err
        return
    import json

    assert code == 0, err
    assert 0.0 <= json.loads(out)["accuracy"] <= 1.0
