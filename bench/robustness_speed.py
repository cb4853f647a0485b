"""The Robustness lab's server time: one slider change, and one accuracy curve of 2,000 images.

A slider change, as the page's fragment handles it with the shipped LeNet-5: every corruption
applied (one slider moved to a new value each time, the others kept on), the Probe's
probabilities for the corrupted and the uncorrupted digit, and the two PNGs (the digit before
and after, the probability bars). Not included: Streamlit's own work (the script run, sending
the PNGs). Reference: the model alone as the XLA-compiled concrete function of
bench.predict_path, interleaved.

A curve: rotation at its 17 strengths on the first 2,000 MNIST test images (34,000
classifications), best of 3, against `training.predict_arrays` on the same 34,000 uncorrupted
images (what the corruptions add to plain classification).

Run: python -m bench.robustness_speed
"""

from __future__ import annotations

import itertools
import time

import numpy as np

DIGITS = [str(d) for d in range(10)]


def slider_change(probe, image: np.ndarray, strengths: dict) -> list[bytes]:
    """What pages/robustness.py computes when a slider moves; the PNGs it sends."""
    from cnnviz import corruptions, pictures

    corrupted = corruptions.apply_all(image, strengths, seed=0)
    probs = probe.probabilities(corrupted[..., None])
    probe.probabilities(image[..., None])  # the uncorrupted answer, shown beside
    return [pictures.png(pictures.stages({"input": image, "corrupted": corrupted},
                                         {"input": "Input", "corrupted": "Corrupted"}, 168)),
            pictures.png(pictures.probability_bars(probs, DIGITS))]


def settings(count: int, seed: int = 0) -> list[dict]:
    """Slider positions: every corruption on at a random strength of its slider's range."""
    from cnnviz.corruptions import Corruption

    rng = np.random.default_rng(seed)
    return [{c: float(rng.choice(np.arange(c.low, c.high + c.step / 2, c.step)))
             for c in Corruption} for _ in range(count)]


def best_seconds(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 200, images: int = 2000) -> dict:
    from bench.predict_path import bare_call, stats, timings
    from cnnviz import data, explain, models, robustness, training
    from cnnviz.corruptions import Corruption

    probe = explain.Probe(models.load(models.SHIPPED_MODEL))
    image = data.load_sample("mnist").x_test[0, ..., 0]
    positions = itertools.cycle(settings(50))
    bare = bare_call(probe.model, jit=True)
    x1 = image[None, ..., None]
    slider_ms, bare_ms = timings([lambda: slider_change(probe, image, next(positions)),
                                  lambda: bare(x1)], n)
    ds = data.load("mnist")
    x, y = robustness.test_images(ds, images)
    strengths = len(Corruption.ROTATE.curve)
    plain = np.repeat(ds.x_test[:images], strengths, axis=0)
    curve_s = best_seconds(lambda: robustness.curve(probe.model, Corruption.ROTATE, x, y))
    plain_s = best_seconds(lambda: training.predict_arrays(probe.model, plain))
    result = {"slider": stats(slider_ms), "bare_xla": stats(bare_ms),
              "curve_s": curve_s, "plain_predict_s": plain_s, "curve_images": len(y) * strengths,
              "dataset_is_sample": ds.is_sample}
    result["slider_ratio"] = result["slider"]["median_ms"] / result["bare_xla"]["median_ms"]
    result["curve_ratio"] = curve_s / plain_s
    s = result["slider"]
    print(f"slider change, server: median {s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms "
          f"({result['slider_ratio']:.0f}x the bare model call, "
          f"{result['bare_xla']['median_ms']:.2f} ms)")
    print(f"rotation curve of {len(y):,} images at {strengths} strengths: {curve_s:.2f} s "
          f"({result['curve_images'] / curve_s:,.0f} images/s); the same number of plain "
          f"predictions {plain_s:.2f} s ({result['curve_ratio']:.2f}x)"
          + (" [bundled sample]" if ds.is_sample else ""))
    return result


if __name__ == "__main__":
    main()
