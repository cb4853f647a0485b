import streamlit as st

from cnnviz import lab_pictures, ops, pictures, plots
from cnnviz.ui import shell
from cnnviz.ui.pool import pool_input
from cnnviz.ui.widgets import cell_picker, pick_one

shell.routed()
st.title("Pooling lab")
st.caption("Pooling shrinks a feature map by summarising each window with one number: its "
           "maximum or its mean. It has no weights to learn.")

left, right = st.columns([1, 2.3], gap="large")
with left:
    x, caption = pool_input("pool")
    mode = st.radio("Pooling", ["max", "average", "global max", "global average"],
                    key="pool_mode", horizontal=True)
    glob = mode.startswith("global")
    if not glob:
        size = st.slider("Pool size", 1, 4, 2, key="pool_size")
        stride = st.slider("Stride", 1, 4, size, key="pool_stride",
                           help="Keras' default stride is the pool size: windows do not overlap.")
        padding = pick_one("Padding", ["valid", "same"], "pool_padding")

if x is None:
    st.stop()
if glob:  # one window covering the whole map
    size, stride, padding = x.shape, 1, "valid"
kind = "max" if mode.endswith("max") else "avg"
try:
    pooled = ops.pool2d(x, size, stride=stride, padding=padding, mode=kind)
except ops.OpError as err:
    right.error(f"No output: {err}.", icon=":material/error:")
    st.stop()

with right:
    st.caption(f"Input: {caption}.")
    with st.container(border=True):
        st.markdown("**Output size** = ⌊(n + pad before + pad after − 1·(k − 1) − 1) / s⌋ + 1")
        for axis, n, k in zip(("height", "width"), x.shape, size if glob else (size, size)):
            st.markdown(f"{axis}: {ops.size_formula(n, k, stride, 1, padding)}")
    play = st.toggle("Play", key="pool_play", help="Step through the windows automatically.")

    @st.fragment(run_every=0.8 if play else None)
    def step_through():
        i, j = cell_picker("pool_cell", pooled, playing=play)
        w = ops.pool_window(x, size, i, j, stride=stride, padding=padding, mode=kind)
        st.image(pictures.png(lab_pictures.pool_views(x, pooled, w, (i, j))))
        values = ", ".join(f"{v:.3g}" for v in w["window"].ravel()[:16]) + \
            (", …" if w["window"].size > 16 else "")
        how = "largest" if kind == "max" else f"mean of {w['window'].size}"
        st.markdown(f"Window rows {w['rows'][0]}–{w['rows'][-1]}, columns {w['cols'][0]}–"
                    f"{w['cols'][-1]}: {values} → {how} = **{w['value']:.4f}**")
        c1, c2 = st.columns(2)
        c1.metric("Window value", f"{w['value']:.4f}")
        c2.metric(f"Output [{i}, {j}]", f"{pooled[i, j]:.4f}")

    step_through()

    if not glob:
        st.subheader("Shift the input")
        pixels = st.slider("Move the input right by (px)", 1, 2, 1, key="pool_shift")
        before, after = ops.shift_robustness(x, pixels, size, stride=stride, padding=padding,
                                             mode=kind)
        c1, c2 = st.columns(2)
        c1.metric("Change of the map", f"{before:.0%}")
        c2.metric("Change after pooling", f"{after:.0%}",
                  delta=f"{(after - before) * 100:+.0f} points", delta_color="inverse")
        st.caption("Mean absolute change relative to the mean value. Pooling keeps only each "
                   "window's summary, so a feature that moves within its window changes the "
                   "pooled output less: a small tolerance to translation.")
        moved = ops.shift(x, 0, pixels)
        st.plotly_chart(plots.shift_views({
            "map": x, f"map moved {pixels} px": moved,
            "pooled": pooled,
            "pooled after the move": ops.pool2d(moved, size, stride=stride, padding=padding,
                                                mode=kind)}), key="pool_shift_views",
            width="stretch")
