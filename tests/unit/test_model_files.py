"""models.load on files a user might give it: each refused in one sentence naming the file,
and the oversized ones before Keras opens them."""

import zipfile

import keras
import pytest

from cnnviz import models


def zipped(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def keras_must_not_open(monkeypatch):
    def opened(*args, **kwargs):
        raise AssertionError("Keras opened a file that should have been refused")
    monkeypatch.setattr(keras.models, "load_model", opened)


def written(path, content: bytes):
    path.write_bytes(content)
    return path


def folder(path):
    path.mkdir()
    return path


def sparse(path, size):
    with open(path, "wb") as f:  # takes no disk space
        f.truncate(size)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: sparse(d / "big.keras", 101 * 2**20),
     "big.keras is 101 MB; models up to 100 MB can be used here"),
    (lambda d: zipped(d / "bomb.keras", {"model.weights.h5": bytes(2 * 2**20)}),
     "bomb.keras is compressed 1,0[0-9][0-9] to 1, as zip bombs are, so it was not opened"),
    (lambda d: written(d / "junk.keras", b"PK\x03\x04 truncated"),
     r"junk.keras is not a valid .keras file \(it is not a zip archive\)"),
    (lambda d: written(d / "random.keras", bytes(range(256)) * 4),
     r"random.keras is not a valid .keras file \(it is not a zip archive\)"),
    (lambda d: folder(d / "folder.keras"), "folder.keras is a folder, not a .keras file"),
    (lambda d: d / "missing.keras", "no model file named missing.keras was found"),
    (lambda d: sparse(d / "model.h5", 10), r"model.h5 is not a .keras file"),
])
def test_bad_files_are_refused_before_keras_opens_them(tmp_path, keras_must_not_open, make,
                                                       message):
    path = make(folder(tmp_path / "server-secret"))
    with pytest.raises(models.ModelError, match=f"^{message}") as err:
        models.load(path)
    assert "server-secret" not in str(err.value)


def test_a_zip_that_would_unpack_beyond_the_limit_is_refused(tmp_path, monkeypatch,
                                                             keras_must_not_open):
    monkeypatch.setattr(models, "MAX_UNPACKED_BYTES", 4 * 2**20)  # keeps the test file tiny
    path = zipped(tmp_path / "huge.keras", {"config.json": b"{}",
                                            "model.weights.h5": bytes(5 * 2**20)})
    assert path.stat().st_size < 20_000
    with pytest.raises(models.ModelError) as err:
        models.load(path)
    assert str(err.value) == "huge.keras would unpack to 5 MB; the limit is 4 MB"


def test_small_well_compressed_members_are_not_mistaken_for_a_bomb(tmp_path):
    path = zipped(tmp_path / "config-only.keras", {"config.json": b" " * 500_000})
    models.check_archive(path)  # 500 KB of spaces compresses ~1000 to 1, but is no threat
    with pytest.raises(models.ModelError, match="^config-only.keras could not be loaded as a "
                                                "Keras model: "):
        models.load(path)


def test_a_zip_that_is_not_a_keras_model_names_what_is_missing(tmp_path):
    path = zipped(tmp_path / "notes.keras", {"notes.txt": b"hello"})
    with pytest.raises(models.ModelError) as err:
        models.load(path)
    assert str(err.value).startswith("notes.keras could not be loaded as a Keras model: ")
    assert "config.json" in str(err.value) and str(tmp_path) not in str(err.value)


def test_a_saved_model_passes_the_checks_and_loads(tmp_path):
    path = models.save(models.build("lenet5"), tmp_path / "lenet.keras")
    models.check_archive(path)
    assert models.load(path).count_params() == 44_426
