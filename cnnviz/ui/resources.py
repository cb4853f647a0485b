"""Cached resources shared by every session: datasets, and models behind one identity.

A model is identified by its file and the file's modification time (`ModelRef`), so a run
retrained under the same name, or an upload replaced, is loaded afresh, while every page and
session asking for the same file shares one loaded model and its compiled functions.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import data, models, summary
from cnnviz.files import read_json


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str) -> data.Dataset:
    return data.load(name)


@st.cache_data
def bundled_sample(name: str) -> data.Dataset:
    """The small bundled slice of a dataset: loads without TensorFlow, for quick previews."""
    return data.load_sample(name)


@st.cache_data
def shipped_card() -> dict | None:
    return read_json(models.SHIPPED_CARD) if models.SHIPPED_CARD.exists() else None


@st.cache_data(show_spinner=False)
def class_means(name: str) -> np.ndarray:
    ds = dataset(name)
    return np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(len(ds.class_names))])


@st.cache_data(show_spinner="Building the architecture…")
def architecture_summary(name: str) -> dict:
    return summary.summarize(models.build(name)).to_dict()


# --- models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    """A model file as the caches know it: a new modification time is a new model."""

    path: str
    mtime: float

    @classmethod
    def of(cls, path) -> "ModelRef":
        return cls(str(path), os.path.getmtime(path))


def shipped() -> ModelRef:
    return ModelRef.of(models.SHIPPED_MODEL)


def probe(ref: ModelRef) -> "explain.Probe":  # noqa: F821
    """The model's Probe; raises ModelError when it cannot classify 28×28 digits (several
    inputs or outputs, an output that is not 10 scores, an input that is not an image)."""
    return _probe(ref.path, ref.mtime)


def explainer(ref: ModelRef) -> "explain.Explainer":  # noqa: F821
    return _explainer(ref.path, ref.mtime)


def dreamer(ref: ModelRef, layer: str | None) -> "dreams.Dreamer":  # noqa: F821
    return _dreamer(ref.path, ref.mtime, layer)


def cutter(ref: ModelRef) -> "units.Cutter":  # noqa: F821
    """The model cut at every layer, for working out one unit (raises units.UnitError)."""
    return _cutter(ref.path, ref.mtime)


def model_summary(ref: ModelRef) -> dict:
    return _model_summary(ref.path, ref.mtime)


def mapper(ref: ModelRef, layer: str | None) -> "embedding.Mapper":  # noqa: F821
    """Features at one layer (None: the penultimate); raises embedding.EmbeddingError."""
    return _mapper(ref.path, ref.mtime, layer)


def embedding_map(ref: ModelRef, layer: str | None, dataset_name: str,
                  n: int) -> "embedding.Embedding":  # noqa: F821
    """The first n test images of the dataset mapped once per model, layer and size."""
    return _embedding_map(ref.path, ref.mtime, layer, dataset_name, n)


def top_images(ref: ModelRef, layer: str | None, dataset_name: str) -> "dreams.TopImages":  # noqa: F821
    """The test images that raise each class score (or each filter of `layer`) most."""
    return _top_images(ref.path, ref.mtime, layer, dataset_name)


def randomiser(ref: ModelRef) -> "sanity.Randomiser":  # noqa: F821
    return _randomiser(ref.path, ref.mtime)


# The cached functions take the path and the time separately: Streamlit hashes plain values.
@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _probe(path: str, mtime: float):  # noqa: ARG001 - mtime keys the cache
    from cnnviz import explain

    return explain.Probe(models.load(path))


@st.cache_resource(max_entries=16)
def _explainer(path: str, mtime: float):
    from cnnviz import explain

    return explain.Explainer(_probe(path, mtime).model)


@st.cache_resource(max_entries=16)
def _dreamer(path: str, mtime: float, layer: str | None):
    from cnnviz import dreams

    return dreams.Dreamer(_probe(path, mtime).model, layer)


@st.cache_resource(max_entries=16)
def _cutter(path: str, mtime: float):
    from cnnviz import units

    return units.Cutter(_probe(path, mtime).model)


@st.cache_data(show_spinner=False, max_entries=16)
def _model_summary(path: str, mtime: float) -> dict:
    return summary.summarize(_probe(path, mtime).model).to_dict()


@st.cache_resource(max_entries=8)
def _mapper(path: str, mtime: float, layer: str | None):
    from cnnviz import embedding

    return embedding.Mapper(_probe(path, mtime).model, layer)


# A conv layer's features of 5,000 images take ~70 MB: a few maps at a time.
@st.cache_resource(show_spinner="Mapping the test images…", max_entries=4)
def _embedding_map(path: str, mtime: float, layer: str | None, dataset_name: str, n: int):
    ds = dataset(dataset_name)
    return _mapper(path, mtime, layer).build(ds.x_test[:n], ds.y_test[:n])


@st.cache_resource(show_spinner="Finding the test images each target likes best…",
                   max_entries=16)
def _top_images(path: str, mtime: float, layer: str | None, dataset_name: str):
    return _dreamer(path, mtime, layer).top_images(dataset(dataset_name).x_test)


@st.cache_resource(max_entries=4)
def _randomiser(path: str, mtime: float):
    from cnnviz import sanity

    return sanity.Randomiser(_probe(path, mtime).model)


@dataclass(frozen=True)
class CurveKey:
    """One accuracy curve: the model, the corruption (its key), the test set and its size."""

    model: ModelRef
    corruption: str
    dataset: str
    images: int


class CurveStore:
    """Accuracy curves computed on this server, shared by every session: a curve costs about
    a second per 2,000 images, showing it again nothing. The oldest go beyond `limit`."""

    def __init__(self, limit: int = 512):
        self._curves: OrderedDict = OrderedDict()
        self._limit, self._lock = limit, threading.Lock()

    def get(self, key: CurveKey):
        with self._lock:
            return self._curves.get(key)

    def put(self, key: CurveKey, curve) -> None:
        with self._lock:
            self._curves[key] = curve
            while len(self._curves) > self._limit:
                self._curves.popitem(last=False)


@st.cache_resource
def curves() -> CurveStore:
    return CurveStore()


_warm = threading.Event()


def warm_up() -> None:
    """Load TensorFlow and the shipped model, and trace its explanations, in the background
    once per server: the first page paints at once and the first drawing is answered without
    waiting for imports or tracing."""
    if _warm.is_set():
        return
    _warm.set()
    threading.Thread(target=_warm_up, name="cnnviz-warm-up", daemon=True).start()


def _warm_up() -> None:
    ref, blank = shipped(), np.zeros((28, 28, 1), np.float32)
    explainer(ref).smoothgrad(blank, 0)
    explainer(ref).gradcam(blank, 0)
    dreamer(ref, None)  # the Inside page's first Run: traced already
