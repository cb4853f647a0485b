"""The Pooling lab's input: a typed matrix, a feature map of the drawing, or an image."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.ui.inputs import drawing, lab_image
from cnnviz.ui.resources import probe, shipped

POOL_MATRIX = "3 1 0 2 5 4\n1 7 2 0 1 3\n0 2 8 1 0 6\n4 0 1 3 9 2\n2 5 0 1 2 0\n1 0 3 6 1 4"
FEATURE_MAP = "Feature map of your drawing"


def pool_input(key: str):
    """A 2-D map to pool, and its caption; (None, None) after saying why there is none."""
    from cnnviz import introspect, kernels

    sources = ["Small matrix"] + ([FEATURE_MAP] if drawing() is not None else []) + ["Image"]
    # a radio: the options' full names fit the narrow column, where a segmented control cut them
    source = st.radio("Input", sources, key=f"{key}_source")
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
    lenet = probe(shipped())
    _, maps = lenet(drawing()[..., None])
    conv_maps = {path: maps[path] for path, _ in introspect.conv_layers(lenet.model)}
    layer = st.selectbox("Layer", list(conv_maps), key=f"{key}_layer")
    channel = st.slider("Channel", 0, conv_maps[layer].shape[-1] - 1, 0, key=f"{key}_channel")
    return conv_maps[layer][..., channel].astype(np.float64), \
        f"{layer} channel {channel} of the shipped LeNet-5 for your drawing"
