"""The only module that imports streamlit: cached resources, shared widgets, session keys."""

from __future__ import annotations

import streamlit as st

from cnnviz import data, models
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


def dataset_notice(ds: data.Dataset) -> None:
    """Say plainly when a page works on the bundled sample instead of the full dataset."""
    if ds.is_sample:
        st.warning(ds.message, icon=":material/cloud_off:")


# One list drives both the navigation and the Home page's guide, so they cannot disagree.
# The first page is the default: the one a demo opens on.
PAGES = [
    ("pages/draw.py", "Draw", ":material/draw:",
     "draw a digit and watch the network classify it: each preprocessing stage, the "
     "probabilities and the feature maps of every layer."),
    ("pages/home.py", "About", ":material/info:",
     "what each page teaches, the shipped model's card and the datasets."),
]
PAGE_GUIDE = [(title, what) for path, title, _, what in PAGES if path != "pages/home.py"]


def navigation():
    pages = [st.Page(path, title=title, icon=icon, default=i == 0)
             for i, (path, title, icon, _) in enumerate(PAGES)]
    return st.navigation(pages)


# --- models ----------------------------------------------------------------------------------

SHIPPED_LABEL = "LeNet-5 (shipped)"


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def probe(path: str, mtime: float) -> "explain.Probe":  # noqa: F821 - mtime keys the cache
    from cnnviz import explain

    model = models.load(path)
    models.check_input(model, (28, 28, 1))
    return explain.Probe(model)


def model_choices() -> dict[str, str]:
    from cnnviz import training

    choices = {SHIPPED_LABEL: str(models.SHIPPED_MODEL)}
    choices.update({f"Run {run.name}": str(run / "model.keras") for run in training.list_runs()})
    choices.update({f"Upload {name}": path
                    for name, path in st.session_state.get("uploaded_models", {}).items()})
    return choices


def model_picker(key: str):
    """Sidebar: choose the shipped model, a trained run or an uploaded .keras file.

    Returns (label, Probe), or (label, None) after showing why the model cannot be used."""
    with st.sidebar:
        upload = st.file_uploader("Add a .keras model", type=["keras"], key=f"{key}_upload")
        if upload is not None:
            _add_uploaded_model(upload, key)
        choices = model_choices()
        if st.session_state.get(key) not in choices:
            st.session_state[key] = SHIPPED_LABEL
        label = st.selectbox("Model", list(choices), key=key)
    path = choices[label]
    try:
        return label, probe(path, _mtime(path))
    except models.ModelError as err:
        st.error(f"{label} cannot classify 28×28 digits: {err}. Choose another model.")
        return label, None


def _mtime(path: str) -> float:
    import os

    return os.path.getmtime(path)


def _add_uploaded_model(upload, key: str) -> None:
    """Validate an uploaded model once (through the cached probe) and remember the verdict,
    so reruns neither reload it nor write it to disk again."""
    import tempfile
    from pathlib import Path

    uploaded = st.session_state.setdefault("uploaded_models", {})
    rejected = st.session_state.setdefault("rejected_models", {})
    if upload.name in uploaded:
        return
    if upload.name not in rejected:
        path = Path(tempfile.mkdtemp(prefix="cnnviz-upload-")) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            probe(str(path), _mtime(str(path)))
        except models.ModelError as err:
            rejected[upload.name] = str(err)
        else:
            uploaded[upload.name] = str(path)
            st.session_state[key] = f"Upload {upload.name}"
            return
    st.error(rejected[upload.name])


# --- inputs ----------------------------------------------------------------------------------


def canvas(key: str, stroke_width: int):
    """A 280x280 black canvas with white ink, like MNIST; RGBA pixels or None before a stroke."""
    from streamlit_drawable_canvas import st_canvas  # registers a component: only in a page

    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF",
                       background_color="#000000", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=key)
    return result.image_data


def uploaded_digit(key: str):
    """An uploaded photo or scan of a digit as an array, or None (with an error shown)."""
    from cnnviz import preprocess

    upload = st.file_uploader("Photo or scan of one digit",
                              type=[suffix[1:] for suffix in preprocess.IMAGE_SUFFIXES],
                              key=key)
    if upload is None:
        return None
    try:
        img = preprocess.open_image(upload.getvalue(), upload.name)
        return preprocess.pil_to_array(img)
    except preprocess.ImageError as err:
        st.error(str(err))
        return None


def random_test_digit(key: str):
    """A random MNIST test digit (28x28 in [0,1]) with its label, kept across reruns."""
    import numpy as np

    ds = dataset("mnist")
    dataset_notice(ds)
    if st.button("Another test digit", key=f"{key}_next", icon=":material/casino:") \
            or key not in st.session_state:
        st.session_state[key] = int(np.random.default_rng().integers(len(ds.y_test)))
    i = st.session_state[key]
    st.caption(f"MNIST test image #{i}: labelled **{ds.y_test[i]}**")
    return ds.x_test[i, ..., 0], int(ds.y_test[i])
