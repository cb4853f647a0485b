import urllib.error
import zipfile

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


@pytest.fixture
def fresh_cache():
    """data.load's per-process cache, emptied around the test."""
    data.load.cache_clear()
    yield
    data.load.cache_clear()


def raising(error):
    def loader(name):
        raise error
    return loader


SAMPLE_NOTE = ("Using the bundled sample of {}: 1,000 training and 1,000 test images, "
               "not the full set.")


@pytest.mark.parametrize("name, error, message", [
    ("fashion_mnist", urllib.error.URLError("no network"),
     "Fashion-MNIST could not be downloaded (URLError). " + SAMPLE_NOTE.format("Fashion-MNIST")),
    ("mnist", Exception("URL fetch failure on https://example.org/mnist.npz: None -- no route"),
     "MNIST digits could not be downloaded (Exception). " + SAMPLE_NOTE.format("MNIST digits")),
    ("mnist", TimeoutError(), "MNIST digits could not be downloaded (TimeoutError). "
     + SAMPLE_NOTE.format("MNIST digits")),
])
def test_a_set_that_cannot_be_downloaded_falls_back_to_the_sample(monkeypatch, fresh_cache, name,
                                                                   error, message):
    monkeypatch.setattr(data, "in_keras_cache", lambda n: False)
    monkeypatch.setattr(data, "_keras_load", raising(error))
    ds = data.load(name)
    assert ds.is_sample and ds.message == message
    assert ds.x_test.shape == (1000, 28, 28, 1) and ds.x_test.dtype == np.float32
    assert 0.0 <= ds.x_test.min() and ds.x_test.max() <= 1.0


def test_offline_cifar10_raises_a_clear_message(monkeypatch, fresh_cache):
    monkeypatch.setattr(data, "in_keras_cache", lambda n: False)
    monkeypatch.setattr(data, "_keras_load", raising(urllib.error.URLError("no network")))
    with pytest.raises(data.DatasetUnavailable) as err:
        data.load("cifar10")
    assert str(err.value) == (
        "CIFAR-10 could not be downloaded (URLError). There is no bundled sample for it; "
        "connect to the internet or place the files in the Keras cache (KERAS_HOME/datasets).")


def fake_arrays(n=8, shape=(28, 28)):
    rng = np.random.default_rng(0)
    return ((rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n)),
            (rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n)))


@pytest.mark.parametrize("name, error, kind", [
    ("mnist", zipfile.BadZipFile("File is not a zip file"), "BadZipFile"),  # damaged
    ("mnist", PermissionError(13, "Permission denied", "/srv/keras/mnist.npz"), "PermissionError"),
    ("fashion_mnist", EOFError("Compressed file ended before the end-of-stream marker"),
     "EOFError"),  # a truncated .gz
    # a file failing its hash: Keras deletes it and tries to download it again, offline in vain
    ("mnist", Exception("URL fetch failure on https://example.org/mnist.npz"), "Exception"),
    ("cifar10", ValueError("Incomplete or corrupted file detected."), "ValueError"),
])
def test_a_cached_set_that_cannot_be_read_raises_and_is_not_cached(monkeypatch, fresh_cache,
                                                                   name, error, kind):
    monkeypatch.setattr(data, "in_keras_cache", lambda n: True)
    monkeypatch.setattr(data, "_keras_load", raising(error))
    with pytest.raises(data.DatasetUnavailable) as err:
        data.load(name)
    title = data.info(name).title
    assert str(err.value) == (
        f"{title} is in the Keras cache but could not be read ({kind}); delete its files from "
        "KERAS_HOME/datasets so that they are downloaded again.")
    assert "/srv" not in str(err.value)
    shape = data.info(name).image_shape
    fixed = fake_arrays(shape=shape[:2] if shape[2] == 1 else shape)
    monkeypatch.setattr(data, "_keras_load", lambda n: fixed)  # the owner replaced the file
    ds = data.load(name)  # tried again: the failure was not cached
    assert not ds.is_sample and ds.x_train.shape == (8, *shape)


@pytest.mark.parametrize("name, files, cached", [
    ("mnist", ["mnist.npz"], True),
    ("mnist", [], False),
    ("fashion_mnist", [f"fashion-mnist/{p}-{k}-idx{d}-ubyte.gz" for p in ("train", "t10k")
                       for k, d in (("labels", 1), ("images", 3))], True),
    ("fashion_mnist", ["fashion-mnist/train-labels-idx1-ubyte.gz"], False),  # one of four
    ("cifar10", ["cifar-10-batches-py-target_archive"], True),
    ("cifar10", ["mnist.npz"], False),
])
def test_in_keras_cache_looks_where_keras_keeps_each_set(tmp_path, monkeypatch, name, files,
                                                         cached):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for f in files:
        (tmp_path / "datasets" / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "datasets" / f).write_bytes(b"x")
    assert data.in_keras_cache(name) is cached
    assert data.available(name) is (cached or name != "cifar10")


@requires_data
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_the_linked_real_data_is_in_the_keras_cache(name):
    assert data.in_keras_cache(name)


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
