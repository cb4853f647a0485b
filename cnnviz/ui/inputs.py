"""Where a page's input image comes from: the drawing, an upload, a dataset image.

The Draw page keeps the model input made from the last drawing in the session; the labs and
the Inside page offer it as "Your drawing".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import data
from cnnviz.ui.resources import bundled_sample, dataset
from cnnviz.ui.widgets import dataset_notice

_DRAWING = "drawing"
YOUR_DRAWING = "Your drawing"
_LAB_UNIT = "lab_unit"
A_UNIT = "A unit from the Inside page"


@dataclass(frozen=True)
class LabUnit:
    """One input channel of a conv unit, carried from the Inside page to the Convolution lab:
    the map the layer read, the learned kernel slice for it, the layer's settings and where."""

    title: str
    image: np.ndarray  # (H, W): the layer's input, this channel
    kernel: np.ndarray  # (kh, kw)
    stride: int
    padding: str
    dilation: int
    row: int
    col: int
    channel_sum: float  # what the lab's output cell must show


def open_in_lab(unit: LabUnit) -> None:
    """Set the Convolution lab up for this unit and go there."""
    st.session_state[_LAB_UNIT] = unit
    for name, value in (("source", A_UNIT), ("padding", unit.padding),
                        ("stride", unit.stride), ("dilation", unit.dilation),
                        ("cell_row", unit.row), ("cell_col", unit.col), ("boundary", "zeros")):
        st.session_state[f"conv_{name}"] = value
    st.switch_page("pages/conv.py")


def lab_unit() -> LabUnit | None:
    return st.session_state.get(_LAB_UNIT)


def drawing() -> np.ndarray | None:
    """The 28×28 model input made from the last drawing on the Draw page, or None."""
    return st.session_state.get(_DRAWING)


def keep_drawing(image: np.ndarray) -> None:
    st.session_state[_DRAWING] = image


def upload_image(label: str, key: str):
    """An uploaded image file as a PIL image, or None (after saying why it cannot be read)."""
    from cnnviz import preprocess

    upload = st.file_uploader(label, key=key,
                              type=[suffix[1:] for suffix in preprocess.IMAGE_SUFFIXES])
    if upload is None:
        return None
    try:
        return preprocess.open_image(upload.getvalue(), upload.name)
    except preprocess.ImageError as err:
        st.error(str(err), icon=":material/broken_image:")
        return None


def uploaded_digit(key: str):
    """An uploaded photo or scan of a digit as an array, or None."""
    from cnnviz import preprocess

    img = upload_image("Photo or scan of one digit", key)
    if img is None:
        return None
    st.image(img, caption="Your upload", width=280)
    return preprocess.pil_to_array(img)


def random_test_digit(key: str):
    """A random MNIST test digit (28x28 in [0,1]) with its label, kept across reruns."""
    ds = dataset("mnist")
    dataset_notice(ds)
    if st.button("Another test digit", key=f"{key}_next", icon=":material/casino:") \
            or key not in st.session_state:
        st.session_state[key] = int(np.random.default_rng().integers(len(ds.y_test)))
    i = st.session_state[key]
    st.image(_enlarged(ds.x_test[i, ..., 0]), width=280)
    st.caption(f"MNIST test image #{i}: labelled **{ds.y_test[i]}**")
    return ds.x_test[i, ..., 0], int(ds.y_test[i])


def _enlarged(image: np.ndarray, scale: int = 10) -> np.ndarray:
    """Nearest-neighbour enlargement: each pixel a sharp square, as the network sees it."""
    return np.kron(np.clip(image, 0, 1), np.ones((scale, scale), np.float32))


def model_input(key: str):
    """A 28x28x1 model input for the Inside page: the drawing, an MNIST test image or an
    upload; with a caption. Returns (None, None) after saying why there is none."""
    from cnnviz import preprocess
    from cnnviz.ui.widgets import pick_one

    sources = ([YOUR_DRAWING] if drawing() is not None else []) + ["MNIST test image", "Upload"]
    source = pick_one("Input", sources, f"{key}_source")
    if source == YOUR_DRAWING:
        return drawing()[..., None], "your drawing"
    if source == "MNIST test image":
        ds = bundled_sample("mnist")
        i = st.slider("Test image #", 0, len(ds.y_test) - 1, 0, key=f"{key}_index")
        return ds.x_test[i], f"MNIST test image #{i} (a {ds.y_test[i]})"
    image = uploaded_digit(f"{key}_upload")
    if image is None:
        return None, None
    result = preprocess.preprocess(image)
    if not result.ok:
        st.warning(result.message)
        return None, None
    return result.model_input, "your upload"


LAB_DATASETS = {"MNIST digit": "mnist", "Fashion-MNIST item": "fashion_mnist",
                "CIFAR-10 image": "cifar10"}
PHOTO = "Photo (Chelsea the cat)"


def lab_image(key: str, *, colour: bool = True):
    """An input for the Conv and Pool labs: (H, W) or (H, W, 3) floats in [0, 1] and a caption,
    or (None, None) after saying why there is none."""
    from cnnviz import preprocess

    unit = lab_unit() if key == "conv" else None
    sources = ([A_UNIT] if unit is not None else []) + \
        ([YOUR_DRAWING] if drawing() is not None else []) + \
        [label for label, name in LAB_DATASETS.items() if data.available(name)] + \
        [PHOTO, "Upload"]
    source = st.selectbox("Input image", sources, key=f"{key}_source")
    if source == A_UNIT:
        return unit.image, unit.title
    if source == YOUR_DRAWING:
        return drawing(), "the 28×28 input made from your drawing"
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
        img = upload_image("An image", f"{key}_upload")
        if img is None:
            st.info("Choose an image file to filter.", icon=":material/upload:")
            return None, None
        caption = "your upload"
        if max(img.size) > preprocess.MAX_SIDE:
            st.info(f"Your image is {img.width}×{img.height}: downscaled to fit "
                    f"{preprocess.MAX_SIDE} px first.", icon=":material/photo_size_select_large:")
    side = st.slider("Working size (longest side, px)", 16, 512, 128, 16, key=f"{key}_side",
                     help="Smaller is faster to draw and easier to read value by value.")
    rgb = preprocess.shrink(preprocess.to_rgb(img), side)
    return _colour(rgb, colour, key), f"{caption}, {rgb.shape[1]}×{rgb.shape[0]}"


def _colour(rgb, colour: bool, key: str):
    if colour and st.toggle("Colour (3 channels)", key=f"{key}_rgb"):
        return rgb
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)
