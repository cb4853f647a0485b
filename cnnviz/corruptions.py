"""Corruptions of 28×28 digits for the Robustness lab: the ways a drawn or scanned digit differs
from a clean MNIST one (pen, size, angle, position, blur, noise, a part hidden).

Each takes one strength in its own unit, applies to one image (H, W) or a batch (N, H, W) of
floats in [0, 1] and returns float32 in [0, 1]; strength 0 returns the input unchanged. Random
ones (noise, the patch's position) are fixed by a seed, and their random draws do not depend on
the strength: a curve over strengths changes one thing only. Plain numpy, so the lab needs no
TensorFlow to draw; tests check each against scipy.ndimage and hand-computed literals.
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np

# Where the occluding patch's centre may fall: MNIST digits fill the central 20×20.
PATCH_CENTRES = (8.0, 20.0)


class Corruption(Enum):
    """key (CLI), title, unit, slider range and step, the curve's strengths, what it does."""

    STROKE = ("stroke", "Stroke width", "px", -2, 3, 1, (-2, -1, 0, 1, 2, 3),
              "pixels of ink added on each side of every stroke (+1: 2 px wider; negative: "
              "removed), with a round pen")
    SCALE = ("scale", "Scale", "%", -60, 100, 5, tuple(range(-60, 101, 10)),
             "size change about the centre (−50: half the size, +100: twice)")
    ROTATE = ("rotate", "Rotation", "°", -180, 180, 5,
              (-180, -135, -90, -60, -45, -30, -20, -10, 0, 10, 20, 30, 45, 60, 90, 135, 180),
              "degrees counterclockwise about the centre (negative: clockwise)")
    SHIFT = ("shift", "Shift right", "px", -14, 14, 1, tuple(range(-12, 13, 2)),
             "pixels to the right (negative: to the left); what leaves the frame is lost")
    BLUR = ("blur", "Blur", "px", 0, 3, 0.25, (0, 0.5, 1, 1.5, 2, 2.5, 3),
            "standard deviation of a Gaussian blur, in pixels")
    NOISE = ("noise", "Noise", "σ", 0, 1, 0.05, tuple(round(0.1 * i, 1) for i in range(11)),
             "standard deviation of Gaussian noise added to every pixel (ink is 1)")
    OCCLUSION = ("occlusion", "Occlusion", "px", 0, 28, 1, tuple(range(0, 29, 4)),
                 "side of a black square hiding part of the digit, at a random place near "
                 "the centre")

    def __init__(self, key, title, unit, low, high, step, curve, meaning):
        self.key, self.title, self.unit, self.meaning = key, title, unit, meaning
        self.low, self.high, self.step, self.curve = low, high, step, curve

    @property
    def whole(self) -> bool:
        """Whether the strength counts whole pixels (a pen radius, a patch's side)."""
        return self in (Corruption.STROKE, Corruption.OCCLUSION)

    @classmethod
    def from_key(cls, key: str) -> "Corruption":
        return next(c for c in cls if c.key == key)

    def check(self, strength: float) -> None:
        """Raise ValueError, in one sentence, for a strength outside the range or not whole."""
        if not (math.isfinite(strength) and self.low <= strength <= self.high):
            raise ValueError(f"{self.key} strength must be between {self.low:g} and "
                             f"{self.high:g} {self.unit} (got {strength:g})")
        if self.whole and strength != int(strength):
            raise ValueError(f"{self.key} strength counts whole pixels (got {strength:g})")


def apply(x: np.ndarray, corruption: Corruption, strength: float, seed: int = 0) -> np.ndarray:
    """One corruption of an image (H, W) or a batch (N, H, W) in [0, 1]."""
    return apply_all(x, {corruption: strength}, seed)


def apply_all(x: np.ndarray, strengths: dict, seed: int = 0) -> np.ndarray:
    """Several corruptions at once ({Corruption: strength}), in the Enum's order: the pen, then
    one geometric warp (scale, rotation, shift: resampled once, not three times), then blur,
    noise and the patch."""
    for corruption, s in strengths.items():
        corruption.check(s)
    s = {c: float(strengths.get(c, 0)) for c in Corruption}
    single = np.ndim(x) == 2
    out = np.array(x, np.float32)[None] if single else np.array(x, np.float32)
    if s[Corruption.STROKE]:
        out = stroke(out, int(s[Corruption.STROKE]))
    if s[Corruption.SCALE] or s[Corruption.ROTATE] or s[Corruption.SHIFT]:
        out = warp(out, *inverse_geometry(out.shape[1:], s[Corruption.SCALE],
                                          s[Corruption.ROTATE], s[Corruption.SHIFT]))
    if s[Corruption.BLUR]:
        out = blur(out, s[Corruption.BLUR])
    if s[Corruption.NOISE]:
        out = noise(out, s[Corruption.NOISE], seed)
    if s[Corruption.OCCLUSION]:
        out = occlude(out, int(s[Corruption.OCCLUSION]), seed)
    return out[0] if single else out


# --- the pen -------------------------------------------------------------------------------


def disk(radius: int) -> list[tuple[int, int]]:
    """Offsets of a round pen: the pixels whose centres lie within radius + ½ (radius 1 is the
    full 3×3 square, radius 2 the 5×5 without its corners)."""
    r = range(-radius, radius + 1)
    return [(dr, dc) for dr in r for dc in r if dr * dr + dc * dc <= (radius + 0.5) ** 2]


def stroke(x: np.ndarray, pixels: int) -> np.ndarray:
    """Thicken strokes by `pixels` (the largest value under a round pen, grey dilation), or thin
    them (the smallest, grey erosion); outside the image counts as black background."""
    r = abs(pixels)
    padded = np.pad(x, ((0, 0), (r, r), (r, r)))
    h, w = x.shape[1:]
    pick = np.maximum if pixels > 0 else np.minimum
    out = x.copy()
    for dr, dc in disk(r):
        pick(out, padded[:, r + dr: r + dr + h, r + dc: r + dc + w], out=out)
    return out


# --- geometry ------------------------------------------------------------------------------


def inverse_geometry(shape, scale_percent: float, degrees: float, shift_px: float):
    """(matrix, offset) taking an output pixel (row, col) to where it is read from in the
    input: the inverse of scaling, then rotating about the centre, then shifting right."""
    centre = (np.asarray(shape, np.float64) - 1) / 2
    f = 1 + scale_percent / 100
    a = math.radians(degrees)
    # counterclockwise on screen, rows pointing down: (r, c) -> (r cos - c sin, r sin + c cos)
    rotate = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    matrix = np.linalg.inv(rotate * f)
    offset = centre - matrix @ (centre + np.array([0.0, shift_px]))
    return matrix, offset


def warp(x: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Bilinear resampling of a batch at input = matrix @ output + offset; what falls outside
    the input is black (interpolated with it at the edge)."""
    n, h, w = x.shape
    grid = np.indices((h, w), np.float64).reshape(2, -1)
    rows, cols = matrix @ grid + offset[:, None]
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    out = np.zeros((n, h * w), np.float64)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            r, c = r0 + dr, c0 + dc
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            values = x[:, np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)]
            out += values * (wr * wc * inside)
    return np.clip(out, 0, 1).astype(np.float32).reshape(n, h, w)


# --- blur, noise, a hidden patch -------------------------------------------------------------


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian reaching 4 σ each side (scipy.ndimage's default width)."""
    radius = int(4 * sigma + 0.5)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur, one axis after the other, with black beyond the edges."""
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    n, h, w = x.shape
    padded = np.pad(x.astype(np.float64), ((0, 0), (r, r), (0, 0)))
    rows = sum(weight * padded[:, i: i + h] for i, weight in enumerate(k))
    padded = np.pad(rows, ((0, 0), (0, 0), (r, r)))
    out = sum(weight * padded[:, :, i: i + w] for i, weight in enumerate(k))
    return np.clip(out, 0, 1).astype(np.float32)


def noise(x: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Gaussian noise of standard deviation `sigma` added to every pixel, clipped to [0, 1]; the
    same draws at every strength (only their size grows)."""
    draws = np.random.default_rng([seed, 1]).standard_normal(x.shape, dtype=np.float32)
    return np.clip(x + np.float32(sigma) * draws, 0, 1)


def patch_corners(n: int, side: int, shape, seed: int) -> np.ndarray:
    """(top, left) of each image's square: its centre drawn near the image's centre, the same
    centre at every side, moved in where the square would leave the image."""
    centres = np.random.default_rng([seed, 2]).uniform(*PATCH_CENTRES, size=(n, 2))
    corners = np.round(centres - side / 2).astype(int)
    return np.clip(corners, 0, np.asarray(shape) - side)


def occlude(x: np.ndarray, side: int, seed: int) -> np.ndarray:
    """A black square of `side` pixels on each image."""
    out = x.copy()
    for image, (top, left) in zip(out, patch_corners(len(x), side, x.shape[1:], seed)):
        image[top: top + side, left: left + side] = 0
    return out
