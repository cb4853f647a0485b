"""What the network sees: predictions and feature maps from one compiled call (Probe), the
model seen from inside at any layer with pre-softmax scores (inside_view), saliency maps and
Grad-CAM (Explainer). Activation maximization is in `dreams`."""

from __future__ import annotations

import threading

import numpy as np

from cnnviz import introspect


def as_batch(images: np.ndarray, input_shape) -> np.ndarray:
    """Images (n, H, W, C) as a model takes them: zero-padded to its size, and grey digits
    repeated into three channels for a colour model."""
    from cnnviz.data import fit_to_input

    x = np.asarray(images, np.float32)
    if x.shape[-1] == 1 and input_shape[-1] == 3:
        x = np.repeat(x, 3, axis=-1)
    return fit_to_input(x, input_shape)


def as_input(image: np.ndarray, input_shape) -> np.ndarray:
    """One (H, W, C) image as a batch of one for a model."""
    return as_batch(np.asarray(image)[None], input_shape)


def in_batches(call, images: np.ndarray, input_shape, batch: int = 500):
    """`call` (a traced function) over many images, `batch` at a time, each batch as the model
    takes it; its output (or each of its outputs) concatenated as numpy."""
    parts = [call(as_batch(images[i:i + batch], input_shape)) for i in range(0, len(images), batch)]
    if isinstance(parts[0], (tuple, list)):
        return tuple(np.concatenate([p[k].numpy() for p in parts]) for k in range(len(parts[0])))
    return np.concatenate([p.numpy() for p in parts])


class Probe:
    """Class probabilities and every conv/pooling feature map for one image, in one call.

    `model.predict` sets up a data pipeline on every call (tens of ms); a tf.function with a
    fixed signature is traced once and then costs little more than the arithmetic. XLA fuses
    LeNet-5's ops into a few kernels, and all outputs come back as one flat tensor: one copy
    out of TensorFlow instead of one per layer. A model whose output is scores (logits) gets a
    softmax, so that what is shown is always a distribution (`applies_softmax`).
    """

    def __init__(self, model):
        self.model = model
        contract = introspect.classifier(model)
        self.input_shape = contract.input_shape
        self.applies_softmax = not contract.probabilities
        self.map_paths = [path for path, _ in introspect.map_layers(model)]
        try:
            taps = taps_view(model, self.map_paths)
        except ExplainError:  # a graph the app cannot look inside: the prediction alone
            self.map_paths, taps = [], model
        self._shapes = [(10,), *self._map_shapes(taps)]
        self._ends = np.cumsum([int(np.prod(shape)) for shape in self._shapes])
        self._call = self._compile(taps)

    def _map_shapes(self, taps) -> list[tuple]:
        import tensorflow as tf

        outs = taps(tf.zeros((1, *self.input_shape)), training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return [tuple(int(d) for d in o.shape[1:]) for o in outs[1:]]

    def _compile(self, taps):
        """The traced graph, called directly: tf.function's per-call argument handling
        (~0.4 ms) costs more than LeNet-5's forward pass. Compiled with XLA when the model
        allows it (a layer XLA cannot compile falls back to the plain graph)."""
        import tensorflow as tf

        spec = tf.TensorSpec((1, *self.input_shape), tf.float32)
        softmax = self.applies_softmax

        def flat(x):
            outs = taps(x, training=False)
            out, *maps = outs if isinstance(outs, (list, tuple)) else [outs]
            probs = tf.nn.softmax(out) if softmax else out
            return tf.concat([tf.reshape(o, [-1]) for o in (probs, *maps)], 0)

        def trace(jit: bool):
            call = tf.function(flat, input_signature=[spec], jit_compile=jit)
            call = call.get_concrete_function()
            call(tf.zeros(spec.shape))  # compiles now, not on the first drawing
            self.xla = jit
            return call

        try:
            return trace(jit=True)
        except tf.errors.OpError:  # an op XLA cannot compile: the plain graph
            return trace(jit=False)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """image (H, W, C) in [0, 1] -> (probabilities (10,), {layer path: (h, w, c)}).

        A 28x28 digit is zero-padded for a 32x32 model, as its training data was."""
        import tensorflow as tf

        x = as_input(image, self.input_shape)
        parts = np.split(self._call(tf.constant(x)).numpy(), self._ends[:-1])
        probs, *maps = (part.reshape(shape) for part, shape in zip(parts, self._shapes))
        return probs, dict(zip(self.map_paths, maps))

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        return self(image)[0]


def is_unsure(probs: np.ndarray, floor: float = 0.5, margin: float = 0.2) -> bool:
    """Top class below `floor`, or the runner-up within `margin` of it."""
    top2 = np.sort(probs)[-2:]
    return bool(top2[1] < floor or top2[1] - top2[0] < margin)


# --- the model seen from inside: any layer, pre-softmax scores ------------------------------


class ExplainError(ValueError):
    """The model's structure does not allow this view; the message says why."""


def _chain(model, x, taps: dict, inputs_of: dict, prefix: str = ""):
    """Call a chain of layers again on x, entering nested models, recording each layer's input
    and output by path. Layers inside a nested model belong to the inner graph; re-calling
    them builds one connected graph from the outer input, which `keras.Model(outer.inputs,
    inner_layer.output)` cannot do (it reports a disconnected graph)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            if not _is_chain(layer):
                raise ExplainError(f"the nested model {layer.name} branches; only chains of "
                                   "layers can be looked inside")
            x = _chain(layer, x, taps, inputs_of, f"{prefix}{layer.name}/")
        else:
            inputs_of[prefix + layer.name] = x
            x = layer(x)
            taps[prefix + layer.name] = x
    return x


def _is_chain(model) -> bool:
    """Each layer feeds the next and nothing else: one node at every depth of its graph, and
    every layer called once (a layer called twice also gives one node per depth)."""
    import keras

    if isinstance(model, keras.Sequential):
        return True
    depths = model._nodes_by_depth.values()
    return all(len(nodes) == 1 for nodes in depths) and sum(map(len, depths)) == len(model.layers)


def _scores(last, output, layer_input):
    """Pre-softmax class scores: a softmax output layer is re-applied without its softmax; a
    model without a softmax at the end outputs them already."""
    import keras

    softmax = keras.activations.softmax
    if type(last).__name__ == "Dense" and last.activation is softmax:
        z = keras.ops.matmul(layer_input, last.kernel)
        return z + last.bias if last.use_bias else z
    if type(last).__name__ == "Softmax" or (type(last).__name__ == "Activation"
                                            and last.activation is softmax):
        return layer_input
    if getattr(last, "activation", None) is softmax:  # another layer with a softmax built in
        return keras.ops.log(keras.ops.clip(output, 1e-7, 1.0))  # logits up to a constant
    return output  # the model outputs scores (logits) already


def _graph(model):
    """(inputs, {path: output}, {path: input}) of every layer, as one connected graph."""
    import keras

    if _is_chain(model):  # re-call the layers: one graph even for nested models
        inputs = keras.Input(model.input_shape[1:])
        taps, inputs_of = {}, {}
        _chain(model, inputs, taps, inputs_of)
        return inputs, taps, inputs_of
    if any(isinstance(layer, keras.Model) for layer in model.layers):
        raise ExplainError("this model nests models inside a branching graph; only chains "
                           "of layers can be looked inside")
    layers = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    return model.input, {l.name: l.output for l in layers}, {l.name: l.input for l in layers}


def taps_view(model, layer_paths=()):
    """A Keras model from the input to [the model's output, *the named layers' outputs]."""
    import keras

    inputs, taps, _ = _graph(model)
    missing = [p for p in layer_paths if p not in taps]
    if missing:
        raise ExplainError(f"the model has no layer {missing[0]!r}")
    path, _ = introspect.output_layer(model)
    return keras.Model(inputs, [taps[path], *[taps[p] for p in layer_paths]])


def inside_view(model, layer_paths=()):
    """A Keras model from the input to [class scores (logits), *the named layers' outputs],
    for Functional, Sequential and nested models alike. Paths name nested layers "inner/conv1"."""
    import keras

    inputs, taps, inputs_of = _graph(model)
    missing = [p for p in layer_paths if p not in taps]
    if missing:
        raise ExplainError(f"the model has no layer {missing[0]!r}")
    path, last = introspect.output_layer(model)
    scores = _scores(last, taps[path], inputs_of[path])
    return keras.Model(inputs, [scores, *[taps[p] for p in layer_paths]])


def _crop_to(a: np.ndarray, shape) -> np.ndarray:
    """Undo fit_to_input's centred zero-padding on a map at the model's input size."""
    top, left = (a.shape[0] - shape[0]) // 2, (a.shape[1] - shape[1]) // 2
    return a[top: top + shape[0], left: left + shape[1]]


class Explainer:
    """Saliency maps and Grad-CAM for one model; one compiled function per conv layer."""

    def __init__(self, model):
        self.model = model
        self.input_shape = introspect.classifier(model).input_shape
        self.conv_paths = [path for path, _ in introspect.conv_layers(model)]
        self._fns: dict = {}
        self._lock = threading.Lock()  # sessions share one Explainer: trace each function once

    def _fn(self, layer: str | None):
        with self._lock:
            return self._traced(layer)

    def _traced(self, layer: str | None):
        import tensorflow as tf

        if layer not in self._fns:
            view = inside_view(self.model, [layer] if layer else [])
            spec = [tf.TensorSpec((None, *self.input_shape), tf.float32),
                    tf.TensorSpec((), tf.int32)]

            @tf.function(input_signature=spec)
            def grads(x, cls):
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x)
                    outs = view(x, training=False)
                    scores, *maps = outs if isinstance(outs, (list, tuple)) else [outs]
                    target = tf.reduce_sum(scores[:, cls])
                inner = tape.gradient(target, maps[0]) if maps else tf.zeros(())
                return scores, (maps[0] if maps else tf.zeros(())), inner, tape.gradient(target, x)

            self._fns[layer] = grads
        return self._fns[layer]

    def gradient(self, image: np.ndarray, cls: int) -> np.ndarray:
        """|d score / d pixel|, the largest over colour channels (Simonyan et al. 2014)."""
        *_, g = self._fn(None)(as_input(image, self.input_shape), cls)
        return _crop_to(np.abs(g.numpy()[0]).max(-1), image.shape[:2])

    def smoothgrad(self, image: np.ndarray, cls: int, samples: int = 32, noise: float = 0.15,
                   seed: int = 0) -> np.ndarray:
        """The gradient averaged over noisy copies (Smilkov et al. 2017): less speckle."""
        x = as_input(image, self.input_shape)
        rng = np.random.default_rng(seed)
        noisy = (x + rng.normal(0, noise, (samples, *x.shape[1:]))).astype(np.float32)
        *_, g = self._fn(None)(noisy, cls)
        return _crop_to(np.abs(g.numpy()).mean(0).max(-1), image.shape[:2])

    def gradcam(self, image: np.ndarray, cls: int, layer: str | None = None) -> np.ndarray:
        """Grad-CAM (Selvaraju et al. 2017): the layer's maps weighted by the mean gradient of
        the class score, ReLU, resized to the input; in [0, 1]. Default: the last conv layer."""
        import tensorflow as tf

        if not self.conv_paths:
            raise ExplainError("the model has no Conv2D layer for Grad-CAM")
        layer = layer or self.conv_paths[-1]
        _, maps, grads, _ = self._fn(layer)(as_input(image, self.input_shape), cls)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1)).numpy()[0]
        grid = receptive_grid(self.model, layer, self.input_shape[:2])
        cam = _crop_to(_to_input_grid(cam, *grid, self.input_shape[:2]), image.shape[:2])
        return cam / cam.max() if cam.max() > 0 else cam


def receptive_grid(model, layer_path: str, input_size) -> tuple[np.ndarray, np.ndarray]:
    """Where the cells of a layer's output sit on an input of `input_size` (rows, cols): cell i
    of axis a is centred at start[a] + jump[a] * i input pixels. Valid convolutions shrink the
    map from the borders, so stretching a map over the whole input would misplace it."""
    from cnnviz import ops

    if not _is_chain(model):  # the walk below follows one path through the layers
        raise ExplainError("this model branches, so where its maps sit on the input is not "
                           "one chain of layers to follow")
    start, jump, size = np.zeros(2), np.ones(2), list(input_size)
    for path, layer in introspect.layers_in_order(model):
        kind = type(layer).__name__
        if kind in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
            k = layer.kernel_size if kind == "Conv2D" else layer.pool_size
            d = layer.dilation_rate if kind == "Conv2D" else (1, 1)
            for a in range(2):
                static = layer.input.shape[1 + a]  # None for a model of any size
                n = size[a] if static is None else int(static)
                before = ops.pad_amounts(n, k[a], layer.strides[a], d[a], layer.padding)[0]
                start[a] += (d[a] * (k[a] - 1) / 2 - before) * jump[a]
                jump[a] *= layer.strides[a]
                size[a] = ops.output_size(n, k[a], layer.strides[a], d[a], layer.padding)
        if path == layer_path:
            return start, jump
    raise ExplainError(f"the model has no layer {layer_path!r}")


def _to_input_grid(cam: np.ndarray, start, jump, shape) -> np.ndarray:
    """Linear interpolation of a layer map onto the input pixels (edges held beyond the map)."""
    rows = np.interp(np.arange(shape[0]), start[0] + jump[0] * np.arange(cam.shape[0]),
                     np.arange(cam.shape[0]))
    cols = np.interp(np.arange(shape[1]), start[1] + jump[1] * np.arange(cam.shape[1]),
                     np.arange(cam.shape[1]))
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, cam.shape[0] - 1), np.minimum(c0 + 1, cam.shape[1] - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = cam[r0][:, c0] * (1 - fc) + cam[r0][:, c1] * fc
    bottom = cam[r1][:, c0] * (1 - fc) + cam[r1][:, c1] * fc
    return top * (1 - fr) + bottom * fr
