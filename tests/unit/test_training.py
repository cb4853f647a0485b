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
