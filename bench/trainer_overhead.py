"""The app's trainer (LiveRun: live callback, snapshots, and a page polling it at 2 Hz) vs bare
`model.fit` on the same model, data and batch size, in one process: images per second of each
one's fastest epoch after the first (which pays for tracing, as both do alike).

Run: python -m bench.trainer_overhead  (goal: throughput ratio >= 0.95)
"""

from __future__ import annotations

import threading
import time

import numpy as np


def bare_fit(config) -> float:
    """Images per second of plain model.fit in its fastest epoch after the first, each timed
    from the previous epoch's end as the app's trainer times it."""
    import keras

    from cnnviz import data, training

    keras.utils.set_random_seed(config.seed)
    ds = data.load(config.dataset)
    model = training.build_model(config, ds.info.image_shape)
    model.compile(optimizer=training.make_optimizer(config.optimizer, config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    (x, y), _ = training.training_arrays(config, ds)
    train_ds = training.make_dataset(training.prepare(model, x), y, config.batch_size,
                                     shuffle_seed=config.seed)
    ends = []
    clock = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: ends.append(
        time.perf_counter()))  # no batch hooks: model.fit stays as fast as without it
    model.fit(train_ds, epochs=config.epochs, verbose=0, shuffle=False, callbacks=[clock])
    return len(x) / np.diff(ends).min()


def poll_like_the_page(run, stop: threading.Event) -> None:
    """What the Train page's live fragment does once a second: read the state, refill the
    curves (serialised, as Streamlit sends them on every rerun) and, when the trainer has
    published new ones, draw the filters and the shown layer's maps as PNGs."""
    from cnnviz import pictures, plots

    version, curves = None, None
    while not stop.wait(1.0):
        s = run.snapshot()
        if s.batch_loss:
            curves = plots.training_curves(s.batch_loss, s.batch_acc, s.epoch_logs,
                                           s.epoch_ends, curves)
            curves.to_json()
        if s.filters is not None and s.visual_version != version:
            version = s.visual_version
            pictures.png(pictures.filters(s.filters, cols=None))
            first = next(iter(s.maps.values()))
            pictures.png(pictures.feature_maps(first, max_channels=16, tile_px=64))


def app_fit(config) -> float:
    import tempfile

    s = train_polled(config, tempfile.mkdtemp(prefix="cnnviz-bench-"))
    return s.total_images / s.epochs / min(s.epoch_seconds[1:])


def train_polled(config, runs_dir):
    """One training through LiveRun with the Train page's polling beside it; its last state."""
    from cnnviz import live

    run = live.LiveRun(config, runs_dir).start()
    stop = threading.Event()
    poller = threading.Thread(target=poll_like_the_page, args=(run, stop))
    poller.start()
    run.join()
    stop.set()
    poller.join()
    s = run.snapshot()
    assert s.status is live.Status.DONE, s.message
    return s


def main(rounds: int = 6) -> dict:
    from cnnviz import training

    config = training.TrainConfig(preset="lenet5", epochs=4, subset=6_400, batch_size=128,
                                  optimizer="adam", learning_rate=1e-3)
    bare_fit(training.TrainConfig(**{**config.__dict__, "subset": 1280}))  # warm up
    # This VM's speed drifts by tens of percent within seconds: each fit counts its fastest
    # epoch, the two run in pairs in alternating order, and the figure is the pairs' median
    bare, app = np.empty(rounds), np.empty(rounds)
    for i in range(rounds):
        if i % 2:
            app[i], bare[i] = app_fit(config), bare_fit(config)
        else:
            bare[i], app[i] = bare_fit(config), app_fit(config)
    result = {"bare_images_per_s": float(np.median(bare)),
              "app_images_per_s": float(np.median(app)),
              "ratio": float(np.median(app / bare))}
    print(f"bare model.fit:        {result['bare_images_per_s']:,.0f} images/s (median)")
    print(f"app trainer + polling: {result['app_images_per_s']:,.0f} images/s (median)")
    print(f"ratio app / bare:      {result['ratio']:.3f}, median of {rounds} pairs "
          f"({', '.join(f'{r:.2f}' for r in sorted(app / bare))}) (goal >= 0.95)")
    return result


if __name__ == "__main__":
    main()
