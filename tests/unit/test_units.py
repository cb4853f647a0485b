"""One unit of any layer, worked out: every value equals the output of a Keras model cut at
that layer, and the receptive field is exactly the input pixels with a non-zero gradient."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers as L

from cnnviz import units


def chain(name: str, form: str):
    """A small random-weight model in a given form (functional, sequential or nested), with a
    conv of the given kind, then pooling, then dense layers."""
    convs = {"valid": L.Conv2D(4, 3, activation="relu", name="conv"),
             "same": L.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
             "stride": L.Conv2D(4, 3, strides=2, padding="same", activation="tanh", name="conv"),
             "dilation": L.Conv2D(4, 3, dilation_rate=2, name="conv")}
    body = [convs[name], L.MaxPooling2D(2, name="pool"), L.Conv2D(3, 3, name="conv2"),
            L.AveragePooling2D(2, padding="same", name="avg"), L.Flatten(name="flat"),
            L.Dense(7, activation="relu", name="hidden"),
            L.Dense(10, activation="softmax", name="out")]
    keras.utils.set_random_seed(3)
    if form == "sequential":
        return keras.Sequential([keras.Input((28, 28, 1)), *body])
    inp = keras.Input((28, 28, 1))
    if form == "nested":
        inner = keras.Sequential([keras.Input((28, 28, 1)), *body[:4]], name="features")
        x = inner(inp)
        for layer in body[4:]:
            x = layer(x)
        return keras.Model(inp, x)
    x = inp
    for layer in body:
        x = layer(x)
    return keras.Model(inp, x)


def image() -> np.ndarray:
    return np.random.default_rng(0).random((28, 28, 1), dtype=np.float32)


def keras_cut(model, path: str, x: np.ndarray) -> np.ndarray:
    """The layer's output from Keras alone: the layer found by name (inside a nested model too)
    and a model cut at it, built by calling the layers in order."""
    inner = model.get_layer("features") if "/" in path else model
    outputs, y = {}, x[None]
    for layer in model.layers if inner is model else [*inner.layers, *model.layers[2:]]:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        y = layer(y)
        outputs[layer.name] = y
    return np.asarray(outputs[path.split("/")[-1]])[0]


def paths(model) -> dict:
    prefix = "features/" if any(isinstance(l, keras.Model) for l in model.layers) else ""
    return {name: (prefix + name if name in ("conv", "pool", "conv2", "avg") else name)
            for name in ("conv", "pool", "conv2", "avg", "hidden", "out")}


@pytest.mark.parametrize("form", ["functional", "sequential", "nested"])
@pytest.mark.parametrize("kind", ["valid", "same", "stride", "dilation"])
def test_every_unit_value_is_the_keras_layer_output(kind, form):
    model, x = chain(kind, form), image()
    cutter = units.Cutter(model)
    rng = np.random.default_rng(1)
    previous = {"hidden": "flat", "out": "hidden"}
    for name, path in paths(model).items():
        want = keras_cut(model, path, x)
        for _ in range(3):
            at = tuple(int(rng.integers(n)) for n in want.shape)
            unit = units.explain(cutter, x, path, at)
            assert unit.value == pytest.approx(float(want[at]), abs=1e-6)
            if unit.kind == units.CONV:  # patch × kernel, per channel, + bias, activation
                z = unit.channel_sums.sum() + unit.bias
                assert unit.pre_activation == pytest.approx(z)
                act = keras.activations.get(unit.activation)
                assert float(act(np.float32([z]))[0]) == pytest.approx(unit.value, abs=1e-5)
            elif unit.kind == units.POOL:
                reduce = np.nanmax if unit.pooling == "max" else np.nanmean
                assert reduce(unit.patch) == pytest.approx(unit.value, abs=1e-6)
            else:  # the inputs are the previous layer's output, from Keras alone
                inputs = keras_cut(model, previous[name], x)
                np.testing.assert_allclose(unit.inputs, inputs, atol=1e-6)
                dense = model.get_layer(name)
                z = inputs @ dense.kernel.numpy()[:, at[0]] + dense.bias.numpy()[at[0]]
                assert unit.pre_activation == pytest.approx(float(z), abs=1e-5)
                if unit.softmax is not None:
                    assert unit.softmax[at[0]] == pytest.approx(unit.value, abs=1e-6)
                else:
                    assert max(float(z), 0.0) == pytest.approx(unit.value, abs=1e-5)  # relu


def linear_chain(kind: str):
    """Convolutions without activation and average pooling: every pixel in a unit's field
    moves it (a ReLU or a max pool would zero some gradients, though not the field)."""
    keras.utils.set_random_seed(4)
    first = {"valid": dict(), "same": dict(padding="same"),
             "stride": dict(strides=2, padding="same"), "dilation": dict(dilation_rate=2)}[kind]
    inp = keras.Input((28, 28, 1))
    x = L.Conv2D(3, 3, name="conv", **first)(inp)
    x = L.AveragePooling2D(2, name="pool")(x)
    x = L.Conv2D(3, 3, padding="same", name="conv2")(x)
    x = L.AveragePooling2D(3, strides=2, padding="same", name="avg")(x)
    return keras.Model(inp, L.Dense(10, activation="softmax")(L.Flatten()(x)))


@pytest.mark.parametrize("kind", ["valid", "same", "stride", "dilation"])
def test_receptive_field_is_exactly_the_pixels_with_a_gradient(kind):
    model = linear_chain(kind)
    for path in ("conv", "pool", "conv2", "avg"):
        cut = keras.Model(model.input, model.get_layer(path).output)
        h, w = cut.output.shape[1:3]
        for r, c in [(0, 0), (h // 2, w // 3), (h - 1, w - 1)]:
            x = tf.constant(np.random.default_rng(2).random((1, 28, 28, 1)) + 0.1, tf.float32)
            with tf.GradientTape() as tape:
                tape.watch(x)
                # all channels: a unit's field does not depend on its channel
                target = tf.reduce_sum(cut(x)[0, r, c, :])
            g = np.abs(tape.gradient(target, x).numpy()[0, ..., 0]) > 0
            rows, cols = np.flatnonzero(g.any(1)), np.flatnonzero(g.any(0))
            top, left, bottom, right = units.receptive_field(model, path, r, c)
            assert (top, left, bottom, right) == (rows[0], cols[0], rows[-1], cols[-1])


def test_a_unit_that_does_not_exist_is_refused_naming_the_shape():
    cutter = units.Cutter(chain("valid", "functional"))
    with pytest.raises(units.UnitError, match="there is no unit at \\[30, 0, 0\\].*26×26×4"):
        units.explain(cutter, image(), "conv", (30, 0, 0))
    with pytest.raises(units.UnitError, match="'flat' is not a Conv2D, pooling or Dense layer"):
        units.explain(cutter, image(), "flat", (0,))


def test_a_branching_model_is_refused_in_one_sentence():
    inp = keras.Input((28, 28, 1))
    a, b = L.Conv2D(2, 3, name="a")(inp), L.Conv2D(2, 3, name="b")(inp)
    out = L.Dense(10, activation="softmax")(L.Flatten()(L.Add()([a, b])))
    with pytest.raises(units.UnitError, match="this model branches"):
        units.Cutter(keras.Model(inp, out))


def test_a_layer_called_twice_is_not_a_chain():
    from cnnviz import explain

    inp = keras.Input((28, 28, 1))
    shared = L.Conv2D(1, 3, padding="same", name="shared")
    out = L.Dense(10, activation="softmax")(L.Flatten()(shared(shared(inp))))
    model = keras.Model(inp, out)
    assert not explain._is_chain(model)
    probe = explain.Probe(model)  # its own graph, not one call of the layer
    x = image()
    np.testing.assert_allclose(probe.probabilities(x), model(x[None]).numpy()[0], atol=1e-6)


def test_cli_unit_prints_the_keras_value_and_its_receptive_field(tmp_path, capsys):
    import json

    from PIL import Image, ImageDraw

    from cnnviz import models, preprocess
    from cnnviz.__main__ import main

    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line([(80, 60), (200, 60), (120, 230)], fill=255, width=22)
    img.save(tmp_path / "seven.png")
    code = main(["unit", "--image", str(tmp_path / "seven.png"), "--layer", "conv2",
                 "--at", "3", "4", "5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    model = models.load(models.SHIPPED_MODEL)
    x = preprocess.preprocess(np.asarray(img)).model_input
    want = keras.Model(model.input, model.get_layer("conv2").output)(x[None]).numpy()[0, 3, 4, 5]
    assert out["value"] == pytest.approx(float(want), abs=1e-6)
    # conv1 5×5 and conv2 5×5 with 2×2 pooling between: 14×14 pixels from (6, 8)
    assert out["receptive_field"] == [6, 8, 19, 21]
    assert len(out["contributions"]) == 6 and out["activation"] == "relu"
    z = sum(c["sum"] for c in out["contributions"]) + out["bias"]
    assert max(z, 0.0) == pytest.approx(out["value"], abs=1e-5)
    code = main(["unit", "--image", str(tmp_path / "seven.png"), "--layer", "conv2",
                 "--at", "9", "0", "0"])
    assert code == 2 and "no unit at [9, 0, 0]" in capsys.readouterr().err
