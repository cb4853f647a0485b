import zipfile
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from cnnviz import layer_stack, models, summary


def profiler_flops(model) -> int:
    """TensorFlow's own float-op count for one example: the independent reference."""
    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    graph = convert_variables_to_constants_v2(
        tf.function(lambda t: model(t, training=False)).get_concrete_function(spec)
    ).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=graph, options=opts).total_float_ops


@pytest.mark.parametrize("name", list(models.BUILDERS))
def test_preset_summary_matches_keras_params_and_profiler_flops(name):
    model = models.build(name)
    s = summary.summarize(model)
    assert s.total_params == model.count_params()
    assert sum(layer.params for layer in s.layers) == model.count_params()
    assert s.trainable_params == model.count_params()
    for layer, info in zip(model.layers[1:], s.layers):
        assert info.name == layer.name
        assert info.output_shape == tuple(layer.output.shape[1:])
        assert info.params == layer.count_params()
    assert s.flops == profiler_flops(model)


@pytest.mark.parametrize("layer", [
    keras.layers.Conv2D(4, 3, strides=2, padding="same"),
    keras.layers.Conv2D(6, (3, 5), strides=(1, 2), use_bias=False),
    keras.layers.DepthwiseConv2D(3),
    keras.layers.MaxPooling2D(3, strides=2),
    keras.layers.AveragePooling2D(2, padding="same"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.BatchNormalization(),
    keras.layers.Dense(7),
], ids=lambda layer: layer.__class__.__name__)
def test_layer_flops_match_the_profiler(layer):
    inputs = keras.Input((13, 11, 4))
    model = keras.Model(inputs, layer(inputs))
    assert summary.summarize(model).flops == profiler_flops(model)


def test_dilation_does_not_change_the_arithmetic():
    """TF's profiler counts the padded space-to-batch tensor of a dilated conv, so it is no
    reference here: a dilated kernel does the same work per output as a dense one."""
    inputs = keras.Input((13, 11, 4))
    dilated = keras.Model(inputs, keras.layers.Conv2D(6, (3, 5), dilation_rate=2)(inputs))
    dense_inputs = keras.Input((11, 7, 4))  # the same (9, 3) output with an undilated kernel
    dense = keras.Model(dense_inputs, keras.layers.Conv2D(6, (3, 5))(dense_inputs))
    assert dilated.output.shape == dense.output.shape
    assert summary.summarize(dilated).flops == profiler_flops(dense) == 2 * 9 * 3 * 6 * 15 * 4 + 9 * 3 * 6


def test_grouped_conv_counts_as_its_groups_run_separately():
    """The profiler cannot size grouped convs (it reports 0), so compare with the same work
    written as one conv per group."""
    inputs = keras.Input((13, 11, 4))
    grouped = keras.Model(inputs, keras.layers.Conv2D(8, 3, groups=2)(inputs))
    halves = [keras.layers.Conv2D(4, 3)(inputs[..., i * 2:(i + 1) * 2]) for i in range(2)]
    split = keras.Model(inputs, keras.layers.Concatenate()(halves))
    assert summary.summarize(grouped).flops == profiler_flops(split)


def test_nested_model_counts_its_inner_layers():
    inner = models.build("lenet5")
    inputs = keras.Input((28, 28, 1))
    outer = keras.Model(inputs, keras.layers.Dense(3)(inner(inputs)))
    s = summary.summarize(outer)
    assert s.total_params == outer.count_params()
    assert s.flops == profiler_flops(outer)


def test_lenet5_is_exactly_the_tutorial_shape():
    s = summary.summarize(models.build("lenet5"))
    assert [(x.name, x.type, x.output_shape) for x in s.layers] == [
        ("conv1", "Conv2D", (24, 24, 6)),
        ("avgpool1", "AveragePooling2D", (12, 12, 6)),
        ("conv2", "Conv2D", (8, 8, 16)),
        ("avgpool2", "AveragePooling2D", (4, 4, 16)),
        ("flatten", "Flatten", (256,)),
        ("dense1", "Dense", (120,)),
        ("dense2", "Dense", (84,)),
        ("dense3", "Dense", (10,)),
    ]
    assert s.total_params == 44_426


def test_lenet5_classic_has_the_papers_c5_and_params():
    s = summary.summarize(models.build("lenet5_classic"))
    assert s.input_shape == (32, 32, 1)
    assert s.layers[4].output_shape == (1, 1, 120)  # C5: a 5x5 conv that sees the whole S4 map
    assert s.total_params == 61_706


def test_presets_are_functional_with_their_recipes():
    for name, preset in models.PRESETS.items():
        model = models.build(name)
        assert not isinstance(model, keras.Sequential) and model.name == name
        assert preset.recipe.epochs > 0 and preset.recipe.batch_size > 0
    assert models.PRESETS["mnist_cnn_small"].recipe == models.Recipe("adam", 1e-3, 15, 128, 0.1)
    assert models.PRESETS["mnist_cnn"].recipe.optimizer == "rmsprop"


def test_unknown_preset_names_the_choices():
    with pytest.raises(models.ModelError, match="lenet5, lenet5_classic"):
        models.build("resnet")


def test_save_then_load_roundtrip_gives_identical_outputs(tmp_path):
    model = models.build("mnist_cnn_small")
    path = models.save(model, tmp_path / "m.keras")
    again = models.load(path)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(again(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temp file left behind


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = models.save(models.build("lenet5"), tmp_path / "m.keras")
    before = path.read_bytes()
    broken = models.build("lenet5")
    monkeypatch.setattr(broken, "save", lambda p: (open(p, "wb").write(b"half"), 1 / 0))
    with pytest.raises(ZeroDivisionError):
        models.save(broken, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


def test_load_refuses_bad_files_with_clear_messages(tmp_path):
    with pytest.raises(models.ModelError, match="no model file"):
        models.load(tmp_path / "missing.keras")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(models.ModelError, match="not a .keras file"):
        models.load(tmp_path / "notes.txt")
    (tmp_path / "fake.keras").write_text("not a zip")
    with pytest.raises(models.ModelError, match="not a zip archive"):
        models.load(tmp_path / "fake.keras")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as z:
        z.writestr("readme.txt", "no config here")
    with pytest.raises(models.ModelError, match="could not be loaded"):
        models.load(tmp_path / "empty.keras")


def test_safe_mode_refuses_a_lambda_layer(tmp_path):
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Lambda(lambda t: t * 2)(inputs)))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(models.ModelError, match="could not be loaded"):
        models.load(path)


def test_check_input_names_the_shapes():
    with pytest.raises(models.ModelError, match=r"\(32, 32, 3\).*28x28x1"):
        models.check_input(models.build("cifar10_cnn"), (28, 28, 1))
    models.check_input(models.build("lenet5_classic"), (28, 28, 1))  # padded to 32: fine


def _row(layer, units=0, size=0, stride=0, padding="valid", activation="linear", rate=0.0):
    return dict(layer=layer, units=units, size=size, stride=stride, padding=padding,
                activation=activation, rate=rate)


def test_stack_builds_named_layers_with_keras_shapes_and_params():
    stack = [_row("Conv2D", 8, 3, 1, "same", "relu"), _row("BatchNormalization"),
             _row("MaxPool", size=2, stride=2), _row("Conv2D", 4, 3, 2, "valid", "tanh"),
             _row("AvgPool", size=2, stride=1, padding="same"), _row("Dropout", rate=0.3),
             _row("Flatten"), _row("Dense", 32, activation="sigmoid")]
    model = layer_stack.build_stack(stack, (28, 28, 1))
    assert [l.name for l in model.layers[1:]] == ["conv1", "batchnorm1", "maxpool1", "conv2",
                                                  "avgpool1", "dropout1", "flatten", "dense1",
                                                  "dense2"]
    assert model.get_layer("conv2").output.shape[1:] == (6, 6, 4)
    assert model.output_shape == (None, 10)
    # by hand: conv (9·1+1)·8, batch norm 4·8, conv (9·8+1)·4, dense (144+1)·32, (32+1)·10
    assert summary.summarize(model).total_params == 80 + 32 + 292 + 4640 + 330
    # without an explicit Flatten one is added before the classifier
    assert layer_stack.build_stack(stack[:5], (28, 28, 1)).layers[-2].name == "flatten"


@pytest.mark.parametrize("stack, message", [
    ([_row("Conv2D", 6, 5, 1), _row("MaxPool", size=2, stride=2)] * 3,
     "layer 5 \\(Conv2D\\): a 5×5 window does not fit its 4×4 input"),
    ([_row("Flatten"), _row("Conv2D", 6, 3, 1)], "layer 2 \\(Conv2D\\) needs an image"),
    ([_row("Conv2D", 0, 3, 1)], "at least 1 filter"),
    ([_row("Conv2D", 4, 3, 0)], "at least 1"),
    ([_row("Dense", 0)], "at least 1 unit"),
    ([_row("Dropout", rate=1.0)], "below 1"),
    ([_row("Conv2D", 4, 3, 1, activation="swishy")], "activation must be one of"),
    ([_row("Pool")], "choose a layer type"),
    ([_row("Flatten"), _row("Dense", 100_000)], "layer 2 \\(Dense\\) brings the model to "
                                                "78,500,000 parameters"),
    ([_row("Conv2D", 100_000, 3, 1, "same")], "activations reach 299 MB"),
])
def test_impossible_stacks_are_refused_naming_the_layer(stack, message):
    with pytest.raises(models.ModelError, match=message):
        layer_stack.build_stack(stack, (28, 28, 1))


def test_alexnet_layer_by_layer():
    s = summary.summarize(models.build("alexnet"))
    shapes = {l.name: l.output_shape for l in s.layers}
    assert shapes["conv1"] == (55, 55, 96) and shapes["maxpool1"] == (27, 27, 96)
    assert shapes["conv2"] == (27, 27, 256) and shapes["maxpool2"] == (13, 13, 256)
    assert shapes["conv5"] == (13, 13, 256) and shapes["maxpool3"] == (6, 6, 256)
    params = {l.name: l.params for l in s.layers}
    assert params["conv1"] == (11 * 11 * 3 + 1) * 96
    assert params["dense1"] == (6 * 6 * 256 + 1) * 4096
    assert s.total_params == 62_378_344 == models.build("alexnet").count_params()
    assert s.macs == sum(l.macs for l in s.layers)
    assert {l.name: l.macs for l in s.layers}["conv1"] == 11 * 11 * 3 * 55 * 55 * 96


def test_vgg16_equals_keras_applications_and_the_published_cost():
    import keras

    s = summary.summarize(models.build("vgg16"))
    assert s.total_params == keras.applications.VGG16(weights=None).count_params() == 138_357_544
    assert s.macs == pytest.approx(15.5e9, rel=0.01)  # Simonyan & Zisserman: 15.5 G mult-adds
    assert s.activation_bytes == 4 * sum(math.prod(l.output_shape) for l in s.layers)


def test_a_layer_the_counter_does_not_know_is_not_counted_never_zero():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.UpSampling2D(name="up")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(x))
    s = summary.summarize(model)
    by_name = {layer.name: layer for layer in s.layers}
    assert by_name["up"].flops is None and by_name["up"].macs is None
    assert by_name["head"].flops == 2 * 2 * 16 * 16 * 3 + 16 * 16 * 3  # counted: 2·in·out + bias
    assert s.not_counted == ("up",)


def test_a_model_of_any_size_lists_its_size_dependent_layers_as_not_counted():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    s = summary.summarize(keras.Model(inputs, keras.layers.Dense(10, name="head")(x)))
    assert s.not_counted == ("conv", "gap")
    assert s.flops == 2 * 4 * 10 + 10 and s.layers[0].output_shape == (None, None, 4)


def test_a_refused_row_is_named_by_the_order_the_editor_shows():
    rows = [{**_row("Conv2D", 4, 3, 1), "order": 2},
            {**_row("Conv2D", 4, 40, 1), "order": 6}]  # renumbered by the user, then sorted
    with pytest.raises(models.ModelError, match=r"^layer 6 \(Conv2D\): a 40×40 window"):
        layer_stack.build_stack(rows, (28, 28, 1))
