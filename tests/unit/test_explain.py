import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz import data, dreams, explain, introspect, models, preprocess


@pytest.fixture(scope="module")
def shipped():
    return models.load(models.SHIPPED_MODEL)


def as_sequential(model):
    return keras.Sequential([keras.Input(model.input_shape[1:])] + model.layers[1:])


def as_nested(model):
    """The first four layers wrapped in an inner Sequential model called 'features'."""
    inp = keras.Input(model.input_shape[1:])
    inner = keras.Sequential([keras.Input(model.input_shape[1:])] + model.layers[1:5],
                             name="features")
    x = inner(inp)
    for layer in model.layers[5:]:
        x = layer(x)
    return keras.Model(inp, x)


def drawn_four() -> np.ndarray:
    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line([(170, 240), (170, 40), (70, 170), (210, 170)], fill=255,
                             width=22, joint="curve")
    return preprocess.preprocess(np.asarray(img)).model_input


@pytest.fixture(scope="module")
def three_forms(shipped):
    return {"functional": shipped, "sequential": as_sequential(shipped),
            "nested": as_nested(shipped)}


@pytest.mark.parametrize("preset", [None, "lenet5_classic"])
def test_probe_outputs_equal_keras_on_random_images(shipped, preset):
    model = shipped if preset is None else models.build(preset)  # 28x28, and 32x32 padded
    probe = explain.Probe(model)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.random((28, 28, 1), dtype=np.float32)
        probs, maps = probe(x)
        padded = data.fit_to_input(x[None], model.input_shape[1:])
        np.testing.assert_allclose(probs, model(padded, training=False).numpy()[0], atol=1e-6)
        convs_and_pools = [l for l in model.layers if isinstance(
            l, (keras.layers.Conv2D, keras.layers.AveragePooling2D))]
        taps = keras.Model(model.input, [l.output for l in convs_and_pools])(padded)
        assert list(maps) == [l.name for l in convs_and_pools] and len(maps) >= 4
        for got, want in zip(maps.values(), taps):
            np.testing.assert_allclose(got, want.numpy()[0], atol=1e-5)


def test_probe_is_compiled_with_xla_and_falls_back_when_a_layer_cannot_be():
    import tensorflow as tf

    assert explain.Probe(models.build("lenet5")).xla

    def host_sine(t):  # runs in Python: XLA cannot compile it
        return tf.ensure_shape(tf.numpy_function(np.sin, [t], tf.float32), t.shape)

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(keras.layers.Lambda(host_sine)(inp))
    out = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inp, out)
    probe = explain.Probe(model)
    assert not probe.xla
    image = np.random.default_rng(0).random((28, 28, 1), dtype=np.float32)
    probs, maps = probe(image)
    np.testing.assert_allclose(probs, model(image[None]).numpy()[0], atol=1e-6)
    assert maps["conv"].shape == (26, 26, 4)


def test_conv_layers_are_found_inside_nested_models(three_forms):
    assert [p for p, _ in introspect.conv_layers(three_forms["functional"])] == ["conv1", "conv2"]
    assert [p for p, _ in introspect.conv_layers(three_forms["nested"])] == ["features/conv1",
                                                                          "features/conv2"]


@pytest.mark.parametrize("form", ["functional", "sequential", "nested"])
def test_inside_view_gives_logits_and_layer_outputs_of_every_form(three_forms, shipped, form):
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    model = three_forms[form]
    path = dict(introspect.conv_layers(model)).keys()
    scores, conv1, conv2 = explain.inside_view(model, list(path))(x)
    np.testing.assert_allclose(keras.ops.softmax(scores).numpy(), shipped(x).numpy(), atol=1e-5)
    reference = keras.Model(shipped.input, [shipped.get_layer("conv1").output,
                                            shipped.get_layer("conv2").output])(x)
    np.testing.assert_allclose(conv1, reference[0], atol=1e-5)
    np.testing.assert_allclose(conv2, reference[1], atol=1e-5)


def test_branching_model_with_a_nested_model_is_refused_clearly():
    inp = keras.Input((8, 8, 1))
    inner = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)], name="inner")
    a = keras.layers.Flatten()(inner(inp))
    b = keras.layers.Flatten()(inp)
    out = keras.layers.Dense(10, activation="softmax")(keras.layers.Concatenate()([a, b]))
    with pytest.raises(explain.ExplainError, match="branching"):
        explain.inside_view(keras.Model(inp, out))


def test_gradient_matches_autodiff_of_logits_built_by_hand(shipped):
    """Reference: the last hidden layer times the output weights, differentiated by TF."""
    import tensorflow as tf

    x = drawn_four()
    hidden = keras.Model(shipped.input, shipped.get_layer("dense2").output)
    kernel, bias = shipped.get_layer("dense3").get_weights()
    t = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(t)
        logit = tf.matmul(hidden(t), kernel)[0, 4] + bias[4]
    expected = np.abs(tape.gradient(logit, t).numpy()[0, ..., 0])
    np.testing.assert_allclose(explain.Explainer(shipped).gradient(x, 4), expected, rtol=1e-4,
                               atol=1e-6)


def test_receptive_grid_matches_where_each_cell_looks(shipped):
    """The input pixel a conv2 cell depends on most sits at the computed centre (±2 px)."""
    import tensorflow as tf

    start, jump = explain.receptive_grid(shipped, "conv2", (28, 28))
    view = explain.inside_view(shipped, ["conv2"])
    x = tf.constant(np.full((1, 28, 28, 1), 0.5, np.float32))
    for i, j in [(0, 0), (3, 5), (7, 7)]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            cell = tf.reduce_sum(view(x)[1][0, i, j])
        g = np.abs(tape.gradient(cell, x).numpy()[0, ..., 0])
        rows, cols = np.nonzero(g)
        centre = ((rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2)
        assert centre == pytest.approx((start[0] + jump[0] * i, start[1] + jump[1] * j), abs=0.01)


@pytest.mark.parametrize("form", ["functional", "sequential", "nested"])
def test_gradcam_shape_and_peak_on_the_ink_of_a_drawn_digit(three_forms, shipped, form):
    x = drawn_four()
    model = three_forms[form]
    e = explain.Explainer(model)
    assert explain.Probe(shipped).probabilities(x).argmax() == 4
    cam = e.gradcam(x, 4)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    peak = np.unravel_index(cam.argmax(), cam.shape)
    assert x[peak][0] > 0.3  # on the ink
    reference = explain.Explainer(shipped).gradcam(x, 4)
    np.testing.assert_allclose(cam, reference, atol=1e-4)  # same map whatever the form


def test_smoothgrad_and_gradient_shapes_and_determinism(shipped):
    x = drawn_four()
    e = explain.Explainer(shipped)
    a, b = e.smoothgrad(x, 4, seed=3), e.smoothgrad(x, 4, seed=3)
    assert a.shape == e.gradient(x, 4).shape == (28, 28)
    np.testing.assert_array_equal(a, b)


def test_gradcam_on_a_32px_model_is_cropped_back_to_28():
    model = models.build("lenet5_classic")
    cam = explain.Explainer(model).gradcam(drawn_four(), 4)
    assert cam.shape == (28, 28)


def test_activation_maximization_every_class_is_classified_as_itself(shipped):
    dream = dreams.Dreamer(shipped).run()
    assert dream.images.shape == (10, 28, 28, 1)
    assert 0.0 <= dream.images.min() and dream.images.max() <= 1.0
    self_probs = np.diag(dream.probabilities)
    assert (self_probs >= 0.9).all(), self_probs
    assert (dream.probabilities.argmax(1) == np.arange(10)).all()


def test_dreamer_is_traced_when_built_so_a_run_only_optimises(shipped):
    dreamer = dreams.Dreamer(shipped)
    assert dreamer._steps.experimental_get_tracing_count() == 1
    dream = dreamer.run(dreams.DreamSettings(steps=40, scale=0.1, blur_every=4, seed=7))
    assert dreamer._steps.experimental_get_tracing_count() == 1  # no tracing inside the timing
    assert dream.seconds < 5


def test_activation_maximization_of_filters_raises_their_response(shipped):
    dreamer = dreams.Dreamer(shipped, "conv2")
    steps = []
    dream = dreamer.run(dreams.DreamSettings(steps=60, scale=0.1),
                        on_progress=lambda done, total: steps.append((done, total)), chunk=20)
    assert steps == [(20, 60), (40, 60), (60, 60)]
    assert dream.images.shape == (16, 28, 28, 1)
    noise = np.random.default_rng(0).uniform(0.45, 0.55, dream.images.shape).astype(np.float32)
    before = dreamer._objective(noise).numpy()
    assert (dream.objective >= before).all()
    assert (dream.objective > before).mean() >= 0.8  # a filter silent from any start stays so
