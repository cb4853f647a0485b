"""What the network sees: predictions and feature maps from one compiled call."""

from __future__ import annotations

import numpy as np

MAP_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "DepthwiseConv2D", "SeparableConv2D")


def map_layers(model) -> list:
    """The layers whose outputs are images (conv and pooling), in order."""
    return [layer for layer in model.layers if type(layer).__name__ in MAP_LAYERS]


class Probe:
    """Class probabilities and every conv/pooling feature map for one image, in one call.

    `model.predict` sets up a data pipeline on every call (tens of ms); a tf.function with a
    fixed signature is traced once and then costs little more than the arithmetic.
    """

    def __init__(self, model):
        import keras
        import tensorflow as tf

        self.model = model
        self.layers = map_layers(model)
        self.input_shape = tuple(int(d) for d in model.input_shape[1:])
        probe = keras.Model(model.inputs, [model.outputs[0], *[l.output for l in self.layers]])
        spec = tf.TensorSpec((1, *self.input_shape), tf.float32)
        self._call = tf.function(lambda x: probe(x, training=False), input_signature=[spec])
        self(np.zeros(self.input_shape, np.float32))  # trace now, not on the first drawing

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """image (H, W, C) in [0, 1] -> (probabilities (classes,), {layer name: (h, w, c)}).

        A 28x28 digit is zero-padded for a 32x32 model, as its training data was."""
        from cnnviz.data import fit_to_input

        x = fit_to_input(np.asarray(image, np.float32)[None], self.input_shape)
        outputs = self._call(x)
        probs, *maps = (o.numpy()[0] for o in outputs)
        return probs, {layer.name: m for layer, m in zip(self.layers, maps)}

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        return self(image)[0]


def is_unsure(probs: np.ndarray, floor: float = 0.5, margin: float = 0.2) -> bool:
    """Top class below `floor`, or the runner-up within `margin` of it."""
    top2 = np.sort(probs)[-2:]
    return bool(top2[1] < floor or top2[1] - top2[0] < margin)
