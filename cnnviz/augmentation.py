"""Augmentation for drawn digits: shifts, small rotations, scale and stroke thickness."""

from __future__ import annotations


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
    """Shifts, small rotations, scale and stroke thickness, applied to a float NHWC batch."""
    import keras
    import tensorflow as tf

    geometry = keras.Sequential(
        [
            keras.layers.RandomRotation(12 / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom((-0.15, 0.15), fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )
    gen = tf.random.Generator.from_seed(seed + 3)

    def augment(x):
        strength = gen.uniform([tf.shape(x)[0]], -0.5, 1.0)
        x = stroke_thickness(x, strength)
        return tf.clip_by_value(geometry(x, training=True), 0.0, 1.0)

    return augment
