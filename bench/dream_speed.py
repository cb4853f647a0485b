"""Activation maximization: all 10 classes of the shipped LeNet-5, 200 steps, one batched
compiled loop; reference: 200 plain forward+backward passes of the same batch.

Run: python -m bench.dream_speed  (goal: <= 1 s per 200 steps, every class >= 0.9 for itself)
"""

from __future__ import annotations

import time

import numpy as np


def main(repeats: int = 3) -> dict:
    import tensorflow as tf

    from cnnviz import explain, models

    model = models.load(models.SHIPPED_MODEL)
    dreamer = explain.Dreamer(model)
    dreamer.run(explain.DreamSettings(steps=10))  # trace once
    runs = [dreamer.run() for _ in range(repeats)]
    best = min(runs, key=lambda d: d.seconds)

    view = explain.inside_view(model)
    x = tf.constant(np.random.default_rng(0).random((10, 28, 28, 1)), tf.float32)

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(tf.linalg.diag_part(view(x, training=False)))
        return tape.gradient(score, x)

    grad(x)
    start = time.perf_counter()
    for _ in range(200):
        grad(x)
    bare = time.perf_counter() - start
    self_probs = np.diag(best.probabilities)
    result = {"seconds": best.seconds, "bare_seconds": bare, "ratio": best.seconds / bare,
              "min_self_prob": float(self_probs.min())}
    print(f"activation maximization, 10 classes x 200 steps: {best.seconds:.3f} s "
          f"(goal <= 1 s); lowest self-probability {self_probs.min():.4f} (goal >= 0.9)")
    print(f"200 bare gradient calls from Python: {bare:.3f} s; ratio {result['ratio']:.2f}x")
    return result


if __name__ == "__main__":
    main()
