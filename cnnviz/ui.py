"""The only module that imports streamlit: cached resources, shared widgets, session keys."""

from __future__ import annotations

import numpy as np
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
    ("pages/conv.py", "Convolution lab", ":material/blur_on:",
     "apply kernels (blur, Sobel, Laplacian, LeNet's learned filters or your own) to images "
     "with every parameter, and step through the arithmetic of any output cell."),
    ("pages/pool.py", "Pooling lab", ":material/grid_view:",
     "max and average pooling window by window, the output size formula, and why pooling "
     "makes a network tolerate small shifts."),
    ("pages/home.py", "About", ":material/info:",
     "what each page teaches, the shipped model's card and the datasets."),
]
PAGE_GUIDE = [(title, what) for path, title, _, what in PAGES if path != "pages/home.py"]


def navigation():
    pages = [st.Page(path, title=title, icon=icon, default=i == 0)
             for i, (path, title, icon, _) in enumerate(PAGES)]
    return st.navigation(pages)


def routed() -> None:
    """Call first in every page. Streamlit treats a `pages/` folder as a legacy multipage app
    until some session runs `st.navigation`; a deep link (/conv) opened first on a fresh server
    would run the page bare, without app.py's layout and menu. Switch to the router and rerun."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        navigation()
        st.rerun()


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
    ds = dataset("mnist")
    dataset_notice(ds)
    if st.button("Another test digit", key=f"{key}_next", icon=":material/casino:") \
            or key not in st.session_state:
        st.session_state[key] = int(np.random.default_rng().integers(len(ds.y_test)))
    i = st.session_state[key]
    st.caption(f"MNIST test image #{i}: labelled **{ds.y_test[i]}**")
    return ds.x_test[i, ..., 0], int(ds.y_test[i])


# --- lab inputs and step-through -------------------------------------------------------------

LAB_DATASETS = {"MNIST digit": "mnist", "Fashion-MNIST item": "fashion_mnist",
                "CIFAR-10 image": "cifar10"}
PHOTO = "Photo (Chelsea the cat)"


def lab_image(key: str, *, colour: bool = True):
    """An input for the Conv and Pool labs: (H, W) or (H, W, 3) floats in [0, 1] and a caption,
    or (None, None) after saying why there is none."""
    from cnnviz import preprocess

    sources = (["Your drawing"] if "drawing" in st.session_state else []) + \
        [label for label, name in LAB_DATASETS.items() if data.available(name)] + \
        [PHOTO, "Upload"]
    source = st.selectbox("Input image", sources, key=f"{key}_source")
    if source == "Your drawing":
        return st.session_state["drawing"], "the 28×28 input made from your drawing"
    if source in LAB_DATASETS:
        ds = (bundled_sample if LAB_DATASETS[source] != "cifar10" else dataset)(
            LAB_DATASETS[source])
        i = st.slider("Test image #", 0, len(ds.y_test) - 1, 0, key=f"{key}_index")
        img = ds.x_test[i]
        caption = f"{ds.info.title} test image #{i}: {ds.class_names[ds.y_test[i]]}"
        return (img[..., 0] if img.shape[2] == 1 else _colour(img, colour, key)), caption
    if source == PHOTO:
        from PIL import Image

        img, caption = Image.open(data.SAMPLE_PHOTO), "Chelsea the cat (CC0, scikit-image)"
    else:
        upload = st.file_uploader("An image", key=f"{key}_upload",
                                  type=[suffix[1:] for suffix in preprocess.IMAGE_SUFFIXES])
        if upload is None:
            st.info("Choose an image file to filter.", icon=":material/upload:")
            return None, None
        try:
            img = preprocess.open_image(upload.getvalue(), upload.name)
        except preprocess.ImageError as err:
            st.error(str(err))
            return None, None
        caption = upload.name
        if max(img.size) > preprocess.MAX_SIDE:
            st.info(f"{upload.name} is {img.width}×{img.height}: downscaled to fit "
                    f"{preprocess.MAX_SIDE} px first.", icon=":material/photo_size_select_large:")
    side = st.slider("Working size (longest side, px)", 16, 512, 128, 16, key=f"{key}_side",
                     help="Smaller is faster to draw and easier to read value by value.")
    rgb = preprocess.shrink(preprocess.to_rgb(img), side)
    return _colour(rgb, colour, key), f"{caption}, {rgb.shape[1]}×{rgb.shape[0]}"


def _colour(rgb, colour: bool, key: str):
    if colour and st.toggle("Colour (3 channels)", key=f"{key}_rgb"):
        return rgb
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _step(key: str, shape: tuple[int, int], delta: int) -> None:
    flat = (st.session_state[f"{key}_row"] * shape[1] + st.session_state[f"{key}_col"] + delta)
    st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = \
        divmod(flat % (shape[0] * shape[1]), shape[1])


def cell_picker(key: str, shape: tuple[int, int], playing: bool = False) -> tuple[int, int]:
    """Row and column sliders for an output cell, with step buttons; advances one cell per
    call while `playing`. Positions survive parameter changes when they still fit."""
    for axis, n in (("row", shape[0]), ("col", shape[1])):  # start in the middle: more to see
        st.session_state[f"{key}_{axis}"] = min(st.session_state.get(f"{key}_{axis}", n // 2),
                                                n - 1)
    if playing:
        _step(key, shape, 1)
    c1, c2, c3, c4 = st.columns([3, 3, 1, 1], vertical_alignment="bottom")
    with c1:
        row = _position_slider("Output row", shape[0], f"{key}_row")
    with c2:
        col = _position_slider("Output column", shape[1], f"{key}_col")
    c3.button("Back", icon=":material/skip_previous:", key=f"{key}_prev", help="Previous cell",
              on_click=_step, args=(key, shape, -1), width="stretch")
    c4.button("Step", icon=":material/skip_next:", key=f"{key}_next", help="Next cell",
              on_click=_step, args=(key, shape, 1), width="stretch")
    return row, col


def _position_slider(label: str, n: int, key: str) -> int:
    if n == 1:  # a slider needs a range: one position is just shown
        st.caption(f"{label}: 0 (the only one)")
        return 0
    return st.slider(label, 0, n - 1, key=key)


def kernel_picker(key: str):
    """Named, learned (shipped LeNet-5) or typed-in kernel: (title, {name: 2-D kernel}), or
    (None, None) after saying what is wrong with a typed one."""
    from cnnviz import kernels

    family = st.segmented_control("Kernel", ["Named", "Learned by LeNet-5", "Custom"],
                                  default="Named", key=f"{key}_family") or "Named"
    if family == "Named":
        name = st.selectbox("Named kernel", [*kernels.NAMED, *kernels.MAGNITUDES],
                            index=list(kernels.NAMED).index("Sobel x"), key=f"{key}_named")
        st.caption(kernels.DESCRIPTIONS[name])
        parts = kernels.MAGNITUDES.get(name, (name,))
        return name, {part: kernels.NAMED[part] for part in parts}
    if family == "Learned by LeNet-5":
        learned = kernels.learned_filters(probe(str(models.SHIPPED_MODEL),
                                                _mtime(str(models.SHIPPED_MODEL))).model)
        name = st.selectbox("Filter", list(learned), key=f"{key}_learned")
        st.caption("A 5×5 filter the shipped LeNet-5 learned from MNIST in its first layer.")
        return name, {name: learned[name]}
    text = st.text_area("Kernel values: one row per line", kernels.to_text(kernels.NAMED["Sharpen"]),
                        key=f"{key}_custom", height=150,
                        help=f"1×1 up to {kernels.MAX_SIDE}×{kernels.MAX_SIDE}, any shape; "
                             "numbers separated by spaces or commas.")
    try:
        kernel = kernels.parse(text)
        if st.checkbox("Normalise to sum 1", key=f"{key}_normalise"):
            kernel = kernels.normalise(kernel)
    except kernels.KernelError as err:
        st.error(f"This kernel cannot be used: {err}", icon=":material/grid_off:")
        return None, None
    return f"Custom {kernel.shape[0]}×{kernel.shape[1]}", {"Custom": kernel}


POOL_MATRIX = "3 1 0 2 5 4\n1 7 2 0 1 3\n0 2 8 1 0 6\n4 0 1 3 9 2\n2 5 0 1 2 0\n1 0 3 6 1 4"


def pool_input(key: str):
    """A 2-D map for the Pooling lab: typed values, a feature map of the drawing, or an image.
    Returns (map, caption) or (None, None) after saying why there is none."""
    from cnnviz import kernels

    sources = ["Small matrix"] + (["Feature map of your drawing"]
                                  if "drawing" in st.session_state else []) + ["Image"]
    source = st.segmented_control("Input", sources, default="Small matrix",
                                  key=f"{key}_source") or "Small matrix"
    if source == "Image":
        return lab_image(f"{key}_image", colour=False)
    if source == "Small matrix":
        text = st.text_area("Values: one row per line", POOL_MATRIX, height=170,
                            key=f"{key}_matrix")
        try:
            return kernels.parse(text, what="matrix", max_side=16), "the typed matrix"
        except kernels.KernelError as err:
            st.error(f"This matrix cannot be pooled: {err}", icon=":material/grid_off:")
            return None, None
    shipped = probe(str(models.SHIPPED_MODEL), _mtime(str(models.SHIPPED_MODEL)))
    _, maps = shipped(st.session_state["drawing"][..., None])
    conv_maps = {layer.name: maps[layer.name] for layer in shipped.layers
                 if type(layer).__name__ == "Conv2D"}
    layer = st.selectbox("Layer", list(conv_maps), key=f"{key}_layer")
    channel = st.slider("Channel", 0, conv_maps[layer].shape[-1] - 1, 0, key=f"{key}_channel")
    return conv_maps[layer][..., channel].astype(np.float64), \
        f"{layer} channel {channel} of the shipped LeNet-5 for your drawing"
