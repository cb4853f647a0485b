"""Named convolution kernels, the shipped LeNet-5's learned filters, and custom kernels typed in.

Each named kernel is what a textbook calls it; `filter_image` applies one (or a gradient
magnitude, which combines two) with every parameter of the Convolution lab.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import ops

_SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_PREWITT_X = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
_GAUSS_1D_5 = np.array([1, 4, 6, 4, 1])

NAMED: dict[str, np.ndarray] = {name: np.asarray(k, np.float64) for name, k in {
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "Box blur 3×3": np.full((3, 3), 1 / 9),
    "Box blur 5×5": np.full((5, 5), 1 / 25),
    "Gaussian 3×3": np.outer([1, 2, 1], [1, 2, 1]) / 16,
    "Gaussian 5×5": np.outer(_GAUSS_1D_5, _GAUSS_1D_5) / 256,
    "Sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Sobel x": _SOBEL_X,
    "Sobel y": np.transpose(_SOBEL_X),
    "Prewitt x": _PREWITT_X,
    "Prewitt y": np.transpose(_PREWITT_X),
    "Laplacian (4-neighbour)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "Laplacian (8-neighbour)": [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
    "Emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "Outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}.items()}

# Not one kernel: sqrt(gx² + gy²) of two correlations, an edge detector independent of direction.
MAGNITUDES = {"Sobel gradient magnitude": ("Sobel x", "Sobel y")}

DESCRIPTIONS = {
    "Identity": "copies the centre pixel: the output equals the input.",
    "Box blur 3×3": "the mean of the 3×3 neighbourhood: smooths noise and edges alike.",
    "Box blur 5×5": "the mean of the 5×5 neighbourhood: a stronger blur.",
    "Gaussian 3×3": "a weighted mean, heavier at the centre: a gentler blur than the box.",
    "Gaussian 5×5": "binomial weights approximating a Gaussian with σ≈1.",
    "Sharpen": "the pixel minus its neighbours' excess: boosts edges.",
    "Sobel x": "left-to-right change, smoothed vertically: responds to vertical edges.",
    "Sobel y": "top-to-bottom change: responds to horizontal edges.",
    "Sobel gradient magnitude": "√(Sobel x² + Sobel y²): edges in every direction.",
    "Prewitt x": "like Sobel x without the extra weight on the centre row.",
    "Prewitt y": "like Sobel y without the extra weight on the centre column.",
    "Laplacian (4-neighbour)": "the second derivative: zero on flat areas and ramps, large at edges.",
    "Laplacian (8-neighbour)": "the Laplacian including the diagonals.",
    "Emboss": "a diagonal gradient: the image looks raised, lit from the top left.",
    "Outline": "every pixel against all eight neighbours: outlines shapes.",
}

MAX_SIDE = 7


class KernelError(ValueError):
    """A custom kernel that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class LearnedFilter:
    """One filter of a trained conv layer with what the layer adds to it."""

    kernel: np.ndarray  # 2-D, or 3-D for RGB input
    bias: float
    activation: str  # "ReLU" or "none", as the lab names them


def learned_filters(model) -> dict[str, LearnedFilter]:
    """The first conv layer's filters of a Keras model, with their biases and activation."""
    import keras

    from cnnviz import introspect

    _, first = introspect.conv_layers(model)[0]
    weights = np.asarray(first.kernel.numpy(), np.float64)  # (kh, kw, in, out)
    biases = first.bias.numpy() if first.use_bias else np.zeros(weights.shape[-1])
    relu = first.activation is keras.activations.relu
    return {f"{first.name} filter {i}": LearnedFilter(
        weights[..., i].squeeze(-1) if weights.shape[2] == 1 else weights[..., i],
        float(biases[i]), "ReLU" if relu else "none") for i in range(weights.shape[-1])}


def parse(text: str, *, what: str = "kernel", max_side: int = MAX_SIDE) -> np.ndarray:
    """A matrix typed as rows of numbers (spaces or commas between them) -> 2-D array."""
    rows = [line.replace(",", " ").split() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise KernelError(f"the {what} is empty: type one row of numbers per line, e.g. `0 1 0`.")
    if len({len(r) for r in rows}) != 1:
        raise KernelError("every row needs the same number of values; the rows have "
                          f"{', '.join(str(len(r)) for r in rows)}.")
    try:
        matrix = np.array([[float(v) for v in r] for r in rows])
    except ValueError as err:
        raise KernelError(f"{str(err).split(': ', 1)[-1]} is not a number.") from None
    if matrix.shape[0] > max_side or matrix.shape[1] > max_side:
        raise KernelError(f"the {what} is {matrix.shape[0]}×{matrix.shape[1]}; the lab takes "
                          f"1×1 up to {max_side}×{max_side}.")
    if not np.isfinite(matrix).all():
        raise KernelError(f"the {what} holds NaN or infinity: use finite numbers.")
    if np.abs(matrix).max() > 1e6:
        raise KernelError(f"a {what} value exceeds ±1,000,000; results would be meaningless. "
                          "Use smaller numbers.")
    return matrix


def normalise(kernel: np.ndarray) -> np.ndarray:
    """Scale to sum 1 (keeps average brightness), if the sum is not zero."""
    total = kernel.sum()
    if abs(total) < 1e-12:
        raise KernelError("the kernel sums to 0 (an edge detector), so it cannot be scaled "
                          "to sum 1: untick normalise.")
    return kernel / total


def to_text(kernel: np.ndarray) -> str:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.atleast_2d(kernel))


def flipped(kernel: np.ndarray) -> np.ndarray:
    """True convolution is correlation with the kernel rotated by 180°."""
    return kernel[::-1, ::-1]


@dataclass(frozen=True)
class Filtered:
    parts: dict[str, np.ndarray]  # kernel name -> its raw correlation (before bias/activation)
    output: np.ndarray  # after combining parts, adding the bias and the activation


def activate(z, activation: str):
    return np.maximum(z, 0.0) if activation == "ReLU" else z


def filter_image(image, kernels: dict[str, np.ndarray], *, bias: float = 0.0,
                 activation: str = "none", **conv) -> Filtered:
    """Correlate with one kernel, or with two combined as a gradient magnitude; then bias and
    activation, as a one-filter conv layer. `conv` takes ops.conv2d's keywords."""
    parts = {name: ops.conv2d(image, k, **conv) for name, k in kernels.items()}
    raw = next(iter(parts.values())) if len(parts) == 1 \
        else np.sqrt(sum(p ** 2 for p in parts.values()))
    return Filtered(parts, activate(raw + bias, activation))


def per_channel(image: np.ndarray, kernel: np.ndarray, **conv) -> dict[str, np.ndarray]:
    """Each colour channel's own correlation; a conv layer adds these up into one map."""
    k3 = kernel[..., None] if kernel.ndim == 2 else kernel
    return {name: ops.conv2d(image[..., c], k3[..., c if k3.shape[2] > 1 else 0], **conv)
            for c, name in enumerate("RGB")}


def keras_notes(padding, stride: int, dilation: int, boundary: str, flip: bool) -> list[str]:
    """What in a lab setting a Keras `Conv2D` layer does not offer, and what would compute it."""
    notes = []
    if padding == "full" or isinstance(padding, int):
        notes.append("Keras' Conv2D pads only 'valid' or 'same'; this padding is computed by "
                     "`tf.nn.conv2d` with explicit padding, or a ZeroPadding2D layer before a "
                     "'valid' Conv2D.")
    if stride > 1 and dilation > 1:
        notes.append("Keras' Conv2D refuses a stride above 1 together with a dilation above 1; "
                     "the same output comes from the image padded as here, a dilated 'valid' "
                     f"convolution at stride 1 (`tf.nn.conv2d`), then one output in {stride} "
                     "along each axis.")
    if boundary != "zeros":
        notes.append(f"Keras pads with zeros; a '{boundary}' border is computed by `tf.pad` "
                     f"(mode '{boundary.upper()}') followed by a 'valid' Conv2D."
                     if boundary in ("reflect", "symmetric") else
                     "Keras pads with zeros; a wrapped border needs the image tiled around "
                     "itself before a 'valid' Conv2D.")
    if flip:
        notes.append("Keras computes correlation; a Conv2D whose kernel is this one rotated by "
                     "180° computes this true convolution.")
    return notes
