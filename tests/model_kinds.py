"""Every kind of model the app can meet, built small with random weights, as .keras files.

USABLE kinds must work on every page and in every CLI command; REFUSED kinds must be refused
with the sentence given here (a part of it).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers as L


def _cnn_body(x, softmax: bool = True):
    x = L.Conv2D(4, 3, activation="relu", name="conv1")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(6, 3, activation="relu", name="conv2")(x)
    x = L.Flatten(name="flatten")(x)
    return L.Dense(10, activation="softmax" if softmax else None, name="scores")(x)


def functional():
    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, _cnn_body(inp), name="functional")


def sequential():
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(4, 3, activation="relu"),
                             L.AveragePooling2D(2), L.Flatten(),
                             L.Dense(10, activation="softmax")], name="sequential")


def nested():
    inner = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(4, 3, activation="relu",
                                                                 name="conv1"),
                              L.MaxPooling2D(2, name="pool1")], name="features")
    inp = keras.Input((28, 28, 1))
    x = L.Flatten()(inner(inp))
    return keras.Model(inp, L.Dense(10, activation="softmax")(x), name="nested")


def mlp():
    """No conv or pooling layer at all: what the Train page makes from Flatten and Dense rows."""
    inp = keras.Input((28, 28, 1))
    x = L.Dense(16, activation="relu")(L.Flatten()(inp))
    return keras.Model(inp, L.Dense(10, activation="softmax")(x), name="mlp")


def logits():
    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, _cnn_body(inp, softmax=False), name="logits")


def padded32():
    inp = keras.Input((32, 32, 1))
    return keras.Model(inp, _cnn_body(inp), name="padded32")


def odd29():
    inp = keras.Input((29, 31, 1))
    return keras.Model(inp, _cnn_body(inp), name="odd29")


def dynamic():
    inp = keras.Input((None, None, 1))
    x = L.Conv2D(8, 3, activation="relu", name="conv1")(inp)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(10, activation="softmax")(x), name="dynamic")


def rgb():
    inp = keras.Input((28, 28, 3))
    return keras.Model(inp, _cnn_body(inp), name="rgb")


def two_inputs():
    a, b = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    x = L.Concatenate()([L.Flatten()(a), L.Flatten()(b)])
    return keras.Model([a, b], L.Dense(10, activation="softmax")(x), name="two_inputs")


def two_outputs():
    inp = keras.Input((28, 28, 1))
    x = L.Flatten()(inp)
    return keras.Model(inp, [L.Dense(10)(x), L.Dense(10)(x)], name="two_outputs")


def map_output():
    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, L.Conv2D(10, 3)(inp), name="map_output")


def five_classes():
    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, L.Dense(5, activation="softmax")(L.Flatten()(inp)), name="five")


def vector_input():
    inp = keras.Input((784,))
    return keras.Model(inp, L.Dense(10, activation="softmax")(inp), name="vector_input")


def too_small():
    inp = keras.Input((20, 20, 1))
    return keras.Model(inp, L.Dense(10, activation="softmax")(L.Flatten()(inp)), name="small")


USABLE = {"functional": functional, "sequential": sequential, "nested": nested, "mlp": mlp,
          "logits": logits, "padded32": padded32, "odd29": odd29, "dynamic": dynamic,
          "rgb": rgb}
REFUSED = {"two_inputs": (two_inputs, "2 inputs"), "two_outputs": (two_outputs, "2 outputs"),
           "map_output": (map_output, "its output is 26×26×10"),
           "five_classes": (five_classes, "its output is 5"),
           "vector_input": (vector_input, "its input is 784, not an image"),
           "too_small": (too_small, "it takes 20×20 images, smaller than")}
NO_CONV = {"mlp"}


def keras_input(model, images):
    """What Keras is given, built independently of the app: 28×28 images (one or a batch)
    centred in the model's input size on zeros, grey repeated into its channels."""
    import numpy as np

    images = np.asarray(images, np.float32)
    batch = images if images.ndim == 4 else images[None]
    h, w, c = (28 if d is None else d for d in model.input_shape[1:])
    top, left = (h - 28) // 2, (w - 28) // 2
    x = np.zeros((len(batch), h, w, c), np.float32)
    x[:, top:top + 28, left:left + 28] = batch
    return x


def save(kind: str, folder: Path) -> Path:
    builder = USABLE[kind] if kind in USABLE else REFUSED[kind][0]
    path = Path(folder) / f"{kind}.keras"
    keras.utils.set_random_seed(0)
    builder().save(path)
    return path
