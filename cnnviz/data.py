"""Datasets through `keras.datasets`, with a small bundled sample when they cannot be fetched.

Every loader returns float32 NHWC arrays in [0, 1] and integer labels, so models, plots and the
teaching views never have to guess a layout.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_DIR = Path(__file__).parent / "assets" / "samples"

log = logging.getLogger("cnnviz")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    has_sample: bool


DATASETS = {
    "mnist": DatasetInfo(
        "mnist", "MNIST digits", (28, 28, 1), tuple(str(d) for d in range(10)), True
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        "Fashion-MNIST",
        (28, 28, 1),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        True,
    ),
    "cifar10": DatasetInfo(
        "cifar10",
        "CIFAR-10",
        (32, 32, 3),
        ("airplane", "automobile", "bird", "cat", "deer",
         "dog", "frog", "horse", "ship", "truck"),
        False,
    ),
}


class DatasetUnavailable(RuntimeError):
    """The dataset could not be downloaded and no bundled sample exists for it."""


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    is_sample: bool = False
    message: str | None = None  # why the sample is used instead of the full set

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names


def info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}"
        ) from None


def to_nhwc_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N,H,W) or (N,H,W,C) -> float32 (N,H,W,C) in [0, 1]."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    return x[..., None] if x.ndim == 3 else x


def _keras_load(name: str):
    from keras import datasets  # lazy: TensorFlow/Keras import is slow

    return getattr(datasets, name).load_data()


# What keras.datasets keeps in KERAS_HOME/datasets for each set (Keras 3's layout)
KERAS_CACHE_FILES = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": tuple(f"fashion-mnist/{part}-{kind}-idx{dims}-ubyte.gz"
                           for part in ("train", "t10k")
                           for kind, dims in (("labels", 1), ("images", 3))),
    "cifar10": ("cifar-10-batches-py-target_archive",),
}


def keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def in_keras_cache(name: str) -> bool:
    """Whether Keras will read the set from its cache rather than download it."""
    return all((keras_cache() / f).is_file() for f in KERAS_CACHE_FILES[name])


def available(name: str) -> bool:
    """Whether a dataset can be loaded without a download: bundled sample or Keras cache."""
    return info(name).has_sample or in_keras_cache(name)


@functools.lru_cache(maxsize=None)
def load(name: str) -> Dataset:
    """Load a dataset once per process; fall back to the bundled sample when it cannot be
    downloaded. A set that is in the Keras cache but cannot be read (damaged, unreadable, a
    hash mismatch) raises DatasetUnavailable instead: the sample would hide a problem the
    server's owner can fix, and nothing is cached, so the next call tries again."""
    meta = info(name)
    cached = in_keras_cache(name)  # before the call: Keras deletes a file that fails its hash
    try:
        (x_train, y_train), (x_test, y_test) = _keras_load(name)
    except Exception as err:  # noqa: BLE001 - Keras raises many types, even plain Exception
        log.warning("loading %s failed", name, exc_info=True)
        if cached:
            raise DatasetUnavailable(
                f"{meta.title} is in the Keras cache but could not be read "
                f"({type(err).__name__}); delete its files from KERAS_HOME/datasets so that "
                "they are downloaded again."
            ) from err
        return _offline(meta, err)
    return Dataset(
        meta,
        to_nhwc_float(x_train),
        np.asarray(y_train, dtype=np.int64).reshape(-1),
        to_nhwc_float(x_test),
        np.asarray(y_test, dtype=np.int64).reshape(-1),
    )


def _offline(meta: DatasetInfo, err: Exception) -> Dataset:
    """The bundled sample in place of a set that could not be downloaded."""
    reason = f"{meta.title} could not be downloaded ({type(err).__name__})."
    if not meta.has_sample:
        raise DatasetUnavailable(
            f"{reason} There is no bundled sample for it; connect to the internet "
            "or place the files in the Keras cache (KERAS_HOME/datasets)."
        ) from err
    return load_sample(meta.name, message=reason)


# Chelsea the cat, from scikit-image's sample data: CC0 by the photographer, Stefan van der Walt.
SAMPLE_PHOTO = SAMPLE_DIR / "chelsea.png"


def sample_path(name: str) -> Path:
    return SAMPLE_DIR / f"{name}_sample.npz"


def load_sample(name: str, message: str | None = None) -> Dataset:
    """The bundled sample (a slice of the real data) as a Dataset flagged `is_sample`."""
    meta = info(name)
    with np.load(sample_path(name), allow_pickle=False) as f:
        arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    note = f"Using the bundled sample of {meta.title}: {len(arrays['x_train']):,} training and " \
           f"{len(arrays['x_test']):,} test images, not the full set."
    return Dataset(
        meta,
        to_nhwc_float(arrays["x_train"]),
        arrays["y_train"].astype(np.int64),
        to_nhwc_float(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
        is_sample=True,
        message=f"{message} {note}" if message else note,
    )


def write_sample(name: str, n_train: int = 1000, n_test: int = 1000, seed: int = 0) -> Path:
    """Make the bundled sample from the real data (stratified, so every class is present)."""
    (x_train, y_train), (x_test, y_test) = _keras_load(name)
    rng = np.random.default_rng(seed)

    def pick(y, n):
        per_class = n // 10
        idx = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
        return np.sort(np.concatenate(idx))

    tr, te = pick(y_train, n_train), pick(y_test, n_test)
    path = sample_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        x_train=x_train[tr], y_train=y_train[tr].astype(np.uint8),
        x_test=x_test[te], y_test=y_test[te].astype(np.uint8),
    )
    return path


def fit_to_input(x: np.ndarray, input_shape) -> np.ndarray:
    """Zero-pad images to a model's spatial input size (MNIST 28x28 -> LeNet-5 classic 32x32),
    centred (an odd difference puts the extra row or column after). A dynamic (None) size
    takes the images as they are."""
    h, w, c = input_shape[-3:]
    if x.shape[-1] != c:
        raise ValueError(
            f"the model expects {c} channel(s) but the images have {x.shape[-1]}"
        )
    dh = 0 if h is None else int(h) - x.shape[1]
    dw = 0 if w is None else int(w) - x.shape[2]
    if dh < 0 or dw < 0:
        raise ValueError(
            f"the model expects {h}x{w} images but the dataset has "
            f"{x.shape[1]}x{x.shape[2]}"
        )
    if dh == dw == 0:
        return x
    return np.pad(x, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2), (0, 0)))
