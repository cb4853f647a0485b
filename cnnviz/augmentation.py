"""Augmentation for drawn digits: elastic distortion, rotation, scale, shear, shifts and stroke
thickness."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Simard, Steinkraus & Platt (2003), "Best practices for convolutional neural networks applied
# to visual document analysis": a uniform random displacement field smoothed by a Gaussian of
# sigma 4 px and scaled by alpha 34, on 28x28 digits.
ELASTIC_SIGMA = 4.0
ELASTIC_ALPHA = 34.0


def gaussian_kernel(sigma: float):
    """The 1-D Gaussian (radius 4 sigma, as scipy.ndimage.gaussian_filter's default)."""
    import numpy as np

    r = int(4 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def smooth(field, sigma: float):
    """Gaussian blur of a (B, H, W) field, zero outside (separable, two convolutions)."""
    import tensorflow as tf

    k = tf.constant(gaussian_kernel(sigma))
    x = field[..., None]
    x = tf.nn.conv2d(x, tf.reshape(k, [-1, 1, 1, 1]), 1, "SAME")
    x = tf.nn.conv2d(x, tf.reshape(k, [1, -1, 1, 1]), 1, "SAME")
    return x[..., 0]


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


NO_GEOMETRY = Geometry(0.0, 0.0, 0.0, 0.0)


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


def distort(x, gen, alpha: float = ELASTIC_ALPHA, sigma: float = ELASTIC_SIGMA,
            geometry: Geometry = Geometry()):
    """Simard's elastic distortion (alpha drawn per image up to `alpha`) plus a random affine
    map, as one displacement field and one resampling of a float NHWC batch: each
    resampling blurs the strokes a little, so they are not done one after another."""
    import tensorflow as tf

    shape = tf.shape(x)
    b, h, w = shape[0], shape[1], shape[2]
    strength = gen.uniform([b, 1, 1], 0.0, alpha)
    dy, dx = affine_field(gen, b, h, w, geometry)
    dy += strength * smooth(gen.uniform([b, h, w], -1.0, 1.0), sigma)
    dx += strength * smooth(gen.uniform([b, h, w], -1.0, 1.0), sigma)
    return warp(x, dy, dx)


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
    """Stroke thickness, then elastic distortion with rotation, scale, shear and shifts,
    applied to a float NHWC batch."""
    import tensorflow as tf

    gen = tf.random.Generator.from_seed(seed + 3)

    def augment(x):
        strength = gen.uniform([tf.shape(x)[0]], -0.5, 1.0)
        return tf.clip_by_value(distort(stroke_thickness(x, strength), gen), 0.0, 1.0)

    return augment
