"""Convolution and pooling in numpy, with the window behind any output cell, for teaching.

`conv2d` computes what a Keras Conv2D computes (cross-correlation, one output channel); the
tests check it against Keras and scipy.ndimage. Arithmetic is float64 so the step-through sums
shown on the page add up exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PADDINGS = ("valid", "same", "full")
BOUNDARIES = {"zeros": "constant", "reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap"}


class OpError(ValueError):
    """Parameters that cannot produce an output; the message gives the sizes."""


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def pad_amounts(n: int, k: int, stride: int, dilation: int, padding) -> tuple[int, int]:
    """(before, after) padding along one axis. Keras' "same" puts the odd pixel after."""
    span = dilation * (k - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return span - 1, span - 1
    if padding == "same":
        total = max((math.ceil(n / stride) - 1) * stride + span - n, 0)
        return total // 2, total - total // 2
    if isinstance(padding, (int, np.integer)) and padding >= 0:
        return int(padding), int(padding)
    raise OpError(f"padding must be valid, same, full or a whole number >= 0, not {padding!r}")


def output_size(n: int, k: int, stride: int = 1, dilation: int = 1, padding="valid") -> int:
    """out = floor((n + p_before + p_after - d*(k-1) - 1) / s) + 1"""
    before, after = pad_amounts(n, k, stride, dilation, padding)
    return (n + before + after - dilation * (k - 1) - 1) // stride + 1


@dataclass(frozen=True)
class Geometry:
    """Everything needed to find the input patch behind an output cell."""
    pads: tuple[tuple[int, int], tuple[int, int]]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    kernel: tuple[int, int]
    out: tuple[int, int]


def geometry(shape, kernel_hw, stride=1, padding="valid", dilation=1) -> Geometry:
    stride, dilation, kernel_hw = _pair(stride), _pair(dilation), _pair(kernel_hw)
    if min(stride) < 1 or min(dilation) < 1 or min(kernel_hw) < 1:
        raise OpError("kernel size, stride and dilation must be at least 1")
    pads = tuple(pad_amounts(n, k, s, d, padding)
                 for n, k, s, d in zip(shape[:2], kernel_hw, stride, dilation))
    out = tuple(output_size(n, k, s, d, padding)
                for n, k, s, d in zip(shape[:2], kernel_hw, stride, dilation))
    if min(out) < 1:
        span = [d * (k - 1) + 1 for k, d in zip(kernel_hw, dilation)]
        padded = [n + b + a for n, (b, a) in zip(shape[:2], pads)]
        raise OpError(f"the kernel spans {span[0]}×{span[1]} pixels but the padded input is only "
                      f"{padded[0]}×{padded[1]}: use a smaller kernel or dilation, or more padding")
    return Geometry(pads, stride, dilation, kernel_hw, out)


def padded(x, kernel_hw, *, stride=1, padding="valid", dilation=1, boundary="zeros"):
    """The input as a convolution reads it, padded and filled as asked, and the (before,
    after) padding of each axis."""
    g = geometry(np.shape(x), kernel_hw, stride, padding, dilation)
    return _pad(np.asarray(x), g.pads, boundary), g.pads


def _pad(x: np.ndarray, pads, boundary: str, fill=0.0) -> np.ndarray:
    if boundary not in BOUNDARIES:
        raise OpError(f"boundary must be one of {', '.join(BOUNDARIES)}, not {boundary!r}")
    widths = [*pads] + [(0, 0)] * (x.ndim - 2)
    if boundary == "zeros":
        return np.pad(x, widths, constant_values=fill)
    mode = BOUNDARIES[boundary]
    if mode == "reflect" and min(x.shape[:2]) < 2:
        raise OpError("reflect padding needs an input at least 2 pixels on each side")
    return np.pad(x, widths, mode=mode)


def _as_hwc(x, kernel):
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    if kernel.size == 0:
        raise OpError("the kernel is empty")
    if not np.isfinite(kernel).all():
        raise OpError("the kernel holds a NaN or infinite value: enter finite numbers")
    x3 = x[..., None] if x.ndim == 2 else x
    k3 = kernel[..., None] if kernel.ndim == 2 else kernel
    if x3.ndim != 3 or k3.ndim != 3:
        raise OpError(f"expected an (H, W) or (H, W, C) input and kernel, got {x.shape} and {kernel.shape}")
    if k3.shape[2] != x3.shape[2]:
        if k3.shape[2] == 1:
            k3 = np.repeat(k3, x3.shape[2], axis=2)
        else:
            raise OpError(f"the kernel has {k3.shape[2]} channels but the input has {x3.shape[2]}")
    return x3, k3


def conv2d(x, kernel, *, stride=1, padding="valid", dilation=1, boundary="zeros") -> np.ndarray:
    """Cross-correlate (H, W[, C]) with (kh, kw[, C]) and sum over channels -> (out_h, out_w).

    A 2-D kernel on a C-channel input is applied to every channel (as a 3-D kernel of copies).
    """
    x3, k3 = _as_hwc(x, kernel)
    g = geometry(x3.shape, k3.shape[:2], stride, padding, dilation)
    (sh, sw), (dh, dw), (oh, ow) = g.stride, g.dilation, g.out
    (top, bottom), (left, right) = g.pads
    height, width, channels = x3.shape[0] + top + bottom, x3.shape[1] + left + right, x3.shape[2]
    # Work on the padded image as one long row: the tap (a, b) of every output cell is then the
    # same contiguous slice shifted by a*dh*width + b*dw, so each tap is one fast vectorised
    # multiply-add. Cells that wrap past a row's end are computed and thrown away (a few
    # columns); strides are taken afterwards. Few large temporaries: each costs page faults.
    rows = (oh - 1) * sh + 1
    n = rows * width
    flat = np.zeros((height * width + (k3.shape[1] - 1) * dw, channels))
    padded = flat[:height * width].reshape(height, width, channels)
    if boundary == "zeros":
        padded[top: top + x3.shape[0], left: left + x3.shape[1]] = x3
    else:
        padded[:] = _pad(x3, g.pads, boundary)
    out = np.empty(n)
    scratch = np.empty(min(_BLOCK, n))
    taps = [(a * dh * width + b * dw, k3[a, b]) for a in range(k3.shape[0])
            for b in range(k3.shape[1])]
    for start in range(0, n, _BLOCK):  # blocks that stay in cache while every tap is added
        stop = min(start + _BLOCK, n)
        for t, (shift, weights) in enumerate(taps):
            target = out[start:stop] if t == 0 else scratch[: stop - start]
            tap = flat[start + shift: stop + shift]
            if channels == 1:
                np.multiply(tap[:, 0], weights[0], out=target)
            else:
                np.matmul(tap, weights, out=target)
            if t:
                out[start:stop] += target
    return out.reshape(rows, width)[::sh, : (ow - 1) * sw + 1: sw]


_BLOCK = 65536


def conv_window(x, kernel, i: int, j: int, *, stride=1, padding="valid", dilation=1,
                boundary="zeros") -> dict:
    """The arithmetic behind output cell (i, j): the padded-input rows/cols it reads, the
    patch, the element-wise products, per-channel sums and their total."""
    x3, k3 = _as_hwc(x, kernel)
    g = geometry(x3.shape, k3.shape[:2], stride, padding, dilation)
    if not (0 <= i < g.out[0] and 0 <= j < g.out[1]):
        raise OpError(f"output cell ({i}, {j}) is outside the {g.out[0]}×{g.out[1]} output")
    xp = _pad(x3, g.pads, boundary)
    rows = i * g.stride[0] + g.dilation[0] * np.arange(k3.shape[0])
    cols = j * g.stride[1] + g.dilation[1] * np.arange(k3.shape[1])
    patch = xp[np.ix_(rows, cols)]
    products = patch * k3
    channel_sums = products.sum(axis=(0, 1))
    return {"rows": rows - g.pads[0][0], "cols": cols - g.pads[1][0],  # in input coordinates
            "patch": patch, "kernel": k3, "products": products,
            "channel_sums": channel_sums, "sum": float(channel_sums.sum())}


def pool2d(x, size, *, stride=None, padding="valid", mode="max") -> np.ndarray:
    """Max or average pooling of (H, W[, C]) per channel, as Keras computes it.

    With "same" padding the padded cells are ignored: max never picks them and the average
    divides by the number of real cells in the window."""
    x = np.asarray(x, np.float64)
    x3 = x[..., None] if x.ndim == 2 else x
    size = _pair(size)
    stride = size if stride is None else _pair(stride)
    if padding not in ("valid", "same"):
        raise OpError("pooling padding must be valid or same")
    if mode not in ("max", "avg"):
        raise OpError("mode must be max or avg")
    g = geometry(x3.shape, size, stride, padding)
    fill = -np.inf if mode == "max" else 0.0
    xp = _pad(x3, g.pads, "zeros", fill=fill)
    valid = _pad(np.ones(x3.shape[:2] + (1,)), g.pads, "zeros")
    (sh, sw), (oh, ow) = g.stride, g.out
    taps = [(xp[a: a + sh * (oh - 1) + 1: sh, b: b + sw * (ow - 1) + 1: sw],
             valid[a: a + sh * (oh - 1) + 1: sh, b: b + sw * (ow - 1) + 1: sw])
            for a in range(size[0]) for b in range(size[1])]
    if mode == "max":
        out = np.max([t for t, _ in taps], axis=0)
    else:
        out = np.sum([t for t, _ in taps], axis=0) / np.sum([v for _, v in taps], axis=0)
    return out[..., 0] if x.ndim == 2 else out


def pool_window(x, size, i: int, j: int, *, stride=None, padding="valid", mode="max") -> dict:
    """The window behind pooled cell (i, j) of a 2-D map: its real cells, and the chosen one."""
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise OpError("pool_window takes one 2-D map")
    size = _pair(size)
    stride = size if stride is None else _pair(stride)
    g = geometry(x.shape, size, stride, padding)
    if not (0 <= i < g.out[0] and 0 <= j < g.out[1]):
        raise OpError(f"output cell ({i}, {j}) is outside the {g.out[0]}×{g.out[1]} output")
    r0, c0 = i * stride[0] - g.pads[0][0], j * stride[1] - g.pads[1][0]
    rows = [r for r in range(r0, r0 + size[0]) if 0 <= r < x.shape[0]]
    cols = [c for c in range(c0, c0 + size[1]) if 0 <= c < x.shape[1]]
    window = x[np.ix_(rows, cols)]
    if mode == "max":
        a, b = np.unravel_index(np.argmax(window), window.shape)
        value, chosen = float(window[a, b]), (rows[a], cols[b])
    else:
        value, chosen = float(window.mean()), None
    return {"rows": rows, "cols": cols, "window": window, "value": value, "argmax": chosen}


def size_formula(n: int, k: int, stride: int = 1, dilation: int = 1, padding="valid") -> str:
    """The output-size formula with this axis' numbers filled in, ending in its value."""
    before, after = pad_amounts(n, k, stride, dilation, padding)
    out = output_size(n, k, stride, dilation, padding)
    return (f"⌊({n} + {before} + {after} − {dilation}·({k}−1) − 1) / {stride}⌋ + 1 = {out}")


def shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move a 2-D map down by dy and right by dx pixels, filling with zeros."""
    out = np.zeros_like(x)
    h, w = x.shape[:2]
    out[max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
        x[max(-dy, 0): h - max(dy, 0), max(-dx, 0): w - max(dx, 0)]
    return out


def relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """Mean absolute change as a share of the mean absolute value (0 = identical)."""
    scale = float(np.abs(before).mean())
    return float(np.abs(after - before).mean()) / scale if scale > 0 else 0.0


def shift_robustness(x: np.ndarray, pixels: int, size, *, stride=None, padding="valid",
                     mode="max") -> tuple[float, float]:
    """How much a map and its pooled version change when the input moves `pixels` right.

    Pooling summarises each window, so a small move inside a window changes its output
    little: the second number is usually well below the first."""
    moved = shift(x, 0, pixels)
    pool = dict(stride=stride, padding=padding, mode=mode)
    return (relative_change(x, moved),
            relative_change(pool2d(x, size, **pool), pool2d(moved, size, **pool)))
