"""A stand-in for real pen digits built from strokes, independent of MNIST and of the model.

Each synthetic writer has a style (slant, aspect, size, pen width, wobble, overshoot at stroke
ends, how far loops stay open) and one preferred allograph per digit (`stroke_templates`:
open or closed 4, 9 with a round, open or angular loop, 1 with a flag and a foot ...). Digits
are drawn with a round pen of uniform width on a 280x280 canvas, white on black or the
opposite, as the Draw page's canvas does.

Two sets of writers: `DEV`, which may be looked at while choosing augmentation and
preprocessing, and `HELD_OUT`: other writer seeds, wider style ranges and another allograph
mix, scored only to report. Run `python -m bench.stroke_digits`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bench.stroke_templates import ALLOGRAPHS, Shape

CANVAS = 280


@dataclass(frozen=True)
class Writers:
    """The ranges a set's writers' styles are drawn from."""
    name: str
    seed: int
    writers: int
    slant: tuple[float, float]  # horizontal shift per unit of height
    aspect: tuple[float, float]  # width / height of the template box
    height: tuple[float, float]  # share of the canvas
    pen: tuple[float, float]  # px on the 280-px canvas
    jitter: tuple[float, float]  # wobble, share of the digit's height
    overshoot: tuple[float, float]  # straight run-on at stroke ends, share of the height
    gap: tuple[float, float]  # share of a loop left open
    rotation: float  # degrees either way
    mix: float  # allograph preference: 0 uniform, >0 favours the later (rarer-looking) ones


DEV = Writers("dev", 1000, 50, (-0.25, 0.45), (0.45, 1.0), (0.45, 0.9), (10, 26), (0.0, 0.03),
              (0.0, 0.1), (-0.05, 0.08), 8, 0.0)
HELD_OUT = Writers("held-out", 5000, 50, (-0.35, 0.6), (0.3, 1.15), (0.35, 0.95), (8, 30),
                   (0.0, 0.05), (0.0, 0.15), (-0.1, 0.15), 12, 1.0)


@dataclass(frozen=True)
class Style:
    slant: float
    aspect: float
    height: float
    pen: float
    jitter: float
    overshoot: float
    gap: float
    rotation: float  # degrees
    allographs: tuple  # one function per digit


def writer_style(w: Writers, rng) -> Style:
    u = lambda r: rng.uniform(*r)  # noqa: E731
    picks = []
    for d in range(10):
        options = ALLOGRAPHS[d]
        weights = np.arange(1, len(options) + 1, dtype=float) ** w.mix
        picks.append(options[rng.choice(len(options), p=weights / weights.sum())])
    return Style(u(w.slant), u(w.aspect), u(w.height), u(w.pen), u(w.jitter), u(w.overshoot),
                 u(w.gap), rng.uniform(-w.rotation, w.rotation), tuple(picks))


def catmull_rom(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """A smooth curve through every point (uniform Catmull-Rom, ends repeated)."""
    if len(points) < 3:
        return points
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    return np.vstack([*out, points[-1:]])


def stroke_path(pieces) -> np.ndarray:
    """A stroke's pieces as one polyline, each piece starting where the last one ended."""
    path = []
    for kind, pts in pieces:
        pts = np.asarray(pts, float)
        if path:
            pts = np.vstack([path[-1][-1:], pts])
        path.append(catmull_rom(pts) if kind == "s" else pts)
    return np.vstack(path)


def overshoot(path: np.ndarray, start: float, end: float, turn=(0.0, 0.0)) -> np.ndarray:
    """Run the stroke on past both ends, as a pen put down early or lifted late does: a
    straight run-on, or a small hook when `turn` (radians, one per end) is large."""
    def tangent(a, b, angle):
        v = a - b
        n = np.linalg.norm(v)
        c, s = np.cos(angle), np.sin(angle)
        return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]]) / n if n > 0 else v
    head = path[0] + start * tangent(path[0], path[min(2, len(path) - 1)], turn[0])
    tail = path[-1] + end * tangent(path[-1], path[max(-3, -len(path))], turn[1])
    return np.vstack([head, path, tail])


def wobble(rng, amount: float):
    """A smooth random displacement of the unit box: a hand's slow wander."""
    k = rng.uniform(1.0, 3.0, (2, 2))
    phase = rng.uniform(0, 2 * np.pi, (2, 2))

    def move(p):
        dx = np.sin(k[0, 0] * np.pi * p[:, 1] + phase[0, 0]) + np.sin(k[0, 1] * np.pi * p[:, 0] + phase[0, 1])
        dy = np.sin(k[1, 0] * np.pi * p[:, 0] + phase[1, 0]) + np.sin(k[1, 1] * np.pi * p[:, 1] + phase[1, 1])
        return p + amount / 2 * np.stack([dx, dy], 1)
    return move


def digit_paths(digit: int, style: Style, rng) -> tuple[list[np.ndarray], float]:
    """The strokes of one digit in canvas pixels, and the pen width."""
    shape = Shape(gap=float(np.clip(style.gap + rng.normal(0, 0.03), -0.15, 0.15)),
                  flag=rng.uniform(0.3, 1.0), bend=rng.uniform(-1, 1), loop=rng.uniform(0.3, 0.6),
                  bar=rng.uniform(0.5, 0.75))
    move = wobble(rng, style.jitter)
    paths = []
    for pieces in style.allographs[digit](shape):
        p = stroke_path(pieces)
        p = move(p + rng.normal(0, style.jitter / 4, p.shape))
        ends = rng.uniform(0, style.overshoot, 2)
        paths.append(overshoot(p, *ends, rng.normal(0, 0.5, 2)))
    slant = style.slant + rng.normal(0, 0.05)
    aspect = style.aspect * np.exp(rng.normal(0, 0.08))
    turn = np.radians(style.rotation + rng.normal(0, 3))
    c, s = np.cos(turn), np.sin(turn)
    out = []
    for p in paths:
        x, y = (p[:, 0] - 0.5) * aspect, p[:, 1] - 0.5
        x = x - slant * y
        out.append(np.stack([c * x - s * y, s * x + c * y], 1))
    pen = style.pen * np.exp(rng.normal(0, 0.1))
    allp = np.vstack(out)
    lo, hi = allp.min(0), allp.max(0)
    height = float(np.clip(style.height + rng.normal(0, 0.05), 0.3, 0.95))
    scale = (height * CANVAS - pen) / max(hi[1] - lo[1], 1e-6)
    scale = min(scale, (0.95 * CANVAS - pen) / max(hi[0] - lo[0], 1e-6))
    size = (hi - lo) * scale
    margin = pen / 2 + 2
    offset = np.array([rng.uniform(margin, max(CANVAS - margin - size[0], margin)),
                       rng.uniform(margin, max(CANVAS - margin - size[1], margin))])
    return [(p - lo) * scale + offset for p in out], pen


def render(paths, pen: float, dark_on_light: bool) -> np.ndarray:
    """Strokes (x, y in px) drawn with a round pen with an anti-aliased edge, as uint8."""
    centre = np.zeros((CANVAS, CANVAS), bool)
    for p in paths:
        steps = np.maximum(np.ceil(np.linalg.norm(np.diff(p, axis=0), axis=1) * 2), 1).astype(int)
        dense = np.vstack([np.linspace(a, b, n, endpoint=False) for a, b, n in zip(p[:-1], p[1:], steps)]
                          + [p[-1:]])
        ij = np.clip(np.round(dense).astype(int), 0, CANVAS - 1)
        centre[ij[:, 1], ij[:, 0]] = True
    dist = ndimage.distance_transform_edt(~centre)
    img = (255 * np.clip(pen / 2 + 0.5 - dist, 0.0, 1.0)).astype(np.uint8)
    return 255 - img if dark_on_light else img


def stroke_set(writers: Writers = DEV, per_class: int = 4):
    """(images, labels, writer ids, allograph names): per_class of each digit per writer."""
    images, labels, who, names = [], [], [], []
    for w in range(writers.writers):
        rng = np.random.default_rng(writers.seed + w)
        style = writer_style(writers, rng)
        for i in range(per_class * 10):
            d = i % 10
            dark = rng.random() < 0.5
            images.append(render(*digit_paths(d, style, rng), dark))
            labels.append(d)
            who.append(w)
            names.append(style.allographs[d].__name__)
    return np.stack(images), np.array(labels), np.array(who), np.array(names)


def class_accuracy(labels, preds) -> list[float]:
    return [float((preds[labels == d] == d).mean()) for d in range(10)]


def score(writers: Writers, model_path: str | None = None) -> dict:
    """The model's (default: the shipped one) accuracy on a set, overall and per class."""
    from bench.drawn_digits import accuracy
    from cnnviz import models

    images, labels, _, names = stroke_set(writers)
    acc, preds = accuracy(model_path or str(models.SHIPPED_MODEL), images, labels)
    by_allograph = {n: float((preds[names == n] == labels[names == n]).mean())
                    for n in sorted(set(names))}
    return {"accuracy": acc, "n": len(labels), "per_class": class_accuracy(labels, preds),
            "by_allograph": by_allograph}


def classes(per: list[float]) -> str:
    return " ".join(f"{d}:{a:.0%}" for d, a in enumerate(per))


def mnist_accuracy(model_path: str | None = None) -> float:
    """The model's accuracy on MNIST's 10,000 test digits, as `cnnviz evaluate` computes it."""
    from cnnviz import models, training

    acc = training.evaluate(models.load(model_path or str(models.SHIPPED_MODEL)), "mnist")["accuracy"]
    print(f"MNIST test accuracy: {acc:.2%}")
    return acc


def main_accuracy() -> dict:
    """Both writer sets for the benchmark table: {"dev": score, "held-out": score}."""
    out = {}
    for w in (DEV, HELD_OUT):
        out[w.name] = score(w)
        print(f"stroke digits ({w.name}): {out[w.name]['accuracy']:.2%} of {out[w.name]['n']}; "
              f"{classes(out[w.name]['per_class'])}")
    return out


def write_card(card_path: str) -> None:
    """Add the shipped model's stand-in figures to its model card (after `cnnviz train
    --export` wrote it): both writer sets, per class, and the re-drawn MNIST digits."""
    from bench import drawn_digits
    from cnnviz import files

    card = files.read_json(card_path)
    strokes = main_accuracy()
    card["stand_ins"] = {
        **{f"stroke_digits_{k.replace('-', '_')}": {"accuracy": round(v["accuracy"], 4),
                                                    "n": v["n"],
                                                    "per_class": [round(a, 4) for a in v["per_class"]]}
           for k, v in strokes.items()},
        "redrawn_mnist": {"accuracy": round(drawn_digits.main_accuracy(), 4), "n": 2000},
        "command": "python -m bench.stroke_digits --card cnnviz/assets/lenet5.json",
    }
    files.write_json(card_path, card)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="a .keras file (default: the shipped model)")
    p.add_argument("--set", choices=["dev", "held-out", "both"], default="dev")
    p.add_argument("--card", help="instead: add the shipped model's figures to this model card")
    args = p.parse_args()
    if args.card:
        return write_card(args.card)
    for w in {"dev": [DEV], "held-out": [HELD_OUT], "both": [DEV, HELD_OUT]}[args.set]:
        t = time.perf_counter()
        s = score(w, args.model)
        print(f"stroke digits ({w.name}): {s['accuracy']:.2%} of {s['n']} "
              f"({time.perf_counter() - t:.0f} s)\n  per class: {classes(s['per_class'])}")
        print("  by allograph: " + ", ".join(f"{n} {a:.0%}" for n, a in s["by_allograph"].items()))


if __name__ == "__main__":
    main()
