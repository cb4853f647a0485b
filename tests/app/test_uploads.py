"""Uploaded models live in a temporary folder of the session: a replaced upload's file is
removed at once, and the whole folder when the session's state goes."""

import gc

from cnnviz.ui.choice import Uploads


def test_a_replaced_upload_is_removed_and_the_new_one_is_a_new_file():
    store = Uploads()
    first = store.store("m.keras", "id-1", b"first")
    second = store.store("m.keras", "id-2", b"second")
    assert not first.exists() and second.read_bytes() == b"second"
    assert first != second  # a new path: caches keyed by the file see a new model
    store.forget("m.keras")
    assert not second.exists() and store.paths == {}


def test_the_folder_goes_with_the_session():
    store = Uploads()
    store.store("m.keras", "id-1", b"model")
    folder = store.folder
    assert folder.is_dir()
    del store  # what happens to session state when its session ends
    gc.collect()
    assert not folder.exists()
