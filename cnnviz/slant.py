"""Slant correction (deskewing): shear a digit so that its ink leans neither way.

Handwriting leans by up to 30° or more; MNIST digits lean less and the network has learned
them. A shear by the ink's second moments, mu11 / mu02 (the horizontal shift per row of the
line through the ink that best fits it), makes the ink's main axis vertical without changing
its height, as in the deskewed-MNIST experiments of LeCun et al. (1998).
"""

from __future__ import annotations

import numpy as np

MAX_SLANT = 1.0  # at most 45°: beyond that the moments say more about the shape than its lean


def slant(ink: np.ndarray) -> tuple[float, float]:
    """(slant, centre row): the ink's horizontal shift per row down, mu11 / mu02, and the row
    of its centre of mass. A digit leaning right (top to the right) has a negative slant."""
    h, w = ink.shape
    total = float(ink.sum())
    if total <= 0:
        return 0.0, (h - 1) / 2
    rows = np.arange(h, dtype=np.float32)
    by_row = ink.sum(axis=1)
    cy = float(by_row @ rows) / total
    cx = float(ink.sum(axis=0) @ np.arange(w, dtype=np.float32)) / total
    dy = rows - cy
    mu02 = float(by_row @ dy**2) / total
    mu11 = float(dy @ ink @ (np.arange(w, dtype=np.float32) - cx)) / total
    return (mu11 / mu02 if mu02 > 0 else 0.0), cy


def shear(ink: np.ndarray, s: float, centre: float, pad: int) -> np.ndarray:
    """out[y, x] = ink[y, x - pad + s * (y - centre)] with linear interpolation, zero outside;
    the result is 2 * pad columns wider."""
    h, w = ink.shape
    x = np.arange(w + 2 * pad, dtype=np.float32)[None, :] - pad \
        + np.float32(s) * (np.arange(h, dtype=np.float32)[:, None] - np.float32(centre))
    x0 = np.floor(x)
    frac = x - x0
    x0 = x0.astype(np.int64)
    padded = np.pad(ink, ((0, 0), (1, 1)))  # a zero column each side: clipped reads are 0
    left = np.take_along_axis(padded, np.clip(x0 + 1, 0, w + 1), axis=1)
    right = np.take_along_axis(padded, np.clip(x0 + 2, 0, w + 1), axis=1)
    return left * (1 - frac) + right * frac


def upright(ink: np.ndarray) -> np.ndarray:
    """The cropped ink sheared to slant 0 (at most MAX_SLANT), cropped again to its columns."""
    s, cy = slant(ink)
    s = float(np.clip(s, -MAX_SLANT, MAX_SLANT))
    h = ink.shape[0]
    pad = int(np.ceil(abs(s) * max(cy, h - 1 - cy))) + 1
    out = shear(ink, s, cy, pad)
    cols = np.flatnonzero(out.max(axis=0) > 0)
    return out[:, cols[0]:cols[-1] + 1] if cols.size else out
