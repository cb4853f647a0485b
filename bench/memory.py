"""Resident memory of one process acting as the app's server, over many drawings and trainings.

Warm-up: a few drawings through the whole Draw-page server path (bench.draw_page.serve), which
also loads MNIST (the drawings are re-drawn MNIST test digits, as a server loads it for the
"MNIST test digit" input) and traces every compiled function, and one small training, which
loads Keras's training machinery once per server (tens of MB that do not come back, and do not
grow). Then 300 drawings, each a
different test digit re-drawn, and two small trainings in a row through LiveRun (LeNet-5,
3,000 images, 1 epoch, a temporary runs folder) with the Train page's polling beside each
(bench.trainer_overhead.poll_like_the_page: it rebuilds and serialises the Plotly curves, filters
and feature maps as the page does, so Plotly's share is in the figure too). Figure: the growth
of VmRSS (/proc/self/status) from after the warm-up to the end; every stage is printed.

Run: python -m bench.memory  (goal: growth <= 10 %)
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile

import numpy as np


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def custom_gradients() -> int | None:
    """Gradient functions tf.custom_gradient has registered in TensorFlow's global registry
    (a private table; None if it moved). Each one stays there for good, and keeps the graph it
    was traced in alive (tensorflow/tensorflow#97697): Keras's optimizer registers some in
    every training's traced step, so a count that grows with trainings explains that growth."""
    try:
        from tensorflow.python.framework import ops

        return sum(k.startswith("CustomGradient-") for k in ops.gradient_registry._registry)
    except (ImportError, AttributeError):
        return None


def drawings(server, digits: np.ndarray, rng) -> None:
    """Each digit re-drawn (a new canvas, as each drawing is) and served like the Draw page."""
    from bench.drawn_digits import redraw
    from bench.draw_page import serve
    from bench.predict_path import canvas_rgba

    for d in digits:
        serve(server, canvas_rgba(redraw(d[..., 0], rng, dark_on_light=False)))


def train(runs_dir: str) -> None:
    """One small training as the Train page runs it, the page's polling beside it."""
    from bench.trainer_overhead import train_polled
    from cnnviz import training

    train_polled(training.TrainConfig(preset="lenet5", epochs=1, subset=3_000, batch_size=128,
                                      optimizer="adam", learning_rate=1e-3), runs_dir)


def measure(n: int, warm_up: int, trainings: int) -> tuple[dict, dict]:
    """VmRSS (MB) and the count of registered custom gradients after each stage."""
    from bench.draw_page import Server
    from cnnviz import data

    rng = np.random.default_rng(0)
    server = Server()
    digits = data.load("mnist").x_test
    stages = {"before warm-up": rss_mb()}
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-memory-") as runs_dir:
        drawings(server, digits[:warm_up], rng)
        gc.collect()
        stages["after warm-up drawings"] = rss_mb()
        train(runs_dir)
        gc.collect()  # what stays after a collection is held, not garbage waiting
        stages["after warm-up"] = rss_mb()
        registered = {"after warm-up": custom_gradients()}
        drawings(server, digits[warm_up: warm_up + n], rng)
        gc.collect()
        stages[f"after {n} drawings"] = rss_mb()
        for i in range(trainings):
            train(runs_dir)
            gc.collect()
            stages[f"after training {i + 1}"] = rss_mb()
            registered[f"after training {i + 1}"] = custom_gradients()
    return stages, registered


def main(n: int = 300, warm_up: int = 5, trainings: int = 2) -> dict:
    stages, registered = measure(n, warm_up, trainings)
    first_training_mb = stages["after warm-up"] - stages["after warm-up drawings"]
    mb = list(stages.values())[2:]  # from the end of the warm-up on
    start, drawn, end = mb[0], mb[1], mb[-1]
    result = {"stages_mb": stages, "start_mb": start, "end_mb": end, "growth": end / start - 1,
              "drawings_growth": drawn / start - 1, "trainings_mb": end - drawn,
              "per_training_mb": np.diff(mb[1:]).tolist(), "custom_gradients": registered,
              "first_training_mb": first_training_mb, "drawings": n, "trainings": trainings}
    for stage, value in stages.items():
        count = registered.get(stage)  # (printed as % of the end of the warm-up)
        print(f"VmRSS {stage:22s} {value:8.1f} MB ({value / start - 1:+.1%})"
              + ("" if count is None else f"; custom gradients registered: {count}"))
    print(f"growth from warm-up to the end: {result['growth']:.1%} (goal <= 10%)")
    return result


def in_fresh_process() -> dict:
    """main() in a process of its own, as a server starts: a process that has already run
    other benchmarks would start bigger and hide growth in a smaller percentage."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "bench.memory", "--json"], check=True,
                          stdout=subprocess.PIPE, text=True)
    print(done.stdout.rsplit("\n", 2)[0])  # its report, without the JSON line
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    out = main()
    if "--json" in sys.argv:  # the last line, for in_fresh_process
        print(json.dumps(out))
