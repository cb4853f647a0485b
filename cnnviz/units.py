"""One unit of any layer, worked out as Keras computed it for one input.

A conv unit is its input patch (every input channel) times the learned kernel slice, summed
per channel, the channel sums added, plus the bias, through the activation. A pooling unit is
its window and the chosen or averaged value. A dense unit is its inputs times their weights,
summed, plus the bias, through the activation (and for a softmax layer, the softmax over all
units). Every number is read from, or computed from, the layer's actual input for that image;
`value` is the layer's actual output, and tests hold the worked-out value to it.

The receptive field is the rectangle of input pixels that can change the unit, found by walking
back through every earlier layer's kernel, stride, padding and dilation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz import introspect

CONV, POOL, DENSE = "conv", "pool", "dense"
POOLS = {"MaxPooling2D": "max", "AveragePooling2D": "average"}


class UnitError(ValueError):
    """A layer or position that has no unit to explain; the message says which exist."""


@dataclass(frozen=True)
class Unit:
    layer: str
    kind: str  # CONV, POOL or DENSE
    at: tuple  # (row, col, channel), or (unit,) for a dense layer
    value: float  # the layer's output at `at`, as Keras computed it
    receptive_field: tuple[int, int, int, int] | None  # top, left, bottom, right (inclusive)
    bias: float = 0.0
    activation: str = "linear"  # conv and dense
    pre_activation: float | None = None  # the sum before the activation (conv and dense)
    pooling: str | None = None  # "max" or "average" (pooling)
    patch: np.ndarray | None = None  # conv: (kh, kw, c_in) input patch; pool: the window
    kernel: np.ndarray | None = None  # conv: (kh, kw, c_in) weights of this unit
    channel_sums: np.ndarray | None = None  # conv: Σ patch × kernel per input channel
    inputs: np.ndarray | None = None  # dense: the input vector
    weights: np.ndarray | None = None  # dense: this unit's weights
    softmax: np.ndarray | None = field(default=None)  # dense softmax layer: every unit's output

    @property
    def contributions(self) -> np.ndarray | None:
        """Dense: weight × input for every input (their sum + bias is the pre-activation)."""
        return None if self.inputs is None else self.inputs * self.weights


def _activation_name(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", "linear") if act is not None else "linear"


def explainable(layer) -> bool:
    """Conv2D (not grouped), pooling, and Dense on a flat input: what `explain` works out."""
    kind = type(layer).__name__
    return (kind == "Conv2D" and getattr(layer, "groups", 1) == 1) or kind in POOLS or \
        (kind == "Dense" and len(layer.input.shape) == 2)


class Cutter:
    """Every explainable layer's input and output for one image, from one Keras model built
    once per model: building it calls every layer again, which Keras records on the layers,
    so a page must not build it on every rerun."""

    def __init__(self, model):
        import keras

        from cnnviz.explain import ExplainError, _graph, _is_chain

        if not _is_chain(model):
            raise UnitError("this model branches; units can be worked out along a chain of "
                            "layers only")
        try:
            inputs, taps, inputs_of = _graph(model)
        except ExplainError as err:
            raise UnitError(str(err)) from err
        self.model = model
        self.layers = {path: layer for path, layer in introspect.layers_in_order(model)
                       if explainable(layer)}
        self.input_shape = introspect.classifier(model).input_shape
        paths = list(self.layers)
        self._index = {path: 2 * i for i, path in enumerate(paths)}
        self._cut = keras.Model(inputs, [t for p in paths for t in (inputs_of[p], taps[p])])

    def outputs(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Every explainable layer's output for one image, in order: the forward pass."""
        from cnnviz.explain import as_input

        outs = self._cut(as_input(image, self.input_shape), training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return {path: np.asarray(outs[i + 1])[0] for path, i in self._index.items()}

    def io(self, image: np.ndarray, layer_path: str) -> tuple[np.ndarray, np.ndarray]:
        """The layer's input and output for one image, from Keras itself."""
        from cnnviz.explain import as_input

        if layer_path not in self.layers:
            raise UnitError(f"{layer_path!r} is not a Conv2D, pooling or Dense layer of this "
                            "model")
        outs = self._cut(as_input(image, self.input_shape), training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        i = self._index[layer_path]
        return np.asarray(outs[i])[0], np.asarray(outs[i + 1])[0]


def explain(cutter: Cutter, image: np.ndarray, layer_path: str, at: tuple) -> Unit:
    """The unit of `layer_path` at `at` (row, col, channel; or unit for dense layers)."""
    x, y = cutter.io(image, layer_path)
    layer, model = cutter.layers[layer_path], cutter.model
    kind = type(layer).__name__
    if kind == "Conv2D":
        return _conv(layer_path, layer, x, y, _check(at, y.shape), model)
    if kind in POOLS:
        return _pool(layer_path, layer, x, y, _check(at, y.shape), model)
    return _dense(layer_path, layer, x, y, _check(at, y.shape))


def _check(at: tuple, shape: tuple) -> tuple:
    at = tuple(int(a) for a in at)
    if len(at) != len(shape) or any(not 0 <= a < n for a, n in zip(at, shape)):
        raise UnitError(f"there is no unit at {list(at)}: the layer's output is "
                        + introspect.shape_text(shape))
    return at


def _window(layer, x_shape, r: int, c: int, kernel_hw, dilation=(1, 1)):
    """Rows and columns of the layer's (unpadded) input under output cell (r, c); -1 where
    they fall on the padding."""
    from cnnviz import ops

    spans = []
    for a, i in enumerate((r, c)):
        before = ops.pad_amounts(x_shape[a], kernel_hw[a], layer.strides[a], dilation[a],
                                 layer.padding)[0]
        idx = i * layer.strides[a] - before + dilation[a] * np.arange(kernel_hw[a])
        spans.append(np.where((idx >= 0) & (idx < x_shape[a]), idx, -1))
    return spans


def _gather(x: np.ndarray, rows, cols, fill: float) -> np.ndarray:
    """x[rows][:, cols] with `fill` where an index is -1 (padding)."""
    out = np.full((len(rows), len(cols), x.shape[2]), fill, x.dtype)
    ok_r, ok_c = rows >= 0, cols >= 0
    out[np.ix_(ok_r, ok_c)] = x[np.ix_(rows[ok_r], cols[ok_c])]
    return out


def _conv(path, layer, x, y, at, model) -> Unit:
    r, c, k = at
    kernel = layer.kernel.numpy()[..., k]
    rows, cols = _window(layer, x.shape, r, c, kernel.shape[:2], layer.dilation_rate)
    patch = _gather(x, rows, cols, 0.0)  # Keras pads convolutions with zeros
    sums = (patch.astype(np.float64) * kernel).sum(axis=(0, 1))
    bias = float(layer.bias.numpy()[k]) if layer.use_bias else 0.0
    return Unit(path, CONV, at, float(y[r, c, k]), receptive_field(model, path, r, c),
                bias=bias, activation=_activation_name(layer),
                pre_activation=float(sums.sum() + bias), patch=patch, kernel=kernel,
                channel_sums=sums)


def _pool(path, layer, x, y, at, model) -> Unit:
    r, c, k = at
    rows, cols = _window(layer, x.shape, r, c, layer.pool_size)
    window = _gather(x[..., k:k + 1], rows, cols, np.nan)[..., 0]  # padding is no value
    return Unit(path, POOL, at, float(y[r, c, k]), receptive_field(model, path, r, c),
                pooling=POOLS[type(layer).__name__], patch=window)


def _dense(path, layer, x, y, at) -> Unit:
    (u,) = at
    weights = layer.kernel.numpy()[:, u]
    bias = float(layer.bias.numpy()[u]) if layer.use_bias else 0.0
    act = _activation_name(layer)
    z = float((x.astype(np.float64) * weights).sum() + bias)
    if act == "softmax":  # the softmax step needs every unit's sum
        all_z = x.astype(np.float64) @ layer.kernel.numpy() + \
            (layer.bias.numpy() if layer.use_bias else 0.0)
        soft = np.exp(all_z - all_z.max())
        softmax = soft / soft.sum()
    else:
        softmax = None
    return Unit(path, DENSE, at, float(y[u]), None, bias=bias, activation=act, pre_activation=z,
                inputs=x, weights=weights, softmax=softmax)


def receptive_field(model, layer_path: str, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive, of the model-input pixels that can change the
    output cell (row, col) of `layer_path`; walked back through every earlier conv and pooling
    layer (nested models entered). A 28×28 digit padded for a 32×32 model sits 2 pixels in."""
    size = introspect.classifier(model).input_shape[:2]
    chain = []
    for path, layer in introspect.layers_in_order(model):
        chain.append((path, layer))
        if path == layer_path:
            break
    else:
        raise UnitError(f"the model has no layer {layer_path!r}")
    from cnnviz import ops

    shapes = _input_sizes(chain, size)
    lo, hi = [row, col], [row, col]
    for (path, layer), n in zip(reversed(chain), reversed(shapes)):
        kind = type(layer).__name__
        if kind not in ("Conv2D", *POOLS):
            continue  # element-wise layers keep positions
        k = layer.kernel_size if kind == "Conv2D" else layer.pool_size
        d = layer.dilation_rate if kind == "Conv2D" else (1, 1)
        for a in range(2):
            before = ops.pad_amounts(n[a], k[a], layer.strides[a], d[a], layer.padding)[0]
            lo[a] = max(lo[a] * layer.strides[a] - before, 0)
            hi[a] = min(hi[a] * layer.strides[a] - before + d[a] * (k[a] - 1), n[a] - 1)
    return lo[0], lo[1], hi[0], hi[1]


def _input_sizes(chain, size) -> list[tuple[int, int]]:
    """The spatial size each layer of the chain receives, from the model's input size."""
    from cnnviz import ops

    sizes, n = [], list(size)
    for _, layer in chain:
        sizes.append(tuple(n))
        kind = type(layer).__name__
        if kind in ("Conv2D", *POOLS):
            k = layer.kernel_size if kind == "Conv2D" else layer.pool_size
            d = layer.dilation_rate if kind == "Conv2D" else (1, 1)
            n = [ops.output_size(n[a], k[a], layer.strides[a], d[a], layer.padding)
                 for a in range(2)]
    return sizes
