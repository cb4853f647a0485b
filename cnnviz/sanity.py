"""A sanity check for saliency maps (Adebayo et al., NeurIPS 2018): re-initialise the model's
layers one by one from the output down (cascading randomisation) and see whether each
explanation changes. A map that still looks the same once the weights are random shows the
input's edges, not what the network learned.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from cnnviz import introspect
from cnnviz.explain import ExplainError, Explainer

GRADIENT, SMOOTHGRAD, GRADCAM = "Gradient", "SmoothGrad", "Grad-CAM"
log = logging.getLogger("cnnviz")


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps' values (ties share their mean rank); 0 when
    either map is constant, as a constant has no order to agree with."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else 0.0


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    sorted_v = v[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_v)) + 1]
    ends = np.r_[starts[1:], len(v)]
    mean_rank = (starts + ends - 1) / 2.0  # 0-based ranks averaged over each run of ties
    ranks = np.empty(len(v))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


@dataclass(frozen=True)
class SanityCheck:
    """Maps of one image and class after each step of the cascade; step 0 is the trained
    model, step i has the top i weighted layers re-initialised."""

    steps: tuple[str, ...]  # "trained", then the path of each layer re-initialised
    maps: dict[str, list[np.ndarray]]  # method -> one map per step
    correlation: dict[str, list[float]]  # method -> rank correlation with step 0, per step


class Randomiser:
    """A copy of the model whose layers can be re-initialised in place: the explanations are
    traced once on the copy and read its variables, so each step costs only the maps."""

    def __init__(self, model):
        import keras

        introspect.classifier(model)
        try:
            self.copy = keras.models.clone_model(model)
        except Exception as err:  # noqa: BLE001 - subclassed or custom models cannot be cloned
            raise ExplainError("this model cannot be copied to randomise its weights") from err
        self.copy.set_weights(model.get_weights())
        self._trained = [np.array(v) for v in self.copy.weights]
        self.explainer = Explainer(self.copy)
        # from the output down: the order in which Adebayo et al. randomise
        self.layers = [(path, layer) for path, layer in introspect.layers_in_order(self.copy)
                       if layer.trainable_weights][::-1]
        self._lock = threading.Lock()  # sessions share one copy: one cascade at a time

    def run(self, image: np.ndarray, cls: int, seed: int = 0, samples: int = 32,
            gradcam_layer: str | None = None) -> SanityCheck:
        """The cascade for one (H, W, C) image and class (Grad-CAM at `gradcam_layer`, by
        default the last conv layer); the copy ends as trained."""
        def maps_now():
            return self._maps(image, cls, samples, gradcam_layer)

        with self._lock:
            try:
                steps, maps = ["trained"], maps_now()
                for i, (path, layer) in enumerate(self.layers):
                    _reinitialise(layer, seed + i)
                    steps.append(path)
                    for method, m in maps_now().items():
                        maps[method] += m
            finally:
                self._restore()
        correlation = {method: [rank_correlation(ms[0], m) for m in ms]
                       for method, ms in maps.items()}
        return SanityCheck(tuple(steps), maps, correlation)

    def _maps(self, image, cls, samples, gradcam_layer) -> dict[str, list[np.ndarray]]:
        e = self.explainer
        out = {GRADIENT: [e.gradient(image, cls)],
               SMOOTHGRAD: [e.smoothgrad(image, cls, samples=samples)]}
        if e.conv_paths:
            try:
                out[GRADCAM] = [e.gradcam(image, cls, gradcam_layer)]
            except ExplainError:  # e.g. a branching graph: the other two still tell
                log.info("sanity check without Grad-CAM", exc_info=True)
        return out

    def _restore(self) -> None:
        for v, trained in zip(self.copy.weights, self._trained):
            v.assign(trained)


def _reinitialise(layer, seed: int) -> None:
    """Draw the layer's trainable weights afresh from its own initialisers (the kernel's
    Glorot uniform, the bias's zeros, …), as before training. A weight without an initialiser
    of its own is drawn from a normal with the trained values' spread."""
    rng = np.random.default_rng(seed)
    for i, v in enumerate(layer.trainable_weights):
        name = v.path.rsplit("/", 1)[-1]
        init = getattr(layer, f"{name}_initializer", None)
        if init is not None:
            config = init.get_config()
            if "seed" in config:  # a fixed seed: the same cascade on every run
                init = type(init).from_config(config | {"seed": seed * 16 + i})
            v.assign(init(v.shape, dtype=v.dtype))
        else:
            v.assign(rng.normal(0, float(np.std(v.numpy())) or 0.05, v.shape).astype(v.dtype))
