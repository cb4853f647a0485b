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
    the result is 2 * pad columns wider. A row moves as a whole, so its fractional part is one
    number per row and the row is read with one flat gather (take_along_axis costs several
    times more at these sizes)."""
    h, w = ink.shape
    move = np.float32(s) * (np.arange(h, dtype=np.float32) - np.float32(centre)) - pad
    whole = np.floor(move)
    frac = (move - whole)[:, None]
    whole = whole.astype(np.int64)
    width = w + 2 * pad
    left = max(0, -int(whole.min()))  # zero columns, so every read lands inside the array
    right = max(0, width + int(whole.max()) + 1 - w)
    src = np.zeros((h, left + w + right), np.float32)
    src[:, left:left + w] = ink
    at = (np.arange(h) * src.shape[1] + whole + left)[:, None] + np.arange(width)
    flat = src.ravel()
    return flat[at] * (1 - frac) + flat[at + 1] * frac


def upright(ink: np.ndarray) -> np.ndarray:
    """The cropped ink sheared to slant 0 (at most MAX_SLANT), cropped again to its columns."""
    s, cy = slant(ink)
    s = float(np.clip(s, -MAX_SLANT, MAX_SLANT))
    h = ink.shape[0]
    pad = int(np.ceil(abs(s) * max(cy, h - 1 - cy))) + 1
    out = shear(ink, s, cy, pad)
    cols = np.flatnonzero(out.max(axis=0) > 0)
    return out[:, cols[0]:cols[-1] + 1] if cols.size else out
