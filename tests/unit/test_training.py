import json
import threading

import numpy as np
import pytest

from cnnviz import training
from tests.conftest import requires_data

pytestmark = requires_data


def tiny(**overrides):
    base = dict(epochs=1, subset=300, batch_size=50)
    return training.TrainConfig.from_preset("lenet5", "adam_augmented", **{**base, **overrides})


def test_one_epoch_on_a_few_hundred_images_writes_history_and_run(tmp_path):
    epochs = []
    result = training.train(tiny(augment=False), tmp_path, on_epoch=lambda e, logs: epochs.append(e))
    assert epochs == [0]
    assert set(result.history) == {"loss", "accuracy"} and len(result.history["loss"]) == 1
    saved = json.loads((result.run_dir / "history.json").read_text())
    assert saved["history"] == result.history
    assert saved["test_accuracy"] == result.test_accuracy > 0.1
    assert training.read_run(result.run_dir)["config"]["subset"] == 300
    assert list((result.run_dir / "logs").rglob("events.out.tfevents.*"))  # TensorBoard


def test_stop_event_stops_within_one_batch(tmp_path):
    stop, batches = threading.Event(), []

    def on_batch(batch, logs):
        batches.append(batch)
        if batch == 1:
            stop.set()

    result = training.train(tiny(epochs=3), tmp_path, on_batch=on_batch, stop_event=stop)
    assert batches == [0, 1]
    assert result.stopped_early and (result.run_dir / "model.keras").exists()


def test_huge_learning_rate_is_caught_as_divergence(tmp_path):
    with pytest.raises(training.TrainingDiverged, match="lower learning rate than 1e\\+06"):
        training.train(tiny(optimizer="sgd", learning_rate=1e6, augment=False), tmp_path)


def test_augmenter_keeps_range_and_shape_and_changes_images():
    x = np.zeros((8, 28, 28, 1), np.float32)
    x[:, 8:20, 12:16] = 1.0
    out = training.make_augmenter(seed=1)(x).numpy()
    assert out.shape == x.shape and 0.0 <= out.min() and out.max() <= 1.0
    assert not np.allclose(out, x)


def test_stroke_thickness_grows_and_shrinks_ink():
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[:, 10:18, 13:15] = 1.0
    out = training.stroke_thickness(x, np.array([1.0, -1.0], np.float32)).numpy()
    assert out[0].sum() > x[0].sum() > out[1].sum()


def test_live_run_publishes_progress_filters_and_maps_then_saves(tmp_path):
    run = training.LiveRun(tiny(augment=False, epochs=2, validation_split=0.2), tmp_path).start()
    run.join(timeout=300)
    s = run.snapshot()
    assert s["status"] == "done" and s["message"] is None
    steps = -(-240 // 50)  # 300 images, 20% held out for validation
    assert s["steps"] == steps and s["epoch"] == 2 and s["batch"] == 0
    assert s["epoch_ends"] == [steps, 2 * steps]
    assert len(s["batch_loss"]) == len(s["batch_acc"]) == 2 * steps
    assert len(s["epoch_seconds"]) == 2 and 0 < s["epoch_seconds"][-1] < s["seconds"]
    assert [set(log) for log in s["epoch_logs"]] == [{"loss", "accuracy", "val_loss",
                                                      "val_accuracy"}] * 2
    assert s["filters"].shape == (5, 5, 1, 6)
    assert {k: v.shape for k, v in s["maps"].items()} == {"conv1": (24, 24, 6), "conv2": (8, 8, 16)}
    saved = training.read_run(s["run_dir"])
    assert saved["test_accuracy"] == s["test_accuracy"]
    assert saved["history"]["val_loss"] == [log["val_loss"] for log in s["epoch_logs"]]


def test_live_run_per_batch_values_average_back_to_the_keras_epoch_figure(tmp_path):
    config = tiny(augment=False, subset=250)  # 5 full batches: equal weights
    run = training.LiveRun(config, tmp_path).start()
    run.join(timeout=300)
    s = run.snapshot()
    assert np.mean(s["batch_loss"]) == pytest.approx(s["epoch_logs"][0]["loss"], rel=1e-4)
    assert np.mean(s["batch_acc"]) == pytest.approx(s["epoch_logs"][0]["accuracy"], abs=1e-4)


def test_live_run_stop_keeps_the_weights_and_the_run(tmp_path):
    run = training.LiveRun(tiny(augment=False, epochs=50), tmp_path).start()
    while not run.snapshot()["batch_loss"]:
        run.join(0.05)
    run.stop()
    run.join(timeout=300)
    s = run.snapshot()
    assert s["status"] == "stopped" and s["epoch"] < 50
    assert training.list_runs(tmp_path) == [training.Path(s["run_dir"])]


def test_live_run_divergence_and_failure_are_reported_not_raised(tmp_path):
    run = training.LiveRun(tiny(optimizer="sgd", learning_rate=1e6, augment=False), tmp_path)
    run.start().join(timeout=300)
    assert run.snapshot()["status"] == "diverged"
    assert "lower learning rate" in run.snapshot()["message"]
    broken = training.LiveRun(tiny(dataset="no_such_set"), tmp_path)
    broken.start().join(timeout=60)
    assert broken.snapshot()["status"] == "failed"
    assert not training._active  # both released their slot


def test_server_wide_cap_refuses_a_third_training(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "MAX_ACTIVE", 2)
    runs = [training.LiveRun(tiny(augment=False, epochs=50), tmp_path).start() for _ in range(2)]
    try:
        with pytest.raises(training.TooBusy, match="limit is 2"):
            training.LiveRun(tiny(), tmp_path).start()
    finally:
        for run in runs:
            run.stop()
        for run in runs:
            run.join(timeout=300)
    training.LiveRun(tiny(augment=False), tmp_path).start().join(timeout=300)  # slot free again


def test_custom_stack_trains(tmp_path):
    from cnnviz import models

    config = training.TrainConfig(preset="custom", epochs=1, subset=200, batch_size=50,
                                  stack=models.DEFAULT_STACK)
    result = training.train(config, tmp_path)
    assert training.read_run(result.run_dir)["config"]["stack"] == models.DEFAULT_STACK
