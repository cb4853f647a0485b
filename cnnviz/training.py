"""Training driven by Keras callbacks, written to a run directory.

A run directory holds `model.keras`, `history.json` and `config.json`; every file is written
atomically so a run killed mid-save still has its previous files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz import data, models
from cnnviz.files import read_json, write_json

DEFAULT_RUNS_DIR = Path(os.environ.get("CNNVIZ_RUNS_DIR", "runs"))


@dataclass
class TrainConfig:
    preset: str = "lenet5"
    dataset: str = "mnist"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    epochs: int = 1
    batch_size: int = 128
    validation_split: float = 0.0
    subset: int | None = None  # train on the first `subset` images only
    augment: bool = False
    cosine_decay: bool = False  # anneal the learning rate to 0 over all epochs
    seed: int = 0
    stack: list | None = None  # a layer stack edited on the Train page, instead of the preset

    @classmethod
    def from_preset(cls, preset: str, recipe: str | None = None, **overrides) -> "TrainConfig":
        """The preset's published recipe (or a named better one), with `overrides` on top."""
        if preset not in models.PRESETS:
            raise models.ModelError(
                f"unknown preset {preset!r}; choose one of: {', '.join(models.PRESETS)}"
            )
        p = models.PRESETS[preset]
        if recipe is not None and recipe not in p.better_recipes:
            raise models.ModelError(
                f"preset {preset} has no recipe {recipe!r}; "
                f"it has: {', '.join(p.better_recipes) or 'only its default'}"
            )
        r = p.recipe if recipe is None else p.better_recipes[recipe]
        cfg = cls(
            preset=preset, dataset=p.dataset, optimizer=r.optimizer,
            learning_rate=r.learning_rate, epochs=r.epochs, batch_size=r.batch_size,
            validation_split=r.validation_split, augment=r.augment,
            cosine_decay=r.cosine_decay,
        )
        return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


class TrainingDiverged(RuntimeError):
    pass


# --- augmentation ----------------------------------------------------------------------------


def stroke_thickness(x, strength):
    """Thicken (strength > 0) or thin (< 0) strokes: a blend towards a 3x3 dilation/erosion.

    Drawn digits come with any pen width; MNIST strokes are 2-3 px. Blending rather than a
    full erosion keeps the thin MNIST strokes from vanishing.
    """
    import tensorflow as tf

    grown = tf.nn.max_pool2d(x, 3, 1, "SAME")
    shrunk = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    s = tf.reshape(strength, [-1, 1, 1, 1])
    return tf.where(s > 0, x + s * (grown - x), x + (-s) * (shrunk - x))


def make_augmenter(seed: int = 0):
    """Shifts, small rotations, scale and stroke thickness, applied to a float NHWC batch."""
    import keras
    import tensorflow as tf

    geometry = keras.Sequential(
        [
            keras.layers.RandomRotation(12 / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom((-0.15, 0.15), fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )
    gen = tf.random.Generator.from_seed(seed + 3)

    def augment(x):
        strength = gen.uniform([tf.shape(x)[0]], -0.5, 1.0)
        x = stroke_thickness(x, strength)
        return tf.clip_by_value(geometry(x, training=True), 0.0, 1.0)

    return augment


# --- callbacks ---------------------------------------------------------------------------------


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


def make_callback(on_batch=None, on_epoch=None, stop_event: threading.Event | None = None):
    """A Keras callback that reports batches/epochs, stops on request and on divergence."""
    Base = _keras_callback_base()

    class Reporter(Base):
        def __init__(self):
            super().__init__()
            self.diverged_at = None

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            loss = logs.get("loss")
            if loss is not None and not np.isfinite(loss):
                self.diverged_at = batch
                self.model.stop_training = True
            if on_batch:
                on_batch(batch, logs)
            if stop_event is not None and stop_event.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch, logs or {})

    return Reporter()


def epoch_summaries(log_dir):
    """TensorBoard scalars once per epoch (`tensorboard --logdir runs/` compares runs).

    Keras' own TensorBoard callback hooks every batch and cost ~5% throughput here; this
    writes only what an epoch ends with."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(log_dir))

    class EpochSummaries(_keras_callback_base()):
        def on_epoch_end(self, epoch, logs=None):
            with writer.as_default():
                for key, value in (logs or {}).items():
                    split = "validation" if key.startswith("val_") else "train"
                    tf.summary.scalar(f"{key.removeprefix('val_')}/{split}", value, step=epoch)
            writer.flush()

    return EpochSummaries()


# --- the trainer ---------------------------------------------------------------------------


def make_optimizer(name: str, learning_rate: float, decay_steps: int | None = None):
    import keras

    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    choices = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
               "rmsprop": keras.optimizers.RMSprop}
    if name not in choices:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(choices)}")
    return choices[name](learning_rate=learning_rate)


def prepare(model, images: np.ndarray) -> np.ndarray:
    """Dataset images shaped for this model's input (zero-padded, e.g. 28 -> 32)."""
    return data.fit_to_input(images, model.input_shape[1:])


def training_arrays(config: TrainConfig, dataset: data.Dataset):
    x, y = dataset.x_train, dataset.y_train
    if config.subset:
        x, y = x[: config.subset], y[: config.subset]
    n_val = int(len(x) * config.validation_split)
    if n_val:
        return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])
    return (x, y), None


def make_dataset(x, y, batch_size, *, shuffle_seed=None, augment=None):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda a, b: (augment(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def new_run_dir(config: TrainConfig, runs_dir=None) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(runs_dir or DEFAULT_RUNS_DIR) / f"{stamp}-{config.preset}-{config.dataset}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return path


@dataclass
class RunResult:
    run_dir: Path
    history: dict
    test_accuracy: float
    test_loss: float
    stopped_early: bool
    seconds: float


def build_model(config: TrainConfig, image_shape):
    if config.stack:
        return models.build_stack(config.stack, image_shape, name=config.preset)
    model = models.build(config.preset)
    models.check_input(model, image_shape)
    return model


def train(config: TrainConfig, runs_dir=None, *, run_dir=None, on_start=None,
          on_batch=None, on_epoch=None, stop_event=None) -> RunResult:
    """Train `config`, evaluate on the test set and write the run directory.

    `on_start(model, n_train, dataset)` is called once before the first batch."""
    import keras

    keras.utils.set_random_seed(config.seed)
    dataset = data.load(config.dataset)
    model = build_model(config, dataset.info.image_shape)
    (x, y), val = training_arrays(config, dataset)
    steps = config.epochs * -(-len(x) // config.batch_size)
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate,
                                 steps if config.cosine_decay else None),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    augment = make_augmenter(config.seed) if config.augment else None
    train_ds = make_dataset(prepare(model, x), y, config.batch_size,
                            shuffle_seed=config.seed, augment=augment)
    val_ds = make_dataset(prepare(model, val[0]), val[1], 1024) if val else None

    run_dir = Path(run_dir) if run_dir else new_run_dir(config, runs_dir)
    write_json(run_dir / "config.json", dataclasses.asdict(config))
    reporter = make_callback(on_batch, on_epoch, stop_event)
    if on_start:
        on_start(model, len(x), dataset)
    board = epoch_summaries(run_dir / "logs")
    start = time.perf_counter()
    fit = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                    callbacks=[reporter, board], verbose=0, shuffle=False)  # tf.data shuffles
    seconds = time.perf_counter() - start
    if reporter.diverged_at is not None:
        raise TrainingDiverged(
            f"the loss became NaN or infinite at batch {reporter.diverged_at + 1}; "
            f"try a lower learning rate than {config.learning_rate:g}"
        )
    history = {k: [float(v) for v in vs] for k, vs in fit.history.items()}
    test_loss, test_acc = evaluate_arrays(model, dataset.x_test, dataset.y_test)
    models.save(model, run_dir / "model.keras")
    stopped = bool(stop_event is not None and stop_event.is_set())
    write_json(run_dir / "history.json", {
        "history": history, "test_accuracy": test_acc, "test_loss": test_loss,
        "seconds": seconds, "stopped_early": stopped, "dataset_is_sample": dataset.is_sample,
    })
    return RunResult(run_dir, history, test_acc, test_loss, stopped, seconds)


def predict_arrays(model, x, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities for many images, in batches through one compiled call."""
    import tensorflow as tf

    call = tf.function(lambda t: model(t, training=False))
    x = prepare(model, x)
    return np.concatenate(
        [call(tf.constant(x[i: i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
    )


def evaluate_arrays(model, x, y, batch_size: int = 1024) -> tuple[float, float]:
    """(loss, accuracy) of a softmax classifier, computed in numpy from batched outputs."""
    probs = predict_arrays(model, x, batch_size)
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.log(p_true).mean()), float((probs.argmax(1) == y).mean())


def evaluate(model, dataset_name: str) -> dict:
    dataset = data.load(dataset_name)
    models.check_input(model, dataset.info.image_shape)
    loss, acc = evaluate_arrays(model, dataset.x_test, dataset.y_test)
    return {"accuracy": acc, "loss": loss, "n": int(len(dataset.y_test)),
            "dataset_is_sample": dataset.is_sample}


def read_run(run_dir) -> dict:
    run_dir = Path(run_dir)
    return {"config": read_json(run_dir / "config.json"),
            **read_json(run_dir / "history.json")}


def list_runs(runs_dir=None) -> list[Path]:
    """Finished runs (those with a saved model), newest first."""
    runs_dir = Path(runs_dir or DEFAULT_RUNS_DIR)
    if not runs_dir.is_dir():
        return []
    return sorted((p for p in runs_dir.iterdir() if (p / "model.keras").is_file()),
                  key=lambda p: p.name, reverse=True)


# --- live training for the app -----------------------------------------------------------------

MAX_ACTIVE = int(os.environ.get("CNNVIZ_MAX_TRAININGS", "2"))
_active: set = set()
_active_lock = threading.Lock()


class TooBusy(RuntimeError):
    """The server-wide cap on simultaneous trainings is reached."""


class LiveRun:
    """One training in a background thread. The Keras callback publishes progress, the first
    conv layer's filters and one sample's feature maps; any thread reads `snapshot()`."""

    VISUAL_EVERY = 1.0  # seconds between filter/feature-map snapshots (each costs a forward pass)

    def __init__(self, config: TrainConfig, runs_dir=None):
        self.config = config
        self.runs_dir = Path(runs_dir or DEFAULT_RUNS_DIR)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._visual_at = 0.0
        self._probe = None
        self._means = (0.0, 0.0)
        self._epoch_mark = 0.0  # when the previous epoch ended (or training began)
        self._n_train = 0
        self._state = dict(status="starting", message=None, epoch=0, epochs=config.epochs,
                           batch=0, steps=None, images=0, rate=None, eta=None,
                           started=time.time(), batch_loss=[], batch_acc=[], epoch_logs=[],
                           epoch_seconds=[], epoch_ends=[],
                           filters=None, maps={}, total_images=0, run_dir=None,
                           test_accuracy=None, seconds=None, visual_version=0)

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
        self._stop.set()
        self._update(status="stopping")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout=None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def snapshot(self) -> dict:
        with self._lock:
            return {k: list(v) if isinstance(v, list) else v for k, v in self._state.items()}

    # -- the training thread --
    def _update(self, **changes) -> None:
        with self._lock:
            self._state.update(changes)

    def _run(self) -> None:
        try:
            run_dir = new_run_dir(self.config, self.runs_dir)
            self._update(run_dir=str(run_dir), status="loading")
            result = train(self.config, run_dir=run_dir, on_start=self._on_start,
                           on_batch=self._on_batch, on_epoch=self._on_epoch,
                           stop_event=self._stop)
            self._update(status="stopped" if result.stopped_early else "done",
                         test_accuracy=result.test_accuracy, seconds=result.seconds)
        except TrainingDiverged as err:
            self._update(status="diverged", message=f"Training stopped: {err}.")
        except Exception as err:  # noqa: BLE001 - shown on the page; the server goes on
            self._update(status="failed", message=f"Training failed: {type(err).__name__}: {err}")
        finally:
            with _active_lock:
                _active.discard(self)

    def _on_start(self, model, n_train: int, dataset) -> None:
        import keras
        import tensorflow as tf

        from cnnviz import introspect

        convs = [layer for _, layer in introspect.conv_layers(model)]
        sample = tf.constant(prepare(model, dataset.x_test[:1]))
        maps = keras.Model(model.input, [c.output for c in convs]) if convs else None
        # compiled: this runs between training batches, and an eager call costs ~10x more
        self._probe = (convs, tf.function(lambda x: maps(x, training=False)), sample) \
            if convs else None
        self._n_train = n_train
        self._epoch_mark = time.perf_counter()
        self._update(status="running", steps=-(-n_train // self.config.batch_size),
                     total_images=n_train * self.config.epochs, started=time.time())
        self._snapshot_visuals()

    def _snapshot_visuals(self) -> None:
        if self._probe is None:
            return
        convs, probe, sample = self._probe
        outputs = probe(sample)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        with self._lock:
            self._state.update(filters=np.asarray(convs[0].kernel.numpy()),
                               maps={c.name: np.asarray(o)[0] for c, o in zip(convs, outputs)})
            self._state["visual_version"] += 1
        self._visual_at = time.monotonic()

    def _on_batch(self, batch: int, logs: dict) -> None:
        with self._lock:
            s = self._state
            s["batch"] = batch + 1
            s["images"] = s["epoch"] * self._n_train + min((batch + 1) * self.config.batch_size,
                                                            self._n_train)
            elapsed = time.time() - s["started"]
            s["rate"] = s["images"] / elapsed if elapsed > 0 else None
            s["eta"] = (s["total_images"] - s["images"]) / s["rate"] if s["rate"] else None
            # Keras logs running means over the epoch; recover this batch's own values
            means = (float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan)))
            previous = self._means if batch else (0.0, 0.0)
            own = [m * (batch + 1) - p * batch for m, p in zip(means, previous)]
            self._means = means
            s["batch_loss"].append(own[0])
            s["batch_acc"].append(own[1])
        if time.monotonic() - self._visual_at >= self.VISUAL_EVERY:
            self._snapshot_visuals()

    def _on_epoch(self, epoch: int, logs: dict) -> None:
        now = time.perf_counter()
        with self._lock:
            self._state["epoch_seconds"].append(now - self._epoch_mark)
            # in batches: a stopped epoch ends early, and its point belongs where it stopped
            self._state["epoch_ends"].append(len(self._state["batch_loss"]))
            self._state["epoch"] = epoch + 1
            self._state["batch"] = 0
            self._state["epoch_logs"].append({k: float(v) for k, v in logs.items()})
        self._epoch_mark = now
        self._snapshot_visuals()


# --- after training ----------------------------------------------------------------------------


def confusion_matrix(y_true, y_pred, classes: int) -> np.ndarray:
    """counts[i, j] = test images of class i predicted as j."""
    return np.bincount(np.asarray(y_true) * classes + np.asarray(y_pred),
                       minlength=classes * classes).reshape(classes, classes)


def most_confident_wrong(probs: np.ndarray, y_true, k: int = 12) -> np.ndarray:
    """Indices of the k misclassified images the model was surest about, surest first."""
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != np.asarray(y_true))
    return wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:k]
