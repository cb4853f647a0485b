"""Model introspection: which layers a model has, in order, looking inside nested models.

A layer's path names the models it sits in: "features/conv1" is conv1 of the nested model
called features. Every page that shows something per layer asks here.
"""

from __future__ import annotations


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
