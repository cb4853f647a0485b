"""A layer stack edited on the Train page: checked row by row (naming the row that cannot
work, by the order number the editor shows) and built as a Functional model."""

from __future__ import annotations

import math

from cnnviz.models import ModelError, functional

LAYER_TYPES = ("Conv2D", "MaxPool", "AvgPool", "Dropout", "BatchNormalization", "Flatten", "Dense")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
MAX_PARAMS = 20_000_000  # beyond this a CPU demo would stall for minutes per epoch
MAX_ACTIVATION_BYTES = 256 * 2**20  # float32 activations of one image, all layers

# One row per layer; fields a layer type does not use are empty (None) and ignored. A row may
# carry the "order" the Train page's editor shows, which messages then use to name it.
DEFAULT_STACK = [
    {"layer": "Conv2D", "units": 6, "size": 5, "stride": 1, "padding": "same", "activation": "relu", "rate": None},
    {"layer": "MaxPool", "units": None, "size": 2, "stride": 2, "padding": "valid", "activation": None, "rate": None},
    {"layer": "Conv2D", "units": 16, "size": 5, "stride": 1, "padding": "valid", "activation": "relu", "rate": None},
    {"layer": "MaxPool", "units": None, "size": 2, "stride": 2, "padding": "valid", "activation": None, "rate": None},
    {"layer": "Flatten", "units": None, "size": None, "stride": None, "padding": None, "activation": None, "rate": None},
    {"layer": "Dense", "units": 120, "size": None, "stride": None, "padding": None, "activation": "relu", "rate": None},
    {"layer": "Dropout", "units": None, "size": None, "stride": None, "padding": None, "activation": None, "rate": 0.25},
    {"layer": "Dense", "units": 84, "size": None, "stride": None, "padding": None, "activation": "relu", "rate": None},
]


def _stack_steps(stack: list[dict], input_shape,
                 classes: int) -> tuple[list[tuple[str, dict]], int]:
    """Check a layer stack shape by shape (naming the first layer that cannot work) and turn it
    into builder steps; a Flatten and the softmax classifier are added at the end. Also returns
    the float32 values one image produces on its way through (input and every layer's output)."""
    from cnnviz import ops

    shape, steps, params, activations = tuple(input_shape), [], 0, _prod(input_shape)
    for n, row in enumerate(stack, start=1):
        kind = row.get("layer")
        where = f"layer {row.get('order') or n} ({kind})"
        if kind not in LAYER_TYPES:
            raise ModelError(f"{where}: choose a layer type from {', '.join(LAYER_TYPES)}")
        if kind in ("Conv2D", "MaxPool", "AvgPool"):
            if len(shape) != 3:
                raise ModelError(f"{where} needs an image (height × width × channels), but it "
                                 "comes after Flatten or Dense; move it up")
            size, stride = int(row.get("size") or 0), int(row.get("stride") or 0)
            padding = row.get("padding") or "valid"
            if size < 1 or stride < 1 or padding not in ("valid", "same"):
                raise ModelError(f"{where}: size and stride must be at least 1 and padding "
                                 "valid or same")
            out = [ops.output_size(d, size, stride, 1, padding) for d in shape[:2]]
            if min(out) < 1:
                raise ModelError(f"{where}: a {size}×{size} window does not fit its "
                                 f"{shape[0]}×{shape[1]} input; use a smaller size, padding "
                                 "same, or fewer layers before it")
            if kind == "Conv2D":
                filters = int(row.get("units") or 0)
                if filters < 1:
                    raise ModelError(f"{where}: it needs at least 1 filter")
                params += (size * size * shape[2] + 1) * filters
                shape = (*out, filters)
                steps.append(("conv", dict(filters=filters, kernel_size=size, strides=stride,
                                           padding=padding, activation=_activation(row, where))))
            else:
                shape = (*out, shape[2])
                steps.append(("maxpool" if kind == "MaxPool" else "avgpool",
                              dict(pool_size=size, strides=stride, padding=padding)))
        elif kind == "Dense":
            units = int(row.get("units") or 0)
            if units < 1:
                raise ModelError(f"{where}: it needs at least 1 unit")
            params += (shape[-1] + 1) * units
            shape = (*shape[:-1], units)
            steps.append(("dense", dict(units=units, activation=_activation(row, where))))
        elif kind == "Dropout":
            rate = float(row.get("rate") or 0.0)
            if not 0.0 <= rate < 1.0:
                raise ModelError(f"{where}: the rate must be at least 0 and below 1")
            steps.append(("dropout", dict(rate=rate)))
        elif kind == "BatchNormalization":
            params += 4 * shape[-1]
            steps.append(("batchnorm", {}))
        else:
            shape = (_prod(shape),)
            steps.append(("flatten", {}))
        activations += _prod(shape)
        if params > MAX_PARAMS:
            raise ModelError(f"{where} brings the model to {params:,} parameters; the limit "
                             f"here is {MAX_PARAMS:,}. Use fewer filters or units, or pool first")
        if activations * 4 > MAX_ACTIVATION_BYTES:
            raise ModelError(f"{where}: activations reach {activations * 4 / 2**20:,.0f} MB per "
                             "image, too much to train here; pool or stride earlier")
    if len(shape) != 1:
        steps.append(("flatten", {}))
    steps.append(("dense", dict(units=classes, activation="softmax")))
    return steps, activations + classes


def _activation(row: dict, where: str) -> str:
    activation = row.get("activation") or "linear"
    if activation not in ACTIVATIONS:
        raise ModelError(f"{where}: the activation must be one of {', '.join(ACTIVATIONS)}")
    return activation


def build_stack(stack: list[dict], input_shape, classes: int = 10, name: str = "custom"):
    """A Functional model from an edited layer stack, refused with a message naming the layer
    when it cannot work (a window larger than its input, too many parameters, ...)."""
    steps, _ = _stack_steps(stack, input_shape, classes)
    return functional(name, tuple(input_shape), steps, [])


def stack_activations(stack: list[dict], input_shape, classes: int = 10) -> int:
    """Float32 values one image produces through an edited stack (its input and every layer's
    output): what training must hold per image of a batch. ModelError if the stack is refused."""
    return _stack_steps(stack, input_shape, classes)[1]


def _prod(shape) -> int:
    return math.prod(int(d) for d in shape)
