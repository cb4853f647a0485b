"""Which model the pages that use one (Draw, Inside, Embedding map, Robustness lab) use: the
shipped LeNet-5, a run, an upload.

One choice per session, shared by these pages (a run chosen with "Use on every page" is the
model on all of them), kept outside the widgets' own state: Streamlit forgets a widget's value
when its page is not shown.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from pathlib import Path

import streamlit as st

from cnnviz import models
from cnnviz.ui.resources import ModelRef, probe

SHIPPED_LABEL = "LeNet-5 (shipped)"
_CHOSEN = "chosen_model"
_UPLOADS = "uploaded_models"


class Uploads:
    """A session's uploaded models, in a temporary folder removed with the session (or at
    exit); a replaced upload's file is removed at once."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="cnnviz-upload-"))
        self.paths: dict[str, Path] = {}  # file name -> path on the server
        self.file_ids: dict[str, str] = {}
        self.rejected: dict[str, str] = {}  # file id -> why it cannot be used
        weakref.finalize(self, shutil.rmtree, self.folder, True)

    def store(self, name: str, file_id: str, content: bytes) -> Path:
        old = self.paths.pop(name, None)
        if old is not None:
            old.unlink(missing_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.folder))  # a fresh file: a new ModelRef
        path = folder / Path(name).name
        path.write_bytes(content)
        self.paths[name], self.file_ids[name] = path, file_id
        return path

    def forget(self, name: str) -> None:
        path = self.paths.pop(name, None)
        self.file_ids.pop(name, None)
        if path is not None:
            shutil.rmtree(path.parent, ignore_errors=True)


def uploads() -> Uploads:
    if _UPLOADS not in st.session_state:
        st.session_state[_UPLOADS] = Uploads()
    return st.session_state[_UPLOADS]


def run_label(run_name: str) -> str:
    return f"Run {run_name}"


def labels() -> list[str]:
    from cnnviz import runs

    return [SHIPPED_LABEL, *[run_label(run.name) for run in runs.list_runs()],
            *[f"Upload {name}" for name in uploads().paths]]


def ref(label: str) -> ModelRef:
    """The file behind a model label, derived from the label: no scan of the runs folder."""
    from cnnviz import runs

    if label == SHIPPED_LABEL:
        return ModelRef.of(models.SHIPPED_MODEL)
    if label.startswith("Run "):
        return ModelRef.of(runs.DEFAULT_RUNS_DIR / label.removeprefix("Run ") / "model.keras")
    return ModelRef.of(uploads().paths[label.removeprefix("Upload ")])


def chosen() -> str:
    return st.session_state.get(_CHOSEN, SHIPPED_LABEL)


def choose(label: str) -> None:
    st.session_state[_CHOSEN] = label


def picker(key: str) -> str:
    """Sidebar: choose the shipped model, a trained run or an uploaded .keras file (label)."""
    with st.sidebar:
        upload = st.file_uploader("Add a .keras model", type=["keras"], key=f"{key}_upload")
        if upload is not None:
            _add_upload(upload)
        choices = labels()
        if chosen() not in choices:
            choose(SHIPPED_LABEL)
        st.session_state[key] = chosen()
        return st.selectbox("Model", choices, key=key,
                            on_change=lambda: choose(st.session_state[key]))


def _try_probe(model: ModelRef):
    """(Probe, None), or (None, why it cannot classify digits, in a few words)."""
    try:
        return probe(model), None
    except models.ModelError as err:
        return None, str(err)
    except OSError:
        return None, "its file cannot be read any more (was it deleted?)"
    except Exception as err:  # noqa: BLE001 - any model file: the page goes on, the log has why
        logging.getLogger("cnnviz").exception("model %s could not be used", model.path)
        return None, f"Keras could not run it ({type(err).__name__})"


def load(label: str):
    """The chosen model's Probe, or None after saying why it cannot be used."""
    try:
        model = ref(label)
    except OSError:
        model = None
    found, why = _try_probe(model) if model else (None, "its file is gone")
    if found is None:
        st.error(f"{label} cannot classify 28×28 digits: {why}. Choose another model.",
                 icon=":material/block:")
    return found


def _add_upload(upload) -> None:
    """Validate an uploaded model once (through the cached probe) and remember the verdict, so
    reruns neither reload it nor write it to disk again."""
    store = uploads()
    if store.file_ids.get(upload.name) == upload.file_id:
        return
    if upload.file_id not in store.rejected:
        path = store.store(upload.name, upload.file_id, upload.getvalue())
        found, why = _try_probe(ModelRef.of(path))
        if found is not None:
            choose(f"Upload {upload.name}")
            return
        store.forget(upload.name)
        store.rejected[upload.file_id] = f"{upload.name} cannot classify 28×28 digits: {why}."
    st.error(store.rejected[upload.file_id], icon=":material/block:")


def trained_on(label: str) -> str:
    """The dataset a model learned from: a run says so in its config; others are MNIST."""
    from cnnviz import runs

    if not label.startswith("Run "):
        return "mnist"
    try:
        return runs.read_run(Path(ref(label).path).parent).config["dataset"]
    except (runs.RunError, OSError):
        return "mnist"
