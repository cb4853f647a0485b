"""The Convolution lab's kernel picker."""

from __future__ import annotations

import streamlit as st

from cnnviz.ui.resources import probe, shipped
from cnnviz.ui.widgets import pick_one


def kernel_picker(key: str):
    """Named, learned (shipped LeNet-5) or typed-in kernel: (title, {name: 2-D kernel},
    the learned filter or None), or (None, None, None) after saying what is wrong."""
    from cnnviz import kernels

    from cnnviz.ui.inputs import A_UNIT, lab_unit

    if st.session_state.get(f"{key}_source") == A_UNIT:  # the unit's own kernel slice
        unit = lab_unit()
        st.caption(f"Kernel: the learned {unit.kernel.shape[0]}×{unit.kernel.shape[1]} slice of "
                   f"{unit.title}. Without bias and activation, the output cell "
                   f"[{unit.row}, {unit.col}] is this channel's sum in the unit: "
                   f"{unit.channel_sum:.6f}.")
        # one channel's share of the unit: the layer adds its bias and activation after the
        # channels are summed, so here there are none
        return "the unit's kernel slice", {"Unit kernel": unit.kernel}, \
            kernels.LearnedFilter(unit.kernel, 0.0, "none")
    family = pick_one("Kernel", ["Named", "Learned", "Custom"], f"{key}_family",
                      help="Learned: the first-layer filters of the shipped LeNet-5. "
                           "Custom: type your own.")
    if family == "Named":
        name = st.selectbox("Named kernel", [*kernels.NAMED, *kernels.MAGNITUDES],
                            index=list(kernels.NAMED).index("Sobel x"), key=f"{key}_named")
        st.caption(kernels.DESCRIPTIONS[name])
        parts = kernels.MAGNITUDES.get(name, (name,))
        return name, {part: kernels.NAMED[part] for part in parts}, None
    if family == "Learned":
        learned = kernels.learned_filters(probe(shipped()).model)
        name = st.selectbox("Filter", list(learned), key=f"{key}_learned")
        chosen = learned[name]
        st.caption(f"A 5×5 filter the shipped LeNet-5 learned from MNIST in its first layer, "
                   f"with the layer's own bias ({chosen.bias:+.4f}) and "
                   f"{'ReLU' if chosen.activation == 'ReLU' else 'no activation'}: on your "
                   "drawing, with padding valid, the output is the Draw page's map.")
        return name, {name: chosen.kernel}, chosen
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
        return None, None, None
    return f"Custom {kernel.shape[0]}×{kernel.shape[1]}", {"Custom": kernel}, None
