"""The Draw page's server work for one drawing vs a bare compiled call of the same model.

Path: preprocess a 280x280 RGBA canvas + class probabilities + every feature map (one Probe
call). Reference: `tf.function(model)` on an already-prepared 28x28 input. The Probe is
compiled with XLA, so the same bare call compiled with XLA is timed as well: the path's
overhead over the fastest call of the model alone. Prints the ratios of medians and the path's
p95 in ms. Run: python -m bench.predict_path
"""

from __future__ import annotations

import time

import numpy as np


def timings(fns, n: int) -> list[np.ndarray]:
    """Each function timed n times, interleaved call by call, so load on this shared machine
    hits all of them alike; after a warm-up."""
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


def main(n: int = 300) -> dict:
    import tensorflow as tf

    from bench.drawn_digits import redraw
    from cnnviz import data, explain, models, preprocess

    model = models.load(models.SHIPPED_MODEL)
    probe = explain.Probe(model)
    rng = np.random.default_rng(0)
    ink = redraw(data.load_sample("mnist").x_test[0, ..., 0], rng, dark_on_light=False)
    canvas = np.dstack([ink, ink, ink, np.full_like(ink, 255)])  # what st_canvas returns

    def path():  # as the Draw page: ui.canvas, then preprocess and one Probe call
        return probe(preprocess.preprocess(preprocess.canvas_grey(canvas)).model_input)

    x = preprocess.preprocess(canvas).model_input[None]
    bare = tf.function(lambda t: model(t, training=False))
    bare_xla = tf.function(lambda t: model(t, training=False), jit_compile=True)

    path_ms, bare_ms, xla_ms = timings([path, lambda: bare(x).numpy(),
                                        lambda: bare_xla(x).numpy()], n)
    result = {
        "path_median_ms": float(np.median(path_ms)), "path_p95_ms": float(np.percentile(path_ms, 95)),
        "bare_median_ms": float(np.median(bare_ms)), "bare_xla_median_ms": float(np.median(xla_ms)),
    }
    result["ratio"] = result["path_median_ms"] / result["bare_median_ms"]
    result["ratio_xla"] = result["path_median_ms"] / result["bare_xla_median_ms"]
    print(f"draw -> predict path: median {result['path_median_ms']:.2f} ms, "
          f"p95 {result['path_p95_ms']:.2f} ms (goal <= 20 ms)")
    print(f"bare compiled call:   median {result['bare_median_ms']:.2f} ms")
    print(f"bare call with XLA:   median {result['bare_xla_median_ms']:.2f} ms")
    print(f"ratio path / bare:    {result['ratio']:.2f}x (goal <= 1.3x); "
          f"{result['ratio_xla']:.2f}x the XLA-compiled bare call")
    return result


if __name__ == "__main__":
    main()
