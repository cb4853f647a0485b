"""The Draw page's prediction for one drawing vs the fastest reasonable call of the same model.

Path: a 280x280 RGBA canvas to the model input (preprocess) + class probabilities and every
feature map (one Probe call). Reference: the model alone, called as the Probe calls its graph:
a concrete function of `model(x, training=False)` for a fixed TensorSpec((1, 28, 28, 1)),
called with a `tf.constant` made from the prepared input, result to numpy. Twice: as a plain
graph and compiled with XLA (`jit_compile=True`), as the Probe is; the goal is against the
XLA twin. All three are timed call by call, interleaved; best-of and median of each.

Run: python -m bench.predict_path
"""

from __future__ import annotations

import time

import numpy as np


def timings(fns, n: int) -> list[np.ndarray]:
    """Each function timed n times (ms), interleaved call by call, so load on this shared
    machine hits all of them alike; after a warm-up."""
    for _ in range(20):
        for fn in fns:
            fn()
    out = np.empty((len(fns), n))
    for i in range(n):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            out[k, i] = time.perf_counter() - t
    return list(out * 1000)


def stats(ms: np.ndarray) -> dict:
    return {"best_ms": float(ms.min()), "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95))}


def bare_call(model, jit: bool):
    """The model alone, called the way the Probe calls its graph (see the module's doc)."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    fn = tf.function(lambda x: model(x, training=False), input_signature=[spec],
                     jit_compile=jit).get_concrete_function()
    return lambda x: fn(tf.constant(x)).numpy()


def canvases(count: int, seed: int = 0) -> list[np.ndarray]:
    """MNIST test digits re-drawn as the canvas returns them: white ink on opaque black RGBA."""
    from bench.drawn_digits import redraw
    from cnnviz import data

    digits = data.load_sample("mnist").x_test[:count, ..., 0]
    rng = np.random.default_rng(seed)
    return [canvas_rgba(redraw(d, rng, dark_on_light=False)) for d in digits]


def canvas_rgba(ink: np.ndarray) -> np.ndarray:
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def main(n: int = 300) -> dict:
    from cnnviz import explain, models, preprocess

    model = models.load(models.SHIPPED_MODEL)
    probe = explain.Probe(model)
    canvas = canvases(1)[0]

    def path():  # as the Draw page: ui.canvas, then preprocess and one Probe call
        return probe(preprocess.preprocess(preprocess.canvas_grey(canvas)).model_input)

    image = preprocess.preprocess(canvas).model_input
    x = explain.as_input(image, probe.input_shape)
    graph, xla = bare_call(model, jit=False), bare_call(model, jit=True)
    # the path's two parts, timed alongside: where the difference goes
    parts = [lambda: preprocess.preprocess(preprocess.canvas_grey(canvas)), lambda: probe(image)]
    ms = timings([path, lambda: graph(x), lambda: xla(x), *parts], n)
    result = {name: stats(m) for name, m in zip(PARTS, ms)}
    for ref in ("bare", "bare_xla"):
        for k in ("best", "median"):
            result[f"ratio_{ref}_{k}"] = result["path"][f"{k}_ms"] / result[ref][f"{k}_ms"]
    report(result, n)
    return result


PARTS = {"path": "draw -> predict path", "bare": "bare concrete function",
         "bare_xla": "bare concrete function, XLA", "preprocess": "  of the path: preprocess",
         "probe": "  of the path: Probe call"}


def report(r: dict, n: int) -> None:
    for name, what in PARTS.items():
        print(f"{what:30s} best {r[name]['best_ms']:.3f} ms, median {r[name]['median_ms']:.3f} "
              f"ms, p95 {r[name]['p95_ms']:.3f} ms ({n} calls)")
    print(f"path p95 {r['path']['p95_ms']:.2f} ms (goal <= 20 ms)")
    print(f"ratio path / XLA reference: median {r['ratio_bare_xla_median']:.2f}x (goal <= 1.3x), "
          f"best-of {r['ratio_bare_xla_best']:.2f}x")
    print(f"ratio path / plain-graph reference: median {r['ratio_bare_median']:.2f}x, "
          f"best-of {r['ratio_bare_best']:.2f}x")


if __name__ == "__main__":
    main()
