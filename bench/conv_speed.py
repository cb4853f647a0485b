"""ops.conv2d vs scipy.ndimage.correlate on a 512x512 image, same-size output.

Run: python -m bench.conv_speed  (goal: ratio <= 1.5 for 3x3 ... 7x7)
"""

import timeit

import numpy as np
from scipy import ndimage

from cnnviz import ops


def main() -> dict:
    x = np.random.default_rng(0).random((512, 512))
    ratios = {}
    for k in (3, 5, 7):
        kernel = np.random.default_rng(k).normal(size=(k, k))
        ours = min(timeit.repeat(lambda: ops.conv2d(x, kernel, padding="same"), number=5, repeat=5)) / 5
        ref = min(timeit.repeat(lambda: ndimage.correlate(x, kernel, mode="constant"), number=5, repeat=5)) / 5
        ratios[k] = ours / ref
        print(f"{k}x{k}: ops.conv2d {ours * 1e3:.2f} ms, scipy {ref * 1e3:.2f} ms, "
              f"ratio {ours / ref:.2f}x (goal <= 1.5x)")
    return ratios


if __name__ == "__main__":
    main()
