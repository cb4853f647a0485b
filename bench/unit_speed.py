"""Picking a unit on the Inside page: the server's time to work out one conv2 unit of the
shipped LeNet-5 (its layer's input and output from Keras, the patch, kernel, products, sums and
receptive field) against the bare call of a Keras model cut at that layer, interleaved.

Run: python -m bench.unit_speed   (goal: <= 100 ms)
"""

from __future__ import annotations

import numpy as np


def main(n: int = 50) -> dict:
    import keras
    import tensorflow as tf

    from bench.predict_path import timings
    from cnnviz import models, units

    model = models.load(models.SHIPPED_MODEL)
    cutter = units.Cutter(model)  # built once per model, as the page caches it
    x = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    cut = tf.function(keras.Model(model.input, model.get_layer("conv2").output))
    rng = np.random.default_rng(1)

    def pick():
        at = tuple(int(v) for v in rng.integers((8, 8, 16)))
        return units.explain(cutter, x, "conv2", at)

    unit_ms, bare_ms = timings([pick, lambda: cut(tf.constant(x[None])).numpy()], n)
    result = {"unit_median_ms": float(np.median(unit_ms)),
              "unit_p95_ms": float(np.percentile(unit_ms, 95)),
              "bare_median_ms": float(np.median(bare_ms))}
    result["ratio"] = result["unit_median_ms"] / result["bare_median_ms"]
    print(f"one conv2 unit worked out: median {result['unit_median_ms']:.1f} ms, p95 "
          f"{result['unit_p95_ms']:.1f} ms (goal <= 100 ms); bare layer call "
          f"{result['bare_median_ms']:.2f} ms; ratio {result['ratio']:.0f}x")
    return result


if __name__ == "__main__":
    main()
