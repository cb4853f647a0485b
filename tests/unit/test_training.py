import dataclasses
import json
import logging
import threading
import time

import numpy as np
import pytest

from cnnviz import augmentation, data, files, layer_stack, live, models, runs, training
from tests.conftest import requires_data


def tiny(**overrides):
    base = dict(epochs=1, subset=300, batch_size=50)
    return training.TrainConfig.from_preset("lenet5", "adam_augmented", **{**base, **overrides})


def entries(folder):
    return sorted(p.name for p in folder.iterdir())


# --- train() and its run folder ------------------------------------------------------------


@requires_data
def test_one_epoch_on_a_few_hundred_images_writes_history_and_run(tmp_path):
    epochs = []
    result = training.train(tiny(augment=False), tmp_path, on_epoch=lambda e, logs: epochs.append(e))
    assert epochs == [0]
    assert set(result.history) == {"loss", "accuracy"} and len(result.history["loss"]) == 1
    saved = json.loads((result.run_dir / "history.json").read_text())
    assert saved["history"] == result.history
    assert saved["test_accuracy"] == result.test_accuracy > 0.1
    record = runs.read_run(result.run_dir)
    assert record.config["subset"] == 300 and record.test_accuracy == result.test_accuracy
    assert list((result.run_dir / "logs").rglob("events.out.tfevents.*"))  # TensorBoard
    assert entries(tmp_path) == [result.run_dir.name]  # no hidden leftovers


@requires_data
def test_a_run_appears_whole_only_when_it_is_finished(tmp_path):
    final = tmp_path / "my-run"
    seen = []

    def look(*_):
        hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".partial-my-run-")]
        seen.append((final.exists(), len(hidden), runs.scan_runs(tmp_path)))

    result = training.train(tiny(augment=False), run_dir=final, on_start=look,
                            on_epoch=lambda *a: look())
    assert seen == [(False, 1, []), (False, 1, [])]  # hidden while written, never listed
    assert result.run_dir == final
    assert entries(final) == ["config.json", "history.json", "logs", "model.keras"]
    assert entries(tmp_path) == ["my-run"]


@requires_data
def test_a_run_name_taken_meanwhile_gets_the_next_free_one(tmp_path):
    taken = tmp_path / "my-run"

    def take_the_name(*_):
        taken.mkdir()
        (taken / "other.txt").write_text("another writer's run")

    result = training.train(tiny(augment=False), run_dir=taken, on_start=take_the_name)
    assert result.run_dir == tmp_path / "my-run-2" and (result.run_dir / "model.keras").is_file()
    assert entries(taken) == ["other.txt"]


def test_new_run_dir_names_a_free_folder_without_creating_it(tmp_path):
    path = runs.new_run_dir(tiny(), tmp_path)
    assert path.parent == tmp_path and path.name.endswith("-lenet5-mnist")
    assert entries(tmp_path) == []


def test_a_free_name_skips_finished_runs_and_runs_being_written(tmp_path):
    assert files.free_dir_name(tmp_path / "run") == tmp_path / "run"
    (tmp_path / "run").mkdir()
    assert files.free_dir_name(tmp_path / "run") == tmp_path / "run-2"
    partial = files.partial_dir(tmp_path / "run-2")  # being written: its name is taken
    assert partial.name.startswith(".partial-run-2-")
    assert files.free_dir_name(tmp_path / "run") == tmp_path / "run-3"
    (partial / "model.keras").write_text("weights")
    assert files.publish_dir(partial, tmp_path / "run") == tmp_path / "run-2"
    assert entries(tmp_path) == ["run", "run-2"] and entries(tmp_path / "run-2") == ["model.keras"]


@requires_data
def test_stop_event_stops_within_one_batch(tmp_path):
    stop, batches = threading.Event(), []

    def on_batch(batch, logs):
        batches.append(batch)
        if batch == 1:
            stop.set()

    result = training.train(tiny(epochs=3), tmp_path, on_batch=on_batch, stop_event=stop)
    assert batches == [0, 1]
    assert result.stopped_early and (result.run_dir / "model.keras").exists()


@requires_data
def test_a_stop_after_the_last_batch_does_not_make_a_complete_run_stopped(tmp_path):
    stop = threading.Event()
    result = training.train(tiny(augment=False), tmp_path, stop_event=stop,
                            on_epoch=lambda *a: stop.set())
    assert not result.stopped_early and len(result.history["loss"]) == 1


@requires_data
def test_huge_learning_rate_is_caught_as_divergence_and_leaves_no_folder(tmp_path):
    with pytest.raises(training.TrainingDiverged, match="lower learning rate than 1e\\+06"):
        training.train(tiny(optimizer="sgd", learning_rate=1e6, augment=False), tmp_path)
    assert entries(tmp_path) == []


@requires_data
def test_a_failure_after_training_leaves_no_folder(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(training.models, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        training.train(tiny(augment=False), tmp_path)
    assert entries(tmp_path) == []


def test_augmenter_keeps_range_and_shape_and_changes_images():
    x = np.zeros((8, 28, 28, 1), np.float32)
    x[:, 8:20, 12:16] = 1.0
    out = augmentation.make_augmenter(seed=1)(x).numpy()
    assert out.shape == x.shape and 0.0 <= out.min() and out.max() <= 1.0
    assert not np.allclose(out, x)


def test_stroke_thickness_grows_and_shrinks_ink():
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[:, 10:18, 13:15] = 1.0
    out = augmentation.stroke_thickness(x, np.array([1.0, -1.0], np.float32)).numpy()
    assert out[0].sum() > x[0].sum() > out[1].sum()


# --- memory --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("MemTotal: 16000000 kB\nMemAvailable:    8000000 kB\n", 8_000_000 * 1024 // 4),
    ("MemTotal: 16000000 kB\n", training.FALLBACK_BUDGET),  # an old kernel: no MemAvailable
    ("MemAvailable: lots\n", training.FALLBACK_BUDGET),
    ("MemAvailable:\n", training.FALLBACK_BUDGET),
    (None, training.FALLBACK_BUDGET),  # no such file
])
def test_memory_budget_is_a_quarter_of_available_memory(tmp_path, monkeypatch, text, expected):
    meminfo = tmp_path / "meminfo"
    if text is not None:
        meminfo.write_text(text)
    monkeypatch.setattr(training, "MEMINFO", str(meminfo))
    assert training.memory_budget() == expected


def test_memory_budget_reads_this_machine():
    assert 0 < training.memory_budget()


WIDE = [dict(layer="Conv2D", units=64, size=3, stride=1, padding="same", activation="relu")]


@pytest.mark.parametrize("batch, budget, figures", [
    (128, 1000 * 2**20, None),
    (128, 50 * 2**20, ("75 MB", "50 MB")),
    (16, 50 * 2**20, None),  # the same network fits with a smaller batch
    (4, 2**20, ("2 MB", "1 MB")),
    (8192, 3 * 2**30, ("4.7 GB", "3.0 GB")),
])
def test_custom_stack_over_the_memory_budget_is_refused_with_the_figures(monkeypatch, batch,
                                                                        budget, figures):
    monkeypatch.setattr(training, "memory_budget", lambda: budget)
    config = training.TrainConfig(preset="custom", batch_size=batch, stack=WIDE)
    # input 784 + conv 28*28*64 + the 10 outputs, float32, times 3 (outputs, gradients, scratch)
    need = batch * (784 + 28 * 28 * 64 + 10) * 4 * 3
    if figures is None:
        assert training.check_memory(config, (28, 28, 1)) == need
        return
    with pytest.raises(models.ModelError) as err:
        training.check_memory(config, (28, 28, 1))
    assert str(err.value) == (
        f"one batch of {batch:,} images would need about {figures[0]} for this network's "
        f"activations, more than the {figures[1]} a training may use here; use a smaller "
        "batch size, or pool or stride earlier")


def test_presets_skip_the_memory_check(monkeypatch):
    monkeypatch.setattr(training, "memory_budget", lambda: 1)
    assert training.check_memory(tiny(), (28, 28, 1)) is None


def test_train_refuses_a_stack_over_budget_before_loading_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "memory_budget", lambda: 2**20)
    monkeypatch.setattr(data, "load", lambda name: pytest.fail("the data was loaded"))
    config = training.TrainConfig(preset="custom", batch_size=64, stack=WIDE)
    with pytest.raises(models.ModelError, match="more than the 1 MB"):
        training.train(config, tmp_path)
    assert entries(tmp_path) == []


@requires_data
def test_custom_stack_trains(tmp_path):
    config = training.TrainConfig(preset="custom", epochs=1, subset=200, batch_size=50,
                                  stack=layer_stack.DEFAULT_STACK)
    result = training.train(config, tmp_path)
    assert runs.read_run(result.run_dir).config["stack"] == layer_stack.DEFAULT_STACK


# --- the live run --------------------------------------------------------------------------


def test_status_values_and_what_they_mean():
    assert [s.value for s in live.Status] == ["starting", "loading", "running", "stopping",
                                              "saving", "done", "stopped", "diverged",
                                              "failed"]
    assert live.Status.DONE == "done"  # a str enum: compares equal to its value
    finished = {s for s in live.Status if live.RunState(status=s).finished}
    failed = {s for s in live.Status if live.RunState(status=s).failed}
    assert finished == {live.Status.DONE, live.Status.STOPPED}
    assert failed == {live.Status.DIVERGED, live.Status.FAILED}


def test_run_state_has_the_published_fields_and_is_frozen():
    assert [f.name for f in dataclasses.fields(live.RunState)] == [
        "status", "message", "epoch", "epochs", "batch", "steps", "images", "rate", "eta",
        "started", "batch_loss", "batch_acc", "epoch_logs", "epoch_seconds", "epoch_ends",
        "filters", "maps", "total_images", "run_dir", "test_accuracy", "seconds",
        "visual_version"]
    state = live.LiveRun(tiny()).snapshot()
    assert state.status is live.Status.STARTING and state.batch_loss == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = live.Status.DONE


@requires_data
def test_live_run_publishes_progress_filters_and_maps_then_saves(tmp_path):
    run = live.LiveRun(tiny(augment=False, epochs=2, validation_split=0.2), tmp_path).start()
    run.join(timeout=300)
    s = run.snapshot()
    assert s.status is live.Status.DONE and s.finished and s.message is None
    steps = -(-240 // 50)  # 300 images, 20% held out for validation
    assert s.steps == steps and s.epoch == 2 and s.batch == 0
    assert s.epoch_ends == (steps, 2 * steps)
    assert len(s.batch_loss) == len(s.batch_acc) == 2 * steps
    assert len(s.epoch_seconds) == 2 and 0 < s.epoch_seconds[-1] < s.seconds
    assert [set(log) for log in s.epoch_logs] == [{"loss", "accuracy", "val_loss",
                                                   "val_accuracy"}] * 2
    assert s.filters.shape == (5, 5, 1, 6)
    assert {k: v.shape for k, v in s.maps.items()} == {"conv1": (24, 24, 6), "conv2": (8, 8, 16)}
    saved = runs.read_run(s.run_dir)
    assert saved.test_accuracy == s.test_accuracy
    assert saved.history["val_loss"] == [log["val_loss"] for log in s.epoch_logs]
    # a Stop clicked as it finished must not hide the result
    run.stop()
    assert run.snapshot().status is live.Status.DONE


@requires_data
def test_live_run_per_batch_values_average_back_to_the_keras_epoch_figure(tmp_path):
    config = tiny(augment=False, subset=250)  # 5 full batches: equal weights
    run = live.LiveRun(config, tmp_path).start()
    run.join(timeout=300)
    s = run.snapshot()
    assert np.mean(s.batch_loss) == pytest.approx(s.epoch_logs[0]["loss"], rel=1e-4)
    assert np.mean(s.batch_acc) == pytest.approx(s.epoch_logs[0]["accuracy"], abs=1e-4)


@requires_data
def test_live_run_stop_keeps_the_weights_and_the_run(tmp_path):
    run = live.LiveRun(tiny(augment=False, epochs=50), tmp_path).start()
    deadline = time.monotonic() + 120
    while not run.snapshot().batch_loss and time.monotonic() < deadline:
        run.join(0.05)
    assert run.snapshot().batch_loss, "no batch in 2 minutes"
    run.stop()
    assert run.snapshot().status in (live.Status.STOPPING, live.Status.STOPPED)
    run.join(timeout=300)
    s = run.snapshot()
    assert s.status is live.Status.STOPPED and s.finished and s.epoch < 50
    assert runs.list_runs(tmp_path) == [training.Path(s.run_dir)]


@requires_data
def test_a_stop_ends_the_batches_at_once_and_says_it_is_saving(tmp_path, monkeypatch):
    evaluate = training.evaluate_arrays

    def slow_evaluate(*args, **kwargs):  # the test set and saving take a while: watch them
        time.sleep(2)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_arrays", slow_evaluate)
    run = live.LiveRun(tiny(augment=False, epochs=50), tmp_path).start()
    deadline = time.monotonic() + 120
    while not run.snapshot().batch_loss and time.monotonic() < deadline:
        run.join(0.05)
    run.stop()
    stopped_at, batches = time.monotonic(), len(run.snapshot().batch_loss)
    while run.snapshot().status is not live.Status.SAVING and time.monotonic() < deadline:
        run.join(0.01)
    assert run.snapshot().status is live.Status.SAVING
    assert time.monotonic() - stopped_at < 1.0  # within one batch, not after the evaluation
    assert len(run.snapshot().batch_loss) <= batches + 1
    run.stop()  # a second click while saving changes nothing
    run.join(timeout=120)
    assert run.snapshot().status is live.Status.STOPPED


@requires_data
def test_live_run_divergence_is_reported_not_raised(tmp_path):
    run = live.LiveRun(tiny(optimizer="sgd", learning_rate=1e6, augment=False), tmp_path)
    run.start().join(timeout=300)
    s = run.snapshot()
    assert s.status is live.Status.DIVERGED and s.failed
    assert s.message.startswith("Training stopped: the loss became NaN or infinite at batch ")
    run.stop()  # after the end: the verdict stays
    assert run.snapshot().status is live.Status.DIVERGED
    assert entries(tmp_path) == [] and not live._active


@pytest.mark.parametrize("error, started, message", [
    (OSError("[Errno 5] Input/output error: '/srv/keras/datasets/mnist.npz'"), False,
     "Training failed: the data could not be loaded or the model built (OSError); the server "
     "log has the details."),
    (MemoryError(), False,
     "Training failed: the data could not be loaded or the model built (MemoryError); the "
     "server log has the details."),
    (data.DatasetUnavailable("CIFAR-10 could not be downloaded (URLError)."), False,
     "Training could not start: CIFAR-10 could not be downloaded (URLError)."),
    (models.ModelError("one batch of 64 images would need about 2 GB"), False,
     "Training could not start: one batch of 64 images would need about 2 GB."),
    (OSError("[Errno 28] No space left on device: '/srv/runs/x/model.keras'"), True,
     "Training failed: while training or saving the run (OSError); the server log has the "
     "details."),
])
def test_failure_messages_are_one_sentence_without_paths(error, started, message):
    assert live.failure_message(error, started) == message


def test_a_failing_training_is_logged_with_its_traceback_and_told_in_one_sentence(
        tmp_path, monkeypatch, caplog):
    def unreadable(name):
        raise OSError("[Errno 5] Input/output error: '/srv/secret/mnist.npz'")

    monkeypatch.setattr(data, "load", unreadable)
    run = live.LiveRun(tiny(), tmp_path)
    with caplog.at_level(logging.ERROR, logger="cnnviz"):
        run.start().join(timeout=60)
    s = run.snapshot()
    assert s.status is live.Status.FAILED and s.failed
    assert s.message == ("Training failed: the data could not be loaded or the model built "
                         "(OSError); the server log has the details.")
    [record] = [r for r in caplog.records if r.name == "cnnviz"]
    assert record.levelno == logging.ERROR and record.exc_info[0] is OSError
    assert "/srv/secret/mnist.npz" in caplog.text and "Traceback" in caplog.text
    run.stop()
    assert run.snapshot().status is live.Status.FAILED  # stop after the end changes nothing
    assert entries(tmp_path) == [] and not live._active


@requires_data
def test_server_wide_cap_refuses_a_third_training(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "MAX_ACTIVE", 2)
    active = [live.LiveRun(tiny(augment=False, epochs=50), tmp_path).start() for _ in range(2)]
    try:
        with pytest.raises(live.TooBusy, match="limit is 2"):
            live.LiveRun(tiny(), tmp_path).start()
    finally:
        for run in active:
            run.stop()
        for run in active:
            run.join(timeout=300)
    assert [run.snapshot().status for run in active] == [live.Status.STOPPED] * 2
    assert len(runs.list_runs(tmp_path)) == 2  # same second, same name: the second got "-2"
    live.LiveRun(tiny(augment=False), tmp_path).start().join(timeout=300)  # slot free again
