"""Augmentation for drawn digits: rotation, scale, shear, shifts and stroke thickness.

Simard et al.'s (2003) elastic distortions (sigma 4, alpha up to 12 or 34) were tried on top
of these: with LeNet-5 they did not help the stand-in pen digits (bench.stroke_digits, dev
writers: 98.3-98.5% against 98.8% without), so they are not applied."""

from __future__ import annotations

import math
from dataclasses import dataclass


def warp(x, dy, dx):
    """Sample a (B, H, W, C) batch at (row + dy, col + dx) with bilinear interpolation, zero
    outside the image (as scipy.ndimage.map_coordinates with order=1, mode="grid-constant")."""
    import tensorflow as tf

    shape = tf.shape(x)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    rows = tf.cast(tf.range(h), x.dtype)[None, :, None] + dy
    cols = tf.cast(tf.range(w), x.dtype)[None, None, :] + dx
    # one zero pixel around the image: a coordinate clipped to it reads 0
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    rows = tf.clip_by_value(rows, -1.0, tf.cast(h, x.dtype))
    cols = tf.clip_by_value(cols, -1.0, tf.cast(w, x.dtype))
    r0, c0 = tf.floor(rows), tf.floor(cols)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    r0 = tf.cast(r0, tf.int32) + 1
    c0 = tf.cast(c0, tf.int32) + 1
    r1, c1 = tf.minimum(r0 + 1, h + 1), tf.minimum(c0 + 1, w + 1)
    flat = tf.reshape(padded, [-1, c])
    base = (tf.range(b) * (h + 2) * (w + 2))[:, None, None]

    def at(r, cc):
        return tf.gather(flat, base + r * (w + 2) + cc)

    top = at(r0, c0) * (1 - fc) + at(r0, c1) * fc
    bottom = at(r1, c0) * (1 - fc) + at(r1, c1) * fc
    return top * (1 - fr) + bottom * fr


@dataclass(frozen=True)
class Geometry:
    """Ranges of the random affine part, drawn per image."""
    rotation: float = 12.0  # degrees either way
    zoom: float = 0.15  # scale by 1 -/+ this at most
    shift: float = 0.1  # share of the side
    shear: float = 0.3  # horizontal shift per unit of height: handwriting's slant


def affine_field(gen, b, h, w, g: Geometry):
    """(dy, dx), each (b, h, w): the displacement that samples each output pixel from a
    rotated, scaled, sheared and shifted position about the image's centre."""
    import tensorflow as tf

    angle = gen.uniform([b, 1, 1], -g.rotation, g.rotation) * (math.pi / 180)
    scale = tf.exp(gen.uniform([b, 1, 1], math.log(1 - g.zoom), math.log(1 + g.zoom)))
    shear = gen.uniform([b, 1, 1], -g.shear, g.shear)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    ty = gen.uniform([b, 1, 1], -g.shift, g.shift) * hf
    tx = gen.uniform([b, 1, 1], -g.shift, g.shift) * wf
    uy = tf.range(hf)[None, :, None] - (hf - 1) / 2
    ux = tf.range(wf)[None, None, :] - (wf - 1) / 2
    cos, sin = tf.cos(angle), tf.sin(angle)
    dy = (cos * uy - sin * ux) * scale + ty - uy
    dx = (sin * uy + cos * ux) * scale + shear * uy + tx - ux
    return dy, dx


def distort(x, gen, geometry: Geometry = Geometry()):
    """A random rotation, scale, shear and shift per image, as one displacement field and one
    resampling of a float NHWC batch (one resampling, not one per layer: each blurs)."""
    import tensorflow as tf

    shape = tf.shape(x)
    return warp(x, *affine_field(gen, shape[0], shape[1], shape[2], geometry))


def stroke_thickness(x, strength):
    """Thicken (strength > 0) or thin (< 0) strokes: a blend towards a 3x3 dilation/erosion.

    Drawn digits come with any pen width; MNIST strokes are 2-3 px. Blending rather than a
    full erosion keeps the thin MNIST strokes from vanishing.
    """
    import tensorflow as tf

    grown = tf.nn.max_pool2d(x, 3, 1, "SAME")
    shrunk = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    s = tf.reshape(strength, [-1, 1, 1, 1])
    return tf.where(s > 0, x + s * (grown - x), x + (-s) * (shrunk - x))


def make_augmenter(seed: int = 0):
    """Stroke thickness, then rotation, scale, shear and shifts, applied to a float NHWC
    batch."""
    import tensorflow as tf

    gen = tf.random.Generator.from_seed(seed + 3)

    def augment(x):
        strength = gen.uniform([tf.shape(x)[0]], -0.5, 1.0)
        return tf.clip_by_value(distort(stroke_thickness(x, strength), gen), 0.0, 1.0)

    return augment
