"""The app's trainer (LiveRun: live callback, snapshots, and a page polling it at 2 Hz) vs bare
`model.fit` on the same model, data and batch size, in one process.

Run: python -m bench.trainer_overhead  (goal: throughput ratio >= 0.95)
"""

from __future__ import annotations

import threading
import time


def bare_fit(config) -> float:
    """Images per second of plain model.fit, timed around fit only, as the trainer times it."""
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
    start = time.perf_counter()
    model.fit(train_ds, epochs=config.epochs, verbose=0, shuffle=False)
    return len(x) * config.epochs / (time.perf_counter() - start)


def poll_like_the_page(run, stop: threading.Event) -> None:
    """What the Train page's two fragments do: every 0.5 s read the state and refill the
    curves; every 1 s rebuild the filter and feature-map figures if the trainer published new
    ones. Each chart is serialised every time, as Streamlit sends it on every rerun."""
    from cnnviz import plots

    version, visuals, curves, polls = None, [], None, 0
    while not stop.wait(0.5):
        polls += 1
        s = run.snapshot()
        if s["batch_loss"]:
            curves = plots.training_curves(s["batch_loss"], s["batch_acc"], s["epoch_logs"],
                                           s["steps"], curves)
            curves.to_json()
        if s["filters"] is not None and polls % 2 == 0:  # the page's second fragment: 1 Hz
            if s["visual_version"] != version:
                version = s["visual_version"]
                visuals = [plots.filters_grid(s["filters"]),
                           *[plots.feature_maps(m, max_channels=16) for m in s["maps"].values()]]
            for fig in visuals:
                fig.to_json()


def app_fit(config) -> float:
    import tempfile

    from cnnviz import training

    run = training.LiveRun(config, tempfile.mkdtemp(prefix="cnnviz-bench-")).start()
    stop = threading.Event()
    poller = threading.Thread(target=poll_like_the_page, args=(run, stop))
    poller.start()
    run.join()
    stop.set()
    poller.join()
    s = run.snapshot()
    assert s["status"] == "done", s["message"]
    return s["images"] / s["seconds"]


def main(repeats: int = 2) -> dict:
    from cnnviz import training

    config = training.TrainConfig(preset="lenet5", epochs=2, subset=20_000, batch_size=128,
                                  optimizer="adam", learning_rate=1e-3)
    bare_fit(training.TrainConfig(**{**config.__dict__, "epochs": 1, "subset": 2000}))  # warm
    bare, app = [], []
    for _ in range(repeats):  # interleaved, best of each: the machine's noise hits both
        bare.append(bare_fit(config))
        app.append(app_fit(config))
    result = {"bare_images_per_s": max(bare), "app_images_per_s": max(app)}
    result["ratio"] = result["app_images_per_s"] / result["bare_images_per_s"]
    print(f"bare model.fit:        {result['bare_images_per_s']:,.0f} images/s")
    print(f"app trainer + polling: {result['app_images_per_s']:,.0f} images/s")
    print(f"ratio app / bare:      {result['ratio']:.3f} (goal >= 0.95)")
    return result


if __name__ == "__main__":
    main()
