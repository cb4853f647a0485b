"""Per-layer summaries: output shape, parameters, multiply-adds, FLOPs and activation memory.

FLOPs follow TensorFlow's profiler so the figures can be checked against it: a multiply-add
counts as 2, each bias addition as 1, a pooling window as one operation per element it reads,
a softmax as 5 per output; element-wise activations, reshapes and dropout are free. A layer
type this counter does not know, or a size that depends on the input (a model of any size),
is "not counted" (None), never 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# Layers that do no arithmetic worth counting (the profiler's convention for element-wise ops).
FREE = frozenset({"InputLayer", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "Activation",
                  "ReLU", "LeakyReLU", "ELU", "Softmax", "ZeroPadding2D", "Cropping2D",
                  "Permute", "Identity", "GaussianNoise", "GaussianDropout", "Rescaling"})


@dataclass(frozen=True)
class LayerSummary:
    name: str
    type: str
    output_shape: tuple  # None where the size follows the input
    params: int
    flops: int | None  # None: not counted
    macs: int | None  # multiply-accumulates of convolutions and dense layers, as papers count
    activation_bytes: int | None  # float32 output of one image


@dataclass(frozen=True)
class ModelSummary:
    name: str
    input_shape: tuple
    total_params: int
    trainable_params: int
    flops: int  # of the counted layers
    macs: int
    activation_bytes: int
    not_counted: tuple[str, ...]  # layers whose FLOPs are unknown here
    layers: list

    def to_dict(self) -> dict:
        return asdict(self)


def _prod(shape) -> int | None:
    dims = list(shape)
    return None if any(d is None for d in dims) else math.prod(int(d) for d in dims)


def _dims(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


def costs(layer) -> tuple[int, int] | None:
    """(multiply-adds, FLOPs) for one example through `layer`, or None when not counted."""
    import keras

    if isinstance(layer, keras.Model):
        inner = summarize(layer)
        return None if inner.not_counted else (inner.macs, inner.flops)
    n_out = _prod(layer.output.shape[1:])
    if n_out is None:
        return None
    kind = type(layer).__name__
    bias = n_out if getattr(layer, "use_bias", False) else 0
    softmax = 5 * n_out if kind == "Softmax" or \
        getattr(layer, "activation", None) is keras.activations.softmax else 0
    if kind in ("Conv1D", "Conv2D", "Conv3D"):
        # kernel is (kh, kw, c_in / groups, c_out): one output reads kh*kw*c_in/groups inputs
        macs = _prod(layer.kernel.shape[:-1]) * n_out
    elif kind == "DepthwiseConv2D":
        macs = _prod(layer.kernel.shape[:2]) * n_out
    elif kind == "Dense":
        macs = int(layer.kernel.shape[0]) * n_out
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        return 0, _prod(layer.pool_size) * n_out
    elif kind in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        reads = _prod(layer.input.shape[1:])
        return None if reads is None else (0, reads)
    elif kind == "BatchNormalization":
        return 0, 2 * n_out + 6 * int(layer.input.shape[-1])
    elif kind in FREE:
        return 0, softmax
    else:
        return None
    return macs, 2 * macs + bias + softmax


def summarize(model) -> ModelSummary:
    layers = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        counted = costs(layer)
        n_out = _prod(layer.output.shape[1:])
        layers.append(LayerSummary(
            layer.name, type(layer).__name__, _dims(layer.output.shape[1:]),
            int(layer.count_params()),
            None if counted is None else counted[1], None if counted is None else counted[0],
            None if n_out is None else 4 * n_out))
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return ModelSummary(
        model.name,
        # a model of several inputs has one shape per input
        _dims(model.inputs[0].shape[1:]) if len(model.inputs) == 1
        else tuple(_dims(i.shape[1:]) for i in model.inputs),
        int(model.count_params()),
        int(trainable),
        sum(layer.flops or 0 for layer in layers),
        sum(layer.macs or 0 for layer in layers),
        sum(layer.activation_bytes or 0 for layer in layers),
        tuple(layer.name for layer in layers if layer.flops is None),
        layers,
    )
