"""Model introspection: which layers a model has, in order, looking inside nested models, and
whether it can classify a digit at all (`classifier`: one image input, one vector of 10 scores).

A layer's path names the models it sits in: "features/conv1" is conv1 of the nested model
called features. Every page that shows something per layer asks here.
"""

from __future__ import annotations

from dataclasses import dataclass


def layers_in_order(model, prefix: str = ""):
    """(path, layer) of every layer that computes something, nested models entered."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from layers_in_order(layer, f"{prefix}{layer.name}/")
        elif not isinstance(layer, keras.layers.InputLayer):
            yield prefix + layer.name, layer


def conv_layers(model) -> list[tuple[str, object]]:
    """(path, layer) of every Conv2D, looking inside nested models ("inner/conv1")."""
    return [(path, layer) for path, layer in layers_in_order(model)
            if type(layer).__name__ == "Conv2D"]


MAP_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "DepthwiseConv2D", "SeparableConv2D")


def map_layers(model) -> list[tuple[str, object]]:
    """(path, layer) of the layers whose outputs are images (conv and pooling), in order."""
    return [(path, layer) for path, layer in layers_in_order(model)
            if type(layer).__name__ in MAP_LAYERS]


def output_layer(model) -> tuple[str, object]:
    """(path, layer) of the layer that makes the model's output, inside nested models too."""
    import keras

    path, last = "", model.layers[-1]
    while isinstance(last, keras.Model):
        path += last.name + "/"
        last = last.layers[-1]
    return path + last.name, last


def ends_in_softmax(model) -> bool:
    """Whether the output is already a probability distribution (a softmax at the end)."""
    import keras

    _, last = output_layer(model)
    return type(last).__name__ == "Softmax" or \
        getattr(last, "activation", None) is keras.activations.softmax


@dataclass(frozen=True)
class Classifier:
    """What the app needs to know to feed a model one digit and read its answer."""

    input_shape: tuple[int, int, int]  # what it is called with; a dynamic size takes the digit's
    probabilities: bool  # its output is a softmax distribution; otherwise scores (logits)


def shape_text(shape) -> str:
    """28×28×1; a size that follows the input is "any"."""
    return "×".join("any" if d is None else str(d) for d in shape)


def classifier(model, image_shape=(28, 28, 1)) -> Classifier:
    """Check that the model can classify `image_shape` images into 10 classes; raise
    ModelError with one sentence saying why not and what would work."""
    from cnnviz.models import ModelError

    if len(model.inputs) != 1:
        raise ModelError(f"it has {len(model.inputs)} inputs; the app gives a model one image, "
                         "so it needs exactly one input")
    if len(model.outputs) != 1:
        raise ModelError(f"it has {len(model.outputs)} outputs; the app needs exactly one: "
                         "a vector of 10 class scores")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3:
        raise ModelError(f"its input is {shape_text(shape)}, not an image (height × width × "
                         "channels); a digit classifier takes for example 28×28×1")
    h, w, c = shape
    if c not in (1, 3):
        raise ModelError(f"its input has {c} channels; the app can give it grey (1) or RGB (3) "
                         "images")
    if any(d is not None and d < n for d, n in zip((h, w), image_shape)):
        raise ModelError(f"it takes {shape_text((h, w))} images, smaller than the "
                         f"{shape_text(image_shape[:2])} input; it needs at least that")
    out = tuple(model.outputs[0].shape[1:])
    if out != (10,):
        raise ModelError(f"its output is {shape_text(out)}; the app needs one vector of 10 "
                         "class scores")
    size = tuple(n if d is None else int(d) for d, n in zip((h, w), image_shape))
    return Classifier((*size, int(c)), ends_in_softmax(model))
