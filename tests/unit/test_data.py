import urllib.error

import numpy as np
import pytest

from cnnviz import data
from tests.conftest import requires_data


@requires_data
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_real_dataset_is_float_nhwc_in_unit_range(name):
    ds = data.load(name)
    assert not ds.is_sample and ds.message is None
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert len(ds.class_names) == 10


@requires_data
def test_loading_is_cached_once_per_process():
    assert data.load("mnist") is data.load("mnist")


@requires_data
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_bundled_sample_is_a_small_stratified_slice_of_the_real_test_set(name):
    path = data.sample_path(name)
    assert path.stat().st_size <= 2_000_000
    sample, real = data.load_sample(name), data.load(name)
    assert sample.is_sample and "bundled sample" in sample.message
    assert np.bincount(sample.y_test).tolist() == [100] * 10
    # every sample image is a real test image with the same label
    flat_real = {img.tobytes(): y for img, y in zip(real.x_test, real.y_test)}
    assert all(flat_real[img.tobytes()] == y for img, y in zip(sample.x_test, sample.y_test))


def _offline(name):
    raise urllib.error.URLError("no network")


def test_offline_mnist_falls_back_to_the_sample_and_says_so(monkeypatch):
    monkeypatch.setattr(data, "_keras_load", _offline)
    data.load.cache_clear()
    try:
        ds = data.load("fashion_mnist")
    finally:
        data.load.cache_clear()
    assert ds.is_sample
    assert "could not be downloaded" in ds.message and "bundled sample" in ds.message
    assert ds.x_test.shape == (1000, 28, 28, 1) and ds.x_test.dtype == np.float32
    assert 0.0 <= ds.x_test.min() and ds.x_test.max() <= 1.0


def test_offline_cifar10_raises_a_clear_message(monkeypatch):
    monkeypatch.setattr(data, "_keras_load", _offline)
    data.load.cache_clear()
    try:
        with pytest.raises(data.DatasetUnavailable, match="CIFAR-10 could not be downloaded"):
            data.load("cifar10")
    finally:
        data.load.cache_clear()


def test_cifar10_layout_from_keras_arrays(monkeypatch):
    """CIFAR-10 is not available offline: check its conversion on generated arrays."""
    rng = np.random.default_rng(0)
    fake = ((rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (8, 1))),
            (rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (4, 1))))
    monkeypatch.setattr(data, "_keras_load", lambda name: fake)
    data.load.cache_clear()
    try:
        ds = data.load("cifar10")
    finally:
        data.load.cache_clear()
    assert ds.x_train.shape == (8, 32, 32, 3) and ds.y_train.shape == (8,)
    np.testing.assert_allclose(ds.x_test * 255, fake[1][0])
    assert ds.class_names[0] == "airplane"


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="mnist, fashion_mnist, cifar10"):
        data.load("imagenet")


def test_fit_to_input_pads_centrally_and_refuses_mismatches():
    x = np.ones((2, 28, 28, 1), np.float32)
    padded = data.fit_to_input(x, (32, 32, 1))
    assert padded.shape == (2, 32, 32, 1)
    assert padded[:, 2:30, 2:30].all() and padded.sum() == x.sum()
    assert data.fit_to_input(x, (28, 28, 1)) is x
    with pytest.raises(ValueError, match="channel"):
        data.fit_to_input(x, (32, 32, 3))
    with pytest.raises(ValueError, match="24x24"):
        data.fit_to_input(x, (24, 24, 1))
