"""A stand-in for real canvas drawings: MNIST test digits re-drawn with a round brush.

Each digit is thinned to its skeleton, then redrawn on a 280x280 canvas with a round pen of
12-28 px, at 40-90% of the canvas height, slanted and off-centre, in both polarities. The
shipped model plus `preprocess` is scored on these; run `python -m bench.drawn_digits`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

CANVAS = 280


def _neighbours(m):
    p = np.pad(m, 1)
    # P2..P9 clockwise from north, as in Zhang & Suen (1984)
    return [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
            p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a one-pixel-wide centre line of a binary shape."""
    m = mask.astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            n = _neighbours(m)
            b = sum(n)
            a = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                c1, c2 = n[0] * n[2] * n[4], n[2] * n[4] * n[6]
            else:
                c1, c2 = n[0] * n[2] * n[6], n[0] * n[4] * n[6]
            kill = (m == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
            if kill.any():
                m[kill] = 0
                changed = True
        if not changed:
            return m.astype(bool)


def redraw(digit: np.ndarray, rng, *, pen=None, height=None, slant=None, dark_on_light=None):
    """One MNIST digit (28x28 in [0,1]) as a 280x280 pen drawing (uint8, ink white unless
    `dark_on_light`)."""
    pen = rng.uniform(12, 28) if pen is None else pen
    height = rng.uniform(0.4, 0.9) if height is None else height
    slant = rng.uniform(-0.25, 0.25) if slant is None else slant
    dark_on_light = rng.random() < 0.5 if dark_on_light is None else dark_on_light

    big = ndimage.zoom(digit, 4, order=1) > 0.4
    ys, xs = np.nonzero(skeleton(big))
    ys, xs = ys.astype(float), xs.astype(float)
    xs = xs - slant * (ys - ys.mean())
    scale = (height * CANVAS - pen) / max(np.ptp(ys), 1.0)
    ys, xs = (ys - ys.min()) * scale, (xs - xs.min()) * scale
    margin = pen / 2 + 2
    room_y, room_x = CANVAS - 2 * margin - ys.max(), CANVAS - 2 * margin - xs.max()
    ys += margin + rng.uniform(0, max(room_y, 0))
    xs += margin + rng.uniform(0, max(room_x, 0))
    # Dense points along the skeleton: connect neighbours so the pen leaves no gaps.
    points = np.zeros((CANVAS, CANVAS), bool)
    pts = np.stack([ys, xs], 1)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    near = np.argwhere((d > 0) & (d <= scale * 1.5 + 1e-6))
    for i, j in near[near[:, 0] < near[:, 1]]:
        for t in np.linspace(0, 1, int(d[i, j]) + 2):
            y, x = pts[i] + t * (pts[j] - pts[i])
            points[min(int(round(y)), CANVAS - 1), min(int(round(x)), CANVAS - 1)] = True
    points[np.clip(ys.round().astype(int), 0, CANVAS - 1),
           np.clip(xs.round().astype(int), 0, CANVAS - 1)] = True
    dist = ndimage.distance_transform_edt(~points)
    ink = np.clip(pen / 2 + 0.5 - dist, 0.0, 1.0)  # round pen with an anti-aliased edge
    img = (255 * ink).astype(np.uint8)
    return 255 - img if dark_on_light else img


def drawn_set(n: int = 1000, seed: int = 0, pen=None):
    """(images, labels, pens): n MNIST test digits redrawn canvas-style."""
    from cnnviz import data

    ds = data.load("mnist")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(ds.y_test), n, replace=False)
    images, pens = [], []
    for i in idx:
        p = rng.uniform(12, 28) if pen is None else pen
        images.append(redraw(ds.x_test[i, ..., 0], rng, pen=p))
        pens.append(p)
    return np.stack(images), ds.y_test[idx], np.array(pens)


def accuracy(model_path, images, labels) -> tuple[float, np.ndarray]:
    from cnnviz import explain, models, preprocess

    model = models.load(model_path)
    probe = explain.Probe(model)
    preds = []
    for img in images:
        result = preprocess.preprocess(img)
        preds.append(probe.probabilities(result.model_input).argmax() if result.ok else -1)
    preds = np.array(preds)
    return float((preds == labels).mean()), preds


def main_accuracy(n: int = 2000) -> float:
    """The shipped model's accuracy on the re-drawn set, for the benchmark table."""
    from cnnviz import models

    images, labels, _ = drawn_set(n)
    acc, _ = accuracy(str(models.SHIPPED_MODEL), images, labels)
    print(f"drawn digits: {acc:.2%} of {n} correct")
    return acc


def main() -> None:
    from cnnviz import models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(models.SHIPPED_MODEL))
    p.add_argument("-n", type=int, default=2000)
    args = p.parse_args()
    t = time.perf_counter()
    images, labels, pens = drawn_set(args.n)
    acc, preds = accuracy(args.model, images, labels)
    print(f"drawn digits: {acc:.2%} of {args.n} correct ({time.perf_counter() - t:.0f} s)")
    for lo, hi in [(12, 16), (16, 20), (20, 24), (24, 28)]:
        sel = (pens >= lo) & (pens < hi)
        print(f"  pen {lo}-{hi} px: {(preds[sel] == labels[sel]).mean():.2%} of {sel.sum()}")
    wrong = np.bincount(labels[preds != labels], minlength=10)
    print("  errors by true digit:", dict(enumerate(wrong.tolist())))


if __name__ == "__main__":
    main()
