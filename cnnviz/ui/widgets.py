"""Controls and panels that two or more pages share."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import data
from cnnviz.introspect import shape_text


def pick_one(label: str, options: list, key: str, default=None, **kwargs):
    """A segmented control that always has one option selected. Streamlit's own deselects the
    chosen option when it is clicked again, leaving nothing highlighted while a view is shown;
    the last choice is kept outside the widget (which also outlives a visit to another page)
    and put back."""
    kept = f"{key}_kept"
    value = st.session_state.get(key)
    if value not in options:
        value = st.session_state.get(kept)
        value = value if value in options else default if default in options else options[0]
        st.session_state[key] = value
    st.session_state[kept] = value
    return st.segmented_control(label, options, key=key, **kwargs) or value


def dataset_notice(ds: data.Dataset) -> None:
    """Say plainly when a page works on the bundled sample instead of the full dataset."""
    if ds.is_sample:
        st.warning(ds.message, icon=":material/cloud_off:")


def _step(key: str, shape: tuple[int, int], delta: int) -> None:
    flat = (st.session_state[f"{key}_row"] * shape[1] + st.session_state[f"{key}_col"] + delta)
    st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = \
        divmod(flat % (shape[0] * shape[1]), shape[1])


def cell_picker(key: str, output: np.ndarray, playing: bool = False) -> tuple[int, int]:
    """Row and column sliders for a cell of `output`, with step buttons; advances one cell per
    call while `playing`. It starts at the strongest response (more to see than a corner of
    background); positions survive parameter changes when they still fit."""
    shape = output.shape[:2]
    if f"{key}_row" not in st.session_state:  # only then: Play reruns this every step
        start = np.unravel_index(int(np.abs(output).argmax()), shape)
        st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = map(int, start)
    for axis, n in (("row", shape[0]), ("col", shape[1])):
        st.session_state[f"{key}_{axis}"] = min(st.session_state[f"{key}_{axis}"], n - 1)
    if playing:
        _step(key, shape, 1)
    c1, c2 = st.columns(2)
    with c1:
        row = _position_slider("Output row", shape[0], f"{key}_row")
    with c2:
        col = _position_slider("Output column", shape[1], f"{key}_col")
    with st.container(horizontal=True):  # own row: beside the sliders the labels were cut
        st.button("Back", icon=":material/skip_previous:", key=f"{key}_prev",
                  help="Previous cell", on_click=_step, args=(key, shape, -1))
        st.button("Step", icon=":material/skip_next:", key=f"{key}_next", help="Next cell",
                  on_click=_step, args=(key, shape, 1))
    return row, col


def _position_slider(label: str, n: int, key: str) -> int:
    if n == 1:  # a slider needs a range: one position is just shown
        st.caption(f"{label}: 0 (the only one)")
        return 0
    return st.slider(label, 0, n - 1, key=key)


# Optional columns of a layer table, from a layer of a ModelSummary dict (None: not counted).
LAYER_COLUMNS = {
    "multiply-adds": lambda layer: layer["macs"],
    "FLOPs": lambda layer: layer["flops"],
    "activation memory (KB)": lambda layer: None if layer["activation_bytes"] is None
    else round(layer["activation_bytes"] / 1024, 1),
}



def layer_table(summary: dict, key: str, columns=(), types: bool = True) -> None:
    """Each layer's name, type, output shape and parameters, plus the chosen LAYER_COLUMNS."""
    import pandas as pd

    st.dataframe(pd.DataFrame([{
        "layer": layer["name"], **({"type": layer["type"]} if types else {}),
        "output shape": shape_text(layer["output_shape"]),
        "parameters": layer["params"], **{c: LAYER_COLUMNS[c](layer) for c in columns}}
        for layer in summary["layers"]]), hide_index=True, width="stretch", key=key,
        column_config={c: st.column_config.NumberColumn(format="localized")
                       for c in ("parameters", "multiply-adds", "FLOPs")})
    if summary["not_counted"] and columns:
        st.caption("Not counted (left empty): " + ", ".join(summary["not_counted"]) +
                   ". Their arithmetic depends on the input's size, or the counter does not "
                   "know their type.")


def explanation_maps(ref, image: np.ndarray, cls: int, layer: str | None = None,
                     methods=("Gradient", "SmoothGrad", "Grad-CAM")) -> dict:
    """The chosen saliency maps for class `cls` of the model `ref`; Grad-CAM is left out (with
    a note) when the model has no conv layer, since it explains a conv layer's maps."""
    from cnnviz import explain
    from cnnviz.ui.resources import explainer

    e = explainer(ref)
    compute = {"Gradient": lambda: e.gradient(image, cls),
               "SmoothGrad": lambda: e.smoothgrad(image, cls),
               "Grad-CAM": lambda: e.gradcam(image, cls, layer)}
    maps = {}
    for method in methods:
        if method == "Grad-CAM" and not e.conv_paths:
            st.caption("Grad-CAM needs a conv layer; this model has no conv layers.")
            continue
        try:
            value = compute[method]()
        except explain.ExplainError as err:
            st.error(f"No {method} for this model: {err}.")
            continue
        maps[f"Grad-CAM ({layer or e.conv_paths[-1]})" if method == "Grad-CAM" else method] = value
    return maps
