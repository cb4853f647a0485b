"""Accuracy against the strength of one corruption (MNIST-C style): the first N test images,
corrupted at each strength, classified by the model as `training.evaluate` classifies them, so
that the point at strength 0 is exactly the accuracy `evaluate` reports on those images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import data, introspect
from cnnviz.corruptions import Corruption, apply

DEFAULT_IMAGES = 2000
GREY_DATASETS = ("mnist", "fashion_mnist")  # what the corruptions are made for: 28×28 grey


@dataclass(frozen=True)
class Curve:
    corruption: Corruption
    strengths: tuple[float, ...]
    accuracy: tuple[float, ...]
    images: int

    def at(self, strength: float) -> float:
        return self.accuracy[self.strengths.index(strength)]

    def to_dict(self) -> dict:
        return {"corruption": self.corruption.key, "unit": self.corruption.unit,
                "strengths": list(self.strengths), "accuracy": list(self.accuracy),
                "images": self.images}


def test_images(dataset: data.Dataset, limit: int = DEFAULT_IMAGES):
    """The first `limit` test images (N, 28, 28) and their labels (all when there are fewer)."""
    if dataset.info.name not in GREY_DATASETS:
        raise ValueError(f"{dataset.info.title} has colour images; the corruptions are made for "
                         f"28×28 grey ones ({', '.join(GREY_DATASETS)})")
    return dataset.x_test[:limit, ..., 0], dataset.y_test[:limit]


def curve(model, corruption: Corruption, x: np.ndarray, y: np.ndarray, strengths=None,
          seed: int = 0, on_progress=None) -> Curve:
    """Accuracy of `model` on the images x (N, 28, 28) at each strength (default: the
    corruption's own list). A grey image goes to a colour model repeated into three channels,
    as on the pages. Raises ModelError for a model that cannot classify digits;
    `on_progress(done, total)` after each strength."""
    from cnnviz import training

    channels = introspect.classifier(model).input_shape[-1]
    strengths = tuple(corruption.curve if strengths is None else strengths)
    for s in strengths:
        corruption.check(s)
    predict = training.predictor(model)
    accuracy = []
    for i, s in enumerate(strengths):
        batch = apply(x, corruption, s, seed)[..., None]
        probs = predict(np.repeat(batch, channels, axis=-1) if channels == 3 else batch)
        accuracy.append(float((probs.argmax(1) == y).mean()))
        if on_progress:
            on_progress(i + 1, len(strengths))
    return Curve(corruption, strengths, tuple(accuracy), len(y))
