"""Activation maximization: the inputs that make a class score (pre-softmax) or a conv
filter's summed activation as large as possible, all targets at once in one batched, compiled
loop, with regularisers that keep the images smooth and image-like."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cnnviz import introspect
from cnnviz.explain import inside_view

@dataclass(frozen=True)
class DreamSettings:
    steps: int = 200
    learning_rate: float = 0.05
    l2: float = 0.002  # pulls pixels towards black: no ink where none is needed
    total_variation: float = 0.02  # smooth strokes instead of high-frequency noise
    jitter: int = 2  # random shift (px) each step: features must work wherever they land
    blur_every: int = 8  # a light 3x3 blur every n steps (0 = never)
    scale: float = 0.0  # random zoom in [1 - scale, 1 + scale] each step (0 = off)
    seed: int = 0


@dataclass(frozen=True)
class Dream:
    images: np.ndarray  # (n, H, W, C) in [0, 1]
    objective: np.ndarray  # the maximised score (logit or summed activation) per image
    probabilities: np.ndarray  # (n, classes): what the model says about each image
    seconds: float


class Dreamer:
    """Optimise inputs so a class score (pre-softmax) or a conv filter's summed activation is as
    large as possible, all targets at once in one batched, compiled loop."""

    def __init__(self, model, layer: str | None = None):
        import tensorflow as tf

        self.model, self.layer = model, layer
        self.input_shape = introspect.classifier(model).input_shape
        view = inside_view(model, [layer] if layer else [])
        self.targets = int(view.outputs[-1].shape[-1])

        def responses(x):
            """(images, targets): each class's score, or each filter's total response."""
            outs = view(x, training=False)
            scores, *maps = outs if isinstance(outs, (list, tuple)) else [outs]
            return tf.reduce_sum(maps[0], axis=(1, 2)) if maps else scores

        def objective(x):  # target i's response to image i
            return tf.linalg.diag_part(responses(x))

        self._responses = tf.function(responses, input_signature=[
            tf.TensorSpec((None, *self.input_shape), tf.float32)])
        self._objective = tf.function(objective)
        self._steps = tf.function(self._make_steps(objective))
        # trace now, so that a first Run shows (and waits for) the optimisation only
        blank = np.zeros((self.targets, *self.input_shape), np.float32)
        self._objective(self._run_steps(blank, 0, 0, DreamSettings()))

    def _run_steps(self, x, n: int, done: int, s: DreamSettings):
        import tensorflow as tf

        args = [tf.constant(v, dtype) for v, dtype in (
            (s.learning_rate, tf.float32), (s.l2, tf.float32), (s.total_variation, tf.float32),
            (s.jitter, tf.int32), (s.blur_every, tf.int32), (s.scale, tf.float32),
            (s.seed, tf.int32))]
        return self._steps(tf.convert_to_tensor(x, tf.float32), tf.constant(n), tf.constant(done),
                           *args)

    def _make_steps(self, objective):
        import tensorflow as tf

        blur = tf.constant(np.outer([1, 2, 1], [1, 2, 1])[..., None, None] / 16.0, tf.float32)
        blur = tf.tile(blur, [1, 1, self.input_shape[2], 1])

        def run(x, n, step0, lr, l2, tv, jitter, blur_every, scale, seed):
            for i in tf.range(n):
                step = step0 + i
                key = tf.stack([seed, step])
                shift = tf.random.stateless_uniform([2], key, -jitter, jitter + 1, tf.int32)
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    moved = tf.roll(x, shift, axis=[1, 2])
                    if scale > 0:
                        moved = _zoom(moved, tf.random.stateless_uniform(
                            [], key + 1, 1 - scale, 1 + scale))
                    gain = objective(moved)
                    penalty = l2 * tf.reduce_sum(x ** 2, axis=[1, 2, 3]) + \
                        tv * tf.reduce_sum(tf.image.total_variation(x))
                    loss = tf.reduce_sum(-gain + penalty)
                g = tape.gradient(loss, x)
                g /= tf.math.reduce_std(g, axis=[1, 2, 3], keepdims=True) + 1e-8
                x = tf.clip_by_value(x - lr * g, 0.0, 1.0)
                if blur_every > 0 and (step + 1) % blur_every == 0:
                    x = tf.nn.depthwise_conv2d(x, blur, [1, 1, 1, 1], "SAME")
            return x

        return run

    def run(self, settings: DreamSettings = DreamSettings(), on_progress=None,
            chunk: int = 50) -> Dream:
        """All targets at once; `on_progress(done_steps, total)` after every `chunk` steps."""
        import tensorflow as tf

        start = time.perf_counter()
        rng = np.random.default_rng(settings.seed)
        # Classes start from near-black, as digits are drawn on black. A filter starts from
        # grey: on black many ReLU filters are silent and their gradient is zero.
        low = 0.0 if self.layer is None else 0.45
        x = tf.convert_to_tensor(rng.uniform(low, low + 0.1, (self.targets, *self.input_shape)),
                                 tf.float32)
        done = 0
        while done < settings.steps:
            n = min(chunk, settings.steps - done)
            x = self._run_steps(x, n, done, settings)
            done += n
            if on_progress:
                on_progress(done, settings.steps)
        images = x.numpy()
        objective = self._objective(x).numpy()
        probs = self.model(x, training=False)
        if not introspect.ends_in_softmax(self.model):  # scores (logits): as probabilities
            probs = tf.nn.softmax(probs)
        return Dream(images, objective, np.asarray(probs), time.perf_counter() - start)

    def top_images(self, images: np.ndarray, k: int = 5, batch: int = 500) -> "TopImages":
        """The k images (n, H, W, C) in [0, 1] that raise each target's response most: the
        natural counterpart of the optimised ones (Borowski et al. 2021)."""
        from cnnviz.explain import in_batches

        found = in_batches(self._responses, images, self.input_shape, batch)
        k = min(k, len(images))
        order = np.argsort(-found, axis=0, kind="stable")[:k].T  # (targets, k), strongest first
        means = np.stack([images[idx].mean(0) for idx in order])
        return TopImages(order, np.take_along_axis(found.T, order, axis=1), means)


@dataclass(frozen=True)
class TopImages:
    indices: np.ndarray  # (targets, k) into the images, strongest response first
    responses: np.ndarray  # (targets, k): the score or summed response each gave
    means: np.ndarray  # (targets, H, W, C): the mean of each target's k images


def _zoom(x, factor):
    """Scale the batch about its centre by `factor`, keeping its size."""
    import tensorflow as tf

    size = tf.shape(x)[1:3]
    scaled = tf.cast(tf.round(tf.cast(size, tf.float32) * factor), tf.int32)
    return tf.image.resize_with_crop_or_pad(tf.image.resize(x, scaled), size[0], size[1])
