"""One training in a background thread, for the app: any thread reads typed snapshots of it.

The Keras callback publishes progress, per-batch loss and accuracy, the first conv layer's
filters and one test image's feature maps; `LiveRun.snapshot()` returns them as one frozen
`RunState`, consistent because it is copied under the same lock the trainer writes under.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnviz import data, models, runs, training

log = logging.getLogger("cnnviz")

MAX_ACTIVE = int(os.environ.get("CNNVIZ_MAX_TRAININGS", "2"))
_active: set = set()
_active_lock = threading.Lock()


class TooBusy(RuntimeError):
    """The server-wide cap on simultaneous trainings is reached."""


class Status(str, enum.Enum):
    STARTING = "starting"
    LOADING = "loading"  # the data and the model
    RUNNING = "running"
    STOPPING = "stopping"  # asked to stop; ends after the current batch
    SAVING = "saving"  # the batches are done: evaluating on the test set, writing the run
    DONE = "done"
    STOPPED = "stopped"  # stopped early; the weights so far were saved
    DIVERGED = "diverged"
    FAILED = "failed"


_UNDER_WAY = (Status.STARTING, Status.LOADING, Status.RUNNING)


@dataclass(frozen=True)
class RunState:
    status: Status = Status.STARTING
    message: str | None = None  # why it diverged or failed, one sentence for the learner
    epoch: int = 0  # epochs completed
    epochs: int = 0
    batch: int = 0  # batches completed in the current epoch
    steps: int | None = None  # batches per epoch
    images: int = 0  # images seen so far, all epochs
    rate: float | None = None  # images per second
    eta: float | None = None  # seconds
    started: float = 0.0  # time.time()
    batch_loss: tuple = ()  # each batch's own value (not Keras' running mean)
    batch_acc: tuple = ()
    epoch_logs: tuple = ()  # Keras' logs at each epoch's end
    epoch_seconds: tuple = ()
    epoch_ends: tuple = ()  # the batch count at each epoch's end (a stopped epoch ends early)
    filters: np.ndarray | None = None  # the first conv layer's kernel
    maps: dict = field(default_factory=dict)  # conv layer name -> one test image's maps
    total_images: int = 0
    run_dir: str | None = None  # the final folder; it exists once the run is finished
    test_accuracy: float | None = None
    seconds: float | None = None
    visual_version: int = 0  # bumped whenever filters and maps are published

    @property
    def finished(self) -> bool:
        """Ended with a saved run."""
        return self.status in (Status.DONE, Status.STOPPED)

    @property
    def failed(self) -> bool:
        """Ended without a run."""
        return self.status in (Status.DIVERGED, Status.FAILED)


@dataclass
class _Curves:
    """The growing part of the state, appended to in place (a tuple per batch would copy)."""
    batch_loss: list = field(default_factory=list)
    batch_acc: list = field(default_factory=list)
    epoch_logs: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    epoch_ends: list = field(default_factory=list)


def failure_message(err: Exception, started_training: bool) -> str:
    """One sentence for the learner, without paths or tracebacks (those go to the log)."""
    if isinstance(err, (models.ModelError, data.DatasetUnavailable)):
        return f"Training could not start: {str(err).rstrip('.')}."
    stage = ("while training or saving the run" if started_training
             else "the data could not be loaded or the model built")
    return (f"Training failed: {stage} ({type(err).__name__}); "
            "the server log has the details.")


class LiveRun:
    """One training in a background thread; `snapshot()` from any thread."""

    VISUAL_EVERY = 1.0  # seconds between filter/feature-map snapshots (each costs a forward pass)

    def __init__(self, config: training.TrainConfig, runs_dir=None):
        self.config = config
        self.runs_dir = Path(runs_dir or runs.DEFAULT_RUNS_DIR)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._visual_at = 0.0
        self._sample_maps = None  # (conv layers, a compiled function of their maps, a test image)
        self._means = (0.0, 0.0)
        self._epoch_mark = 0.0  # when the previous epoch ended (or training began)
        self._n_train = 0
        self._training_started = False
        self._state = RunState(epochs=config.epochs, started=time.time())
        self._curves = _Curves()

    # -- control, from the page --
    def start(self) -> "LiveRun":
        with _active_lock:
            if len(_active) >= MAX_ACTIVE:
                raise TooBusy(f"{len(_active)} trainings are already running on this server "
                              f"(the limit is {MAX_ACTIVE}); try again when one finishes.")
            _active.add(self)
        self._thread = threading.Thread(target=self._run, name="cnnviz-train", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask to stop after the current batch. A run that has already ended keeps its status:
        a Stop clicked as it finishes must not hide the result."""
        self._stop.set()
        with self._lock:
            if self._state.status in _UNDER_WAY:
                self._state = dataclasses.replace(self._state, status=Status.STOPPING)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout=None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def snapshot(self) -> RunState:
        with self._lock:
            curves = {k: tuple(v) for k, v in vars(self._curves).items()}
            return dataclasses.replace(self._state, maps=dict(self._state.maps), **curves)

    # -- the training thread --
    def _advance(self, status: Status, **changes) -> None:
        """Move to `status`, except that a requested stop stays visible until the run ends."""
        with self._lock:
            if self._state.status is Status.STOPPING and status in _UNDER_WAY:
                status = Status.STOPPING
            self._state = dataclasses.replace(self._state, status=status, **changes)

    def _run(self) -> None:
        try:
            run_dir = runs.new_run_dir(self.config, self.runs_dir)
            self._advance(Status.LOADING, run_dir=str(run_dir))
            result = training.train(self.config, run_dir=run_dir, on_start=self._on_start,
                                    on_batch=self._on_batch, on_epoch=self._on_epoch,
                                    on_fit_end=lambda: self._advance(Status.SAVING),
                                    stop_event=self._stop)
            self._advance(Status.STOPPED if result.stopped_early else Status.DONE,
                          run_dir=str(result.run_dir), test_accuracy=result.test_accuracy,
                          seconds=result.seconds)
        except training.TrainingDiverged as err:
            self._advance(Status.DIVERGED, message=f"Training stopped: {err}.")
        except Exception as err:  # noqa: BLE001 - shown on the page; the server goes on
            log.exception("training %s on %s failed", self.config.preset, self.config.dataset)
            self._advance(Status.FAILED, message=failure_message(err, self._training_started))
        finally:
            with _active_lock:
                _active.discard(self)

    def _on_start(self, model, n_train: int, dataset) -> None:
        import keras
        import tensorflow as tf

        from cnnviz import introspect

        convs = [layer for _, layer in introspect.conv_layers(model)]
        sample = tf.constant(training.prepare(model, dataset.x_test[:1]))
        maps = keras.Model(model.input, [c.output for c in convs]) if convs else None
        # compiled: this runs between training batches, and an eager call costs ~10x more
        self._sample_maps = (convs, tf.function(lambda x: maps(x, training=False)), sample) \
            if convs else None
        self._n_train = n_train
        self._epoch_mark = time.perf_counter()
        self._training_started = True
        self._advance(Status.RUNNING, steps=-(-n_train // self.config.batch_size),
                      total_images=n_train * self.config.epochs, started=time.time())
        self._snapshot_visuals()

    def _snapshot_visuals(self) -> None:
        if self._sample_maps is None:
            return
        convs, maps_of, sample = self._sample_maps
        outputs = maps_of(sample)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        filters = np.asarray(convs[0].kernel.numpy())
        maps = {c.name: np.asarray(o)[0] for c, o in zip(convs, outputs)}
        with self._lock:
            self._state = dataclasses.replace(self._state, filters=filters, maps=maps,
                                              visual_version=self._state.visual_version + 1)
        self._visual_at = time.monotonic()

    def _on_batch(self, batch: int, logs: dict) -> None:
        # Keras logs running means over the epoch; recover this batch's own values
        means = (float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan)))
        previous = self._means if batch else (0.0, 0.0)
        loss, acc = (m * (batch + 1) - p * batch for m, p in zip(means, previous))
        self._means = means
        with self._lock:
            s = self._state
            images = s.epoch * self._n_train + min((batch + 1) * self.config.batch_size,
                                                    self._n_train)
            elapsed = time.time() - s.started
            rate = images / elapsed if elapsed > 0 else None
            self._state = dataclasses.replace(
                s, batch=batch + 1, images=images, rate=rate,
                eta=(s.total_images - images) / rate if rate else None)
            self._curves.batch_loss.append(loss)
            self._curves.batch_acc.append(acc)
        if time.monotonic() - self._visual_at >= self.VISUAL_EVERY:
            self._snapshot_visuals()

    def _on_epoch(self, epoch: int, logs: dict) -> None:
        now = time.perf_counter()
        with self._lock:
            self._curves.epoch_seconds.append(now - self._epoch_mark)
            # in batches: a stopped epoch ends early, and its point belongs where it stopped
            self._curves.epoch_ends.append(len(self._curves.batch_loss))
            self._curves.epoch_logs.append({k: float(v) for k, v in logs.items()})
            self._state = dataclasses.replace(self._state, epoch=epoch + 1, batch=0)
        self._epoch_mark = now
        self._snapshot_visuals()
