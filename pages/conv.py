import streamlit as st

from cnnviz import kernels, lab_pictures, ops, pictures, plots
from cnnviz.ui import shell
from cnnviz.ui.conv import kernel_picker
from cnnviz.ui.inputs import lab_image
from cnnviz.ui.widgets import cell_picker, pick_one

shell.routed()
st.title("Convolution lab")
st.caption("Slide a small kernel over an image: each output value is the sum of the kernel's "
           "weights times the pixels under it. Pick any output cell with the sliders to see that "
           "sum worked out.")

left, right = st.columns([1, 2.3], gap="large")
with left:
    image, caption = lab_image("conv")
    title, chosen, learned = kernel_picker("conv")
    with st.expander("Layer parameters", expanded=True, icon=":material/tune:"):
        padding = pick_one("Padding", ["valid", "same", "full", "explicit"], "conv_padding")
        if padding == "explicit":
            padding = st.number_input("Pixels added on each side", 0, 20, 1, key="conv_pad_px")
        stride = st.slider("Stride", 1, 4, 1, key="conv_stride")
        dilation = st.slider("Dilation", 1, 3, 1, key="conv_dilation")
        boundary = st.selectbox("Padding fill", list(ops.BOUNDARIES), key="conv_boundary",
                                help="What the padded border holds: zeros (as Keras does) or "
                                     "copies of the image's edge.")
        if learned is None:
            bias = st.number_input("Bias", -10.0, 10.0, 0.0, 0.1, key="conv_bias")
            activation = pick_one("Activation", ["none", "ReLU"], "conv_activation")
        else:  # the layer's own: the lab computes what the network computed
            bias, activation = learned.bias, learned.activation
        flip = st.radio("Operation", ["correlation (what Keras computes)", "true convolution"],
                        key="conv_mode") == "true convolution"
        st.caption("Deep-learning layers compute correlation. True convolution first rotates "
                   "the kernel by 180°: the two agree for kernels that a 180° rotation leaves "
                   "unchanged (box blur, Gaussian, Laplacian); Sobel and Prewitt kernels flip "
                   "sign, so their outputs do too.")
        for note in kernels.keras_notes(padding, stride, dilation, boundary, flip):
            st.info(note, icon=":material/info:")

if image is None or chosen is None:
    st.stop()
used = {name: kernels.flipped(k) if flip else k for name, k in chosen.items()}
conv = dict(stride=stride, padding=padding, dilation=dilation, boundary=boundary)
try:
    result = kernels.filter_image(image, used, bias=bias, activation=activation, **conv)
except ops.OpError as err:
    right.error(f"No output: {err}.", icon=":material/error:")
    st.stop()

with right:
    st.caption(f"Input: {caption}. Kernel: {title}.")
    k = next(iter(used.values()))
    with st.container(border=True):
        st.markdown("**Output size** = ⌊(n + pad before + pad after − d·(k − 1) − 1) / s⌋ + 1")
        for axis, n, kk in zip(("height", "width"), image.shape, k.shape):
            st.markdown(f"{axis}: {ops.size_formula(n, kk, stride, dilation, padding)}")
    play = st.toggle("Play", key="conv_play", help="Step through the output automatically.")

    @st.fragment(run_every=0.8 if play else None)
    def step_through():
        i, j = cell_picker("conv_cell", result.output, playing=play)
        windows = {name: ops.conv_window(image, kern, i, j, **conv) for name, kern in used.items()}
        first = next(iter(windows.values()))
        shown, pads = ops.padded(image, k.shape[:2], **conv)
        st.image(pictures.png(lab_pictures.conv_views(shown, pads, k, result.output, first,
                                                      (i, j))))
        for name, w in windows.items():
            if len(windows) > 1:
                st.markdown(f"**{name}**")
            st.plotly_chart(plots.arithmetic(w["patch"], w["kernel"], w["products"]),
                            key=f"conv_arith_{name}", width="stretch")
            if w["patch"].shape[2] > 1:
                st.markdown("Channel sums: " + " + ".join(
                    f"{c} {v:.4f}" for c, v in zip("RGB", w["channel_sums"])) +
                    f" = **{w['sum']:.4f}**")
        sums = [w["sum"] for w in windows.values()]
        z = (sum(v ** 2 for v in sums) ** 0.5 if len(sums) > 1 else sums[0]) + bias
        cols = st.columns(4)
        cols[0].metric("Sum of products" if len(sums) == 1 else "√(Σx² + Σy²)",
                       f"{z - bias:.4f}")
        cols[1].metric("+ bias", f"{bias:.4f}")
        cols[2].metric("After ReLU" if activation == "ReLU" else "= z",
                       f"{kernels.activate(z, activation):.4f}")
        cols[3].metric(f"Output [{i}, {j}]", f"{result.output[i, j]:.4f}")

    step_through()
    if image.ndim == 3:
        st.subheader("Per channel")
        st.caption("A conv layer on colour input has one kernel slice per channel and adds "
                   "the three results (then the bias) into one output map.")
        for name, kern in used.items():
            st.plotly_chart(plots.channel_outputs(kernels.per_channel(image, kern, **conv)),
                            key=f"conv_channels_{name}", width="stretch")
