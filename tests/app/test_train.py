import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import introspect, layer_stack, live, models, runs, summary, training
from tests.conftest import ROOT, requires_data


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "DEFAULT_RUNS_DIR", tmp_path)
    return tmp_path


# Parameter counts as published (the Keras tutorial's LeNet-5, LeCun 1998 with full C3
# connections, the Keras and TensorFlow CNN examples), not computed by the code under test.
PUBLISHED_PARAMS = {"lenet5": 44_426, "lenet5_classic": 61_706, "mnist_cnn_small": 34_826,
                    "mnist_cnn": 93_322, "cifar10_cnn": 122_570}


def train_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/train.py"), default_timeout=120).run()


def wait_for(at: AppTest, predicate, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if predicate(at):
            return
        time.sleep(0.5)
    raise TimeoutError("the page never showed what was expected")


def progress_text(at) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def test_summary_of_every_preset_equals_keras(runs_dir):
    at = train_page()
    assert not at.exception
    for preset in [*list(models.PRESETS)[1:], "lenet5"]:  # each one a change of preset
        dataset = models.PRESETS[preset].dataset
        if dataset == "cifar10":
            continue  # not available offline; the selectbox only lists what is
        at.selectbox(key="train_dataset").set_value(dataset)
        at.selectbox(key="train_preset").set_value(preset).run()
        shown = {m.label: m.value for m in at.metric}
        model = models.build(preset)
        assert shown["Parameters"] == f"{PUBLISHED_PARAMS[preset]:,}"
        assert shown["FLOPs per image"] == f"{summary.summarize(model).flops:,}"
        table = next(d.value for d in at.dataframe if "FLOPs" in d.value.columns)
        assert list(table.columns) == ["layer", "output shape", "parameters", "FLOPs"]
        layers = model.layers[1:]  # after the Input
        assert table["layer"].tolist() == [layer.name for layer in layers]
        assert table["parameters"].tolist() == [layer.count_params() for layer in layers]
        assert table["output shape"].tolist() == ["×".join(map(str, layer.output.shape[1:]))
                                                  for layer in layers]
        recipe = models.PRESETS[preset].recipe
        assert at.number_input(key="train_epochs").value == recipe.epochs
        assert at.number_input(key="train_learning_rate").value == recipe.learning_rate


def test_page_starts_with_a_recipe_that_learns_and_flags_one_that_cannot(runs_dir):
    at = train_page()
    quick = models.PRESETS["lenet5"].better_recipes["quick"]
    assert at.selectbox(key="train_optimizer").value == quick.optimizer
    assert at.number_input(key="train_batch_size").value == quick.batch_size
    assert at.number_input(key="train_subset").value == 6000
    assert not at.warning  # 2 epochs of 94 batches: enough steps
    at.number_input(key="train_batch_size").set_value(4096).run()
    assert "Only 4 optimiser steps" in at.warning[0].value  # 2 epochs × ⌈6000/4096⌉


def test_a_new_preset_brings_its_recipe_and_custom_keeps_the_settings(runs_dir):
    at = train_page()
    at.selectbox(key="train_optimizer").set_value("rmsprop")
    at.number_input(key="train_learning_rate").set_value(0.003).run()
    at.selectbox(key="train_preset").set_value("custom (edit the layers)").run()
    assert at.selectbox(key="train_optimizer").value == "rmsprop"
    assert at.number_input(key="train_learning_rate").value == 0.003
    at.selectbox(key="train_preset").set_value("mnist_cnn").run()
    recipe = models.PRESETS["mnist_cnn"].recipe
    assert at.selectbox(key="train_optimizer").value == recipe.optimizer
    assert any("mnist_cnn's recipe" in c.value for c in at.caption)


def test_custom_stack_summary_and_impossible_stack(runs_dir):
    at = train_page()
    at.selectbox(key="train_preset").set_value("custom (edit the layers)").run()
    assert not at.exception
    model = layer_stack.build_stack(layer_stack.DEFAULT_STACK, (28, 28, 1))
    assert {m.label: m.value for m in at.metric}["Parameters"] == f"{model.count_params():,}"
    at.selectbox(key="train_optimizer").set_value("rmsprop").run()
    # the first conv's kernel made larger than the 28×28 input
    at.session_state.train_stack_start = [{**layer_stack.DEFAULT_STACK[0], "size": 40,
                                              "padding": "valid"},
                                             *layer_stack.DEFAULT_STACK[1:]]
    at.run()
    assert not at.exception
    assert "layer 1 (Conv2D): a 40×40 window does not fit" in at.error[0].value
    assert at.button(key="train_start").disabled
    assert at.selectbox(key="train_optimizer").value == "rmsprop"  # the settings survive


def test_classic_32x32_lenet_takes_padded_28x28_images(runs_dir):
    at = train_page()
    at.selectbox(key="train_preset").set_value("lenet5_classic").run()
    at.selectbox(key="train_dataset").set_value("fashion_mnist").run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "FLOPs" in d.value.columns)
    assert table["output shape"].iloc[0] == "28×28×6"  # conv1 5×5 on the padded 32×32
    assert not at.button(key="train_start").disabled


@requires_data
def test_start_a_tiny_training_see_progress_and_stop(runs_dir):
    at = train_page()
    at.number_input(key="train_subset").set_value(3000)
    at.number_input(key="train_epochs").set_value(50)
    at.number_input(key="train_batch_size").set_value(32)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    run = at.session_state.train_run
    wait_for(at, lambda a: "batch" in progress_text(a) and "images/s" in progress_text(a))
    first = progress_text(at)
    wait_for(at, lambda a: progress_text(a) != first)
    # one conv layer's maps at a time, chosen by name: only that chart is redrawn each second
    wait_for(at, lambda a: any(c.key == "train_live_maps_layer" for c in a.get("button_group")))
    layers = at.segmented_control(key="train_live_maps_layer")
    convs = introspect.conv_layers(models.build(run.config.preset))
    assert layers.options == [path for path, _ in convs]
    layers.set_value(layers.options[-1]).run()
    assert not at.exception
    assert at.button(key="train_stop")  # Train became Stop while it runs
    at.button(key="train_stop").click().run()
    run.join(timeout=120)
    state = run.snapshot()
    assert state.status is live.Status.STOPPED
    assert state.epoch < 50
    at.run()
    assert not at.exception
    assert any("stopped early" in s.value for s in at.success)
    assert (runs_dir / state.run_dir.rsplit("/", 1)[-1] / "model.keras").is_file()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Test accuracy"] == f"{state.test_accuracy:.2%}"
    # Keras reports the stopped epoch too, ended early: the label says which and where
    ends, steps = [0, *state.epoch_ends], state.steps
    assert len(ends) - 1 == state.epoch and len(state.batch_loss) == ends[-1]
    where = (f"Stopped during epoch {state.epoch}, after batch {ends[-1] - ends[-2]}"
             if ends[-1] - ends[-2] < steps else f"Stopped after epoch {state.epoch}")
    assert progress_text(at) == where


def test_server_wide_cap(runs_dir, monkeypatch):
    monkeypatch.setattr(live, "MAX_ACTIVE", 0)
    at = train_page()
    at.button(key="train_start").click().run()
    assert "limit is 0" in at.error[0].value
    assert "train_run" not in at.session_state


@requires_data
def test_divergence_is_reported_with_advice(runs_dir):
    at = train_page()
    at.number_input(key="train_subset").set_value(512)
    at.number_input(key="train_learning_rate").set_value(1e6)
    at.selectbox(key="train_optimizer").set_value("sgd")
    at.button(key="train_start").click().run()
    at.session_state.train_run.join(timeout=120)
    at.run()
    assert not at.exception
    assert "lower learning rate" in at.error[0].value


@requires_data
def test_runs_page_lists_compares_and_reports(runs_dir):
    config = training.TrainConfig(preset="lenet5", epochs=1, subset=600, batch_size=64)
    first = training.train(config, runs_dir)
    training.train(config, runs_dir)
    at = AppTest.from_file(str(ROOT / "pages/runs.py"), default_timeout=120).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    assert len(at.multiselect(key="runs_compare").value) == 2
    at.selectbox(key="runs_one").set_value(first.run_dir.name).run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Test accuracy"] == f"{first.test_accuracy:.2%}"
    at.button(key="runs_use").click().run()
    assert at.session_state.chosen_model == f"Run {first.run_dir.name}"


def test_runs_page_without_runs(runs_dir):
    at = AppTest.from_file(str(ROOT / "pages/runs.py"), default_timeout=60).run()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_confusion_matrix_and_confident_mistakes_match_tensorflow():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    probs = rng.dirichlet(np.ones(10), 500)
    pred = probs.argmax(1)
    np.testing.assert_array_equal(training.confusion_matrix(y, pred, 10),
                                  tf.math.confusion_matrix(y, pred, 10).numpy())
    wrong = training.most_confident_wrong(probs, y, k=5)
    assert all(pred[i] != y[i] for i in wrong)
    conf = probs[wrong, pred[wrong]]
    assert list(conf) == sorted(conf, reverse=True)
    others = np.setdiff1d(np.flatnonzero(pred != y), wrong)
    assert conf[-1] >= probs[others].max(1).max()
