"""Where an input sits among the test images, as the network sees them: one layer's features
(the penultimate by default) of many test images, projected to 2-D with PCA, and the nearest
test images to a new input in that feature space.

PCA rather than t-SNE or UMAP: it is a fixed linear map, so a new drawing lands exactly where
the same map puts it (t-SNE has no transform for new points; UMAP's is approximate and needs
numba and pynndescent), it fits 5,000 points in well under a second, and its axes mean
something a learner can be told: the two directions in which the features vary most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import introspect

# Exact PCA decomposes a features × features covariance; above this many features (a conv
# layer's map) a randomised SVD finds the top two directions far faster.
EXACT_LIMIT = 1024
# Images × features of one map: 20 M float32 values are 80 MB kept, and about twice that in
# float64 while the PCA is fitted; a wide conv layer of 10,000 images would take gigabytes.
MAX_VALUES = 20_000_000
# Layers that only pass values on (noise and dropout are off at inference) or only reshape
# them: their features are the previous layer's again.
SKIPPED = ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Flatten",
           "Reshape")


class EmbeddingError(ValueError):
    """The model or layer cannot give features for a map; the message says why."""


@dataclass(frozen=True)
class Projection:
    """x -> (x - mean) @ components.T: the directions of largest variance, largest first."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (2, d), unit rows
    explained: np.ndarray  # (2,) share of the total variance along each

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, np.float64) - self.mean) @ self.components.T


def fit_pca(features: np.ndarray, dims: int = 2, seed: int = 0) -> Projection:
    """PCA of the rows of `features`. Each direction's sign is fixed so that its largest
    loading is positive: the same data always gives the same picture."""
    x = np.asarray(features, np.float64)
    mean = x.mean(0)
    centred = x - mean
    total = float((centred ** 2).sum())
    if x.shape[1] < dims:  # one feature: the second direction is empty
        centred = np.pad(centred, ((0, 0), (0, dims - x.shape[1])))
    if centred.shape[1] <= EXACT_LIMIT:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(values)[::-1][:dims]
        components, variances = vectors[:, order].T, values[order]
    else:
        components, variances = _randomised_top(centred, dims, seed)
    big = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(dims), big])[:, None]
    explained = np.maximum(variances, 0) / total if total > 0 else np.zeros(dims)
    return Projection(mean, components[:, :x.shape[1]], explained)


def _randomised_top(centred: np.ndarray, dims: int, seed: int, oversample: int = 10,
                    iterations: int = 6):
    """The top right singular vectors by a randomised range finder with power iterations
    (Halko, Martinsson & Tropp 2011): exact to float precision when the spectrum has a gap."""
    rng = np.random.default_rng(seed)
    q = centred @ rng.standard_normal((centred.shape[1], dims + oversample))
    for _ in range(iterations):
        q, _ = np.linalg.qr(q)
        q, _ = np.linalg.qr(centred @ (centred.T @ q))
    _, s, vt = np.linalg.svd(q.T @ centred, full_matrices=False)
    return vt[:dims], s[:dims] ** 2


def nearest(features: np.ndarray, query: np.ndarray, k: int,
            norms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k rows of `features` closest to `query`,
    closest first. `norms`, the rows' squared lengths, saves recomputing them per query."""
    q = np.asarray(query, np.float64).reshape(-1)
    if norms is None:
        norms = squared_norms(features)
    squared = np.maximum(norms - 2 * (features @ q.astype(features.dtype)) + q @ q, 0.0)
    k = min(k, len(features))
    idx = np.argpartition(squared, k - 1)[:k]
    idx = idx[np.argsort(squared[idx], kind="stable")]
    return idx, np.sqrt(squared[idx])


def squared_norms(features: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", features, features, dtype=np.float64)


def feature_layers(model) -> list[str]:
    """Layers whose outputs can be features, in order, the classifier layer excluded; the
    penultimate (the default) is the last of them."""
    layers = [(path, layer) for path, layer in introspect.layers_in_order(model)
              if type(layer).__name__ not in SKIPPED]
    weighted = [i for i, (_, layer) in enumerate(layers) if layer.weights]
    if not weighted:
        raise EmbeddingError("the model has no layer with weights, so it has no features "
                             "of its own to map")
    if weighted[-1] == 0:
        raise EmbeddingError("its classifier is its first layer: it reads the pixels "
                             "themselves, so there are no features of its own to map")
    return [path for path, _ in layers[:weighted[-1]]]


@dataclass(frozen=True)
class Embedding:
    """The map of one model's layer over test images."""

    layer: str
    features: np.ndarray  # (n, d) float32
    norms: np.ndarray  # (n,) squared lengths of the features, for nearest()
    points: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,)
    predictions: np.ndarray  # (n,)
    projection: Projection


@dataclass(frozen=True)
class Located:
    """Where one input lands: its point, its prediction and its nearest test images."""

    point: np.ndarray  # (2,)
    probabilities: np.ndarray  # (10,)
    neighbours: np.ndarray  # indices into the embedding's images, closest first


class Mapper:
    """One model's features at one layer, as a traced function: the map's thousands of images
    in batches, then each new drawing in about a millisecond."""

    def __init__(self, model, layer: str | None = None):
        import tensorflow as tf

        from cnnviz.explain import ExplainError, taps_view

        contract = introspect.classifier(model)
        self.input_shape = contract.input_shape
        layers = feature_layers(model)
        self.layer = layers[-1] if layer is None else layer
        if self.layer not in layers:
            raise EmbeddingError(f"the model has no feature layer {self.layer!r}")
        try:
            view = taps_view(model, [self.layer])
        except ExplainError as err:
            raise EmbeddingError(str(err)) from err
        softmax = not contract.probabilities

        @tf.function(input_signature=[tf.TensorSpec((None, *self.input_shape), tf.float32)])
        def call(x):
            out, feats = view(x, training=False)
            probs = tf.nn.softmax(out) if softmax else out
            return probs, tf.reshape(feats, [tf.shape(x)[0], -1])

        self._call = call
        self.size = int(call(tf.zeros((1, *self.input_shape)))[1].shape[-1])  # features

    def features(self, images: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (n, 10), features (n, d)) of images (n, H, W, C) in [0, 1]."""
        from cnnviz.explain import in_batches

        return in_batches(self._call, images, self.input_shape, batch)

    def max_images(self) -> int:
        """The most images whose features fit MAX_VALUES at this layer."""
        return MAX_VALUES // self.size

    def build(self, images: np.ndarray, labels: np.ndarray) -> Embedding:
        if len(images) > self.max_images():
            raise EmbeddingError(f"{len(images):,} images × {self.size:,} features of "
                                 f"{self.layer} is more than the map holds; at most "
                                 f"{self.max_images():,} images at this layer")
        probs, feats = self.features(images)
        projection = fit_pca(feats)
        return Embedding(self.layer, feats, squared_norms(feats), projection(feats),
                         np.asarray(labels), probs.argmax(1), projection)

    def locate(self, embedding: Embedding, image: np.ndarray, k: int = 8) -> Located:
        """Where one (H, W, C) image lands on the map, and its k nearest test images."""
        probs, feats = self.features(image[None])
        idx, _ = nearest(embedding.features, feats[0], k, embedding.norms)
        return Located(embedding.projection(feats)[0], probs[0], idx)
