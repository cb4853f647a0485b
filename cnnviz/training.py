"""Training driven by Keras callbacks, written to a run folder (see `cnnviz.runs`).

The run is built in a hidden folder beside the runs and renamed into place at the very end, so
a reader sees a whole run or none, and a failed or diverged training leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz import augmentation, data, files, layer_stack, models, runs
from cnnviz.files import write_json


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


# --- callbacks ---------------------------------------------------------------------------------


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


def make_callback(on_batch=None, on_epoch=None, stop_event: threading.Event | None = None):
    """A Keras callback that reports batches/epochs, stops on request and on divergence.

    `stopped` says whether the stop request ended the fit: a request arriving after the last
    batch does not make a complete run a stopped one."""
    Base = _keras_callback_base()

    class Reporter(Base):
        def __init__(self):
            super().__init__()
            self.diverged_at = None
            self.stopped = False

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            loss = logs.get("loss")
            if loss is not None and not np.isfinite(loss):
                self.diverged_at = batch
                self.model.stop_training = True
            if on_batch:
                on_batch(batch, logs)
            if stop_event is not None and stop_event.is_set():
                self.stopped = self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch, logs or {})

    return Reporter()


def epoch_summaries(log_dir):
    """TensorBoard scalars once per epoch (`tensorboard --logdir runs/` compares runs); `close()`
    it before the folder moves.

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

        def close(self):
            writer.close()

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


# --- memory ----------------------------------------------------------------------------------

# A training may take this share of the memory the kernel reports as available: the server,
# its browser sessions and a second training (CNNVIZ_MAX_TRAININGS) need the rest.
MEMORY_FRACTION = 0.25
FALLBACK_BUDGET = 2 * 2**30  # when MEMINFO cannot be read (not Linux, or hidden)
MEMINFO = "/proc/meminfo"
# Per float32 activation of one image during training: the forward output kept for the
# backward pass, its gradient, and about as much again of the backend's scratch space.
BYTES_PER_ACTIVATION = 4 * 3


def memory_budget() -> int:
    """Bytes one training's activations may take: MEMORY_FRACTION of MemAvailable."""
    try:
        with open(MEMINFO, encoding="ascii") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return FALLBACK_BUDGET
    return int(kib * 1024 * MEMORY_FRACTION)


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:,.0f} MB"


def check_memory(config: TrainConfig, image_shape) -> int | None:
    """Refuse (ModelError) an edited layer stack whose activations for one batch would not fit
    `memory_budget()`; returns that estimate in bytes (None for the presets, which all fit)."""
    if not config.stack:
        return None
    need = config.batch_size * layer_stack.stack_activations(config.stack, image_shape) \
        * BYTES_PER_ACTIVATION
    budget = memory_budget()
    if need > budget:
        raise models.ModelError(
            f"one batch of {config.batch_size:,} images would need about {_size(need)} for "
            f"this network's activations, more than the {_size(budget)} a training may use "
            "here; use a smaller batch size, or pool or stride earlier")
    return need


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
        return layer_stack.build_stack(config.stack, image_shape, name=config.preset)
    model = models.build(config.preset)
    models.check_input(model, image_shape)
    return model


def train(config: TrainConfig, runs_dir=None, *, run_dir=None, on_start=None,
          on_batch=None, on_epoch=None, on_fit_end=None, stop_event=None) -> RunResult:
    """Train `config`, evaluate on the test set and write the run folder as a whole.

    `run_dir` is the final folder (default: a new name in `runs_dir`); should another run take
    that name meanwhile, the next free one (`-2`, ...) is used and returned in the result.
    `on_start(model, n_train, dataset)` is called once before the first batch, `on_fit_end()`
    when the last batch is done (the test set and the saving are still to come)."""
    check_memory(config, data.info(config.dataset).image_shape)
    final = Path(run_dir) if run_dir else runs.new_run_dir(config, runs_dir)
    work = files.partial_dir(final)
    try:
        result = _train_into(work, config, on_start, on_batch, on_epoch, on_fit_end, stop_event)
        return dataclasses.replace(result, run_dir=files.publish_dir(work, final))
    except BaseException:  # also KeyboardInterrupt: never leave a half-written run behind
        shutil.rmtree(work, ignore_errors=True)
        raise


def _train_into(folder: Path, config: TrainConfig, on_start, on_batch, on_epoch, on_fit_end,
                stop_event) -> RunResult:
    """The training itself, writing every file of the run into `folder`."""
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
    augment = augmentation.make_augmenter(config.seed) if config.augment else None
    train_ds = make_dataset(prepare(model, x), y, config.batch_size,
                            shuffle_seed=config.seed, augment=augment)
    val_ds = make_dataset(prepare(model, val[0]), val[1], 1024) if val else None

    write_json(folder / "config.json", dataclasses.asdict(config))
    reporter = make_callback(on_batch, on_epoch, stop_event)
    if on_start:
        on_start(model, len(x), dataset)
    board = epoch_summaries(folder / "logs")
    start = time.perf_counter()
    try:
        fit = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                        callbacks=[reporter, board], verbose=0, shuffle=False)  # tf.data shuffles
    finally:
        board.close()
    seconds = time.perf_counter() - start
    if reporter.diverged_at is not None:
        raise TrainingDiverged(
            f"the loss became NaN or infinite at batch {reporter.diverged_at + 1}; "
            f"try a lower learning rate than {config.learning_rate:g}"
        )
    history = {k: [float(v) for v in vs] for k, vs in fit.history.items()}
    if on_fit_end:
        on_fit_end()
    test_loss, test_acc = evaluate_arrays(model, dataset.x_test, dataset.y_test)
    models.save(model, folder / "model.keras")
    write_json(folder / "history.json", {
        "history": history, "test_accuracy": test_acc, "test_loss": test_loss,
        "seconds": seconds, "stopped_early": reporter.stopped,
        "dataset_is_sample": dataset.is_sample,
    })
    return RunResult(folder, history, test_acc, test_loss, reporter.stopped, seconds)


def predictor(model, batch_size: int = 1024):
    """Images -> class probabilities, in batches through one compiled call traced once for
    every array given; a model that outputs scores (logits) gets a softmax."""
    import tensorflow as tf

    from cnnviz import introspect

    softmax = not introspect.ends_in_softmax(model)
    call = tf.function(lambda t: tf.nn.softmax(model(t, training=False)) if softmax
                       else model(t, training=False))

    def predict(x: np.ndarray) -> np.ndarray:
        x = prepare(model, x)
        return np.concatenate([call(tf.constant(x[i: i + batch_size])).numpy()
                               for i in range(0, len(x), batch_size)])

    return predict


def predict_arrays(model, x, batch_size: int = 1024) -> np.ndarray:
    return predictor(model, batch_size)(x)


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
