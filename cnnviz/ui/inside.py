"""The Inside page's panels: one unit worked out, activation maximization, and the numbers
behind the filters."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.ui import choice
from cnnviz.ui.resources import class_means, dataset, dreamer, top_images


def _settings(key: str):
    from cnnviz import dreams

    d = dreams.DreamSettings()
    with st.expander("Regularisers", icon=":material/tune:"):
        a, b = st.columns(2)
        return dreams.DreamSettings(
            steps=a.slider("Steps", 20, 1000, d.steps, 20, key=f"{key}_steps"),
            learning_rate=b.slider("Step size", 0.005, 0.2, d.learning_rate, 0.005,
                                   key=f"{key}_lr"),
            l2=a.slider("L2 (towards black)", 0.0, 0.02, d.l2, 0.001, key=f"{key}_l2",
                        format="%.3f"),
            total_variation=b.slider("Total variation (smoothness)", 0.0, 0.2,
                                     d.total_variation, 0.01, key=f"{key}_tv"),
            jitter=a.slider("Jitter (px)", 0, 4, d.jitter, key=f"{key}_jitter"),
            blur_every=b.slider("Blur every n steps (0 = never)", 0, 32, d.blur_every,
                                key=f"{key}_blur"),
            scale=a.slider("Random scale (±)", 0.0, 0.3, d.scale, 0.05, key=f"{key}_scale"),
            seed=b.number_input("Seed", 0, 10_000, 0, key=f"{key}_seed"))


def dream_panel(label: str, probe, key: str) -> None:
    """Activation maximization: settings, a run with progress, results with a PNG export."""
    from cnnviz import images, introspect, plots

    convs = [path for path, _ in introspect.conv_layers(probe.model)]
    target = st.selectbox("Maximise", ["each class score", *[f"each filter of {c}" for c in convs]],
                          key=f"{key}_target")
    layer = None if target == "each class score" else target.removeprefix("each filter of ")
    settings = _settings(key)
    ref = choice.ref(label)
    wanted = (ref, layer, settings)
    if st.button("Run", key=f"{key}_run", icon=":material/auto_awesome:", type="primary"):
        from cnnviz.explain import ExplainError

        bar = st.progress(0.0, text="Optimising…")
        try:
            dream = dreamer(ref, layer).run(settings, on_progress=lambda done, total: bar.progress(
                done / total, text=f"Optimising… step {done}/{total}"))
        except ExplainError as err:
            bar.empty()
            st.error(f"No activation maximization for this model: {err}.")
            return
        bar.empty()
        st.session_state[f"{key}_result"] = (wanted, dream)
    stored = st.session_state.get(f"{key}_result")
    if stored is None or stored[0] != wanted:
        st.info("Press Run to optimise one image per target, all at once.",
                icon=":material/auto_awesome:")
        return
    dream = stored[1]
    if layer is None:
        names = dataset(choice.trained_on(label)).class_names
        titles = [f"{n} {dream.probabilities[i, i]:.0%}" for i, n in enumerate(names)]
        refs = class_means(choice.trained_on(label))
        # the model's own verdict on each mean image, not the optimised image's again
        ref_titles = [f"mean {n} {probe.probabilities(refs[i])[i]:.0%}"
                      for i, n in enumerate(names)]
        st.caption(f"{settings.steps} steps in {dream.seconds:.2f} s. Above: the input that "
                   "maximises each class's score, with the probability the model gives it. "
                   "Below: the mean training image of the class, with the probability the model "
                   "gives that.")
    else:
        titles, refs, ref_titles = [f"#{i} ({v:.2f})" for i, v in enumerate(dream.objective)], \
            None, []
        st.caption(f"{settings.steps} steps in {dream.seconds:.2f} s: the input each filter of "
                   f"{layer} responds to most (its summed response in brackets).")
    st.plotly_chart(plots.dream_grid(dream.images, titles, refs, ref_titles), key=f"{key}_grid",
                    width="stretch")
    st.download_button("Download PNG", images.png_bytes(images.tile(dream.images, 10), scale=4),
                       file_name="activation-maximization.png", mime="image/png",
                       key=f"{key}_png", icon=":material/download:")
    natural_images(label, layer, dream)


def natural_images(label: str, layer: str | None, dream, k: int = 5) -> None:
    """Beside each optimised image, the test images that raise the same score most, and their
    mean: people predict a unit best from both (Borowski et al. 2021)."""
    from cnnviz import pictures
    from cnnviz.explain import as_batch

    trained_on = choice.trained_on(label)
    top = top_images(choice.ref(label), layer, trained_on)
    ds = dataset(trained_on)
    kind = "class" if layer is None else "filter"
    size = dream.images.shape[1:]  # test images as the model takes them, like its dreams
    tiles, titles = [], []
    for t in range(len(dream.images)):
        tiles += [dream.images[t], *as_batch(ds.x_test[top.indices[t, :k]], size),
                  *as_batch(top.means[t:t + 1], size)]
        target = ds.class_names[t][:9] if layer is None else f"#{t}"  # fits a 56-px tile
        titles += [target, *[f"{v:.3g}" for v in top.responses[t, :k]], "mean"]
    measure = "score (before the softmax)" if layer is None else "summed response"
    st.markdown(f"**Test images each {kind} likes best**")
    st.caption(f"Each row: the optimised image (titled with its {kind}), then the {k} of the "
               f"{len(ds.y_test):,} test images with the highest {measure} for the same {kind} "
               "(the value above each), and their mean. Synthetic and natural images together "
               "tell more than either.")
    st.image(pictures.png(pictures.image_sheet(np.asarray(tiles), titles, k + 2, tile_px=56)))


def weights_table(kernel, first_channel: int = 0):
    """One row per filter, kernel position and input channel (numbered from
    `first_channel`): the numbers behind the filter pictures."""
    import pandas as pd

    kh, kw, channels, n = kernel.shape
    rows, cols = np.indices((kh, kw))
    return pd.DataFrame({
        "filter": np.repeat(np.arange(n), kh * kw * channels),
        "row": np.tile(np.repeat(rows.ravel(), channels), n),
        "column": np.tile(np.repeat(cols.ravel(), channels), n),
        "channel": np.tile(np.arange(channels) + first_channel, kh * kw * n),
        "weight": np.moveaxis(kernel, -1, 0).reshape(-1)})


def unit_panel(label: str, probe, image: np.ndarray, key: str) -> None:
    """Pick a unit of any conv, pooling or dense layer and see how Keras computed it."""
    from cnnviz import units
    from cnnviz.ui.resources import cutter

    try:
        cut = cutter(choice.ref(label))
    except units.UnitError as err:
        st.info(f"No unit of this model can be worked out: {err}.", icon=":material/info:")
        return
    from cnnviz import pictures

    outputs = cut.outputs(image)  # one forward pass for the picture and the pickers' ranges
    st.image(pictures.png(pictures.network(image, outputs)))
    st.caption("The whole forward pass for this input, left to right: each conv and pooling "
               "layer's maps (the first 8), each dense layer's units (the first 48), each on "
               "its own scale. Pick a unit below to see how Keras computed it.")
    layers = list(cut.layers)
    if not layers:
        st.info("This model has no Conv2D, pooling or Dense layer to look into.",
                icon=":material/info:")
        return
    path = st.selectbox("Layer", layers, index=min(2, len(layers) - 1), key=f"{key}_layer")
    out = outputs[path]
    cols = st.columns(len(out.shape))
    names = ("Row", "Column", "Channel") if out.ndim == 3 else ("Unit",)
    strongest = np.unravel_index(int(np.argmax(np.abs(out))), out.shape)  # more to see than 0
    at = tuple(c.slider(n, 0, size - 1, int(start), key=f"{key}_{n.lower()}") if size > 1 else 0
               for c, n, size, start in zip(cols, names, out.shape, strongest))
    try:
        unit = units.explain(cut, image, path, at)
    except units.UnitError as err:
        st.error(f"{err}.")
        return
    st.metric(f"{path} at {list(at)}", f"{unit.value:.6f}",
              help="The layer's own output for this input, as Keras computed it; the steps "
                   "below add up to it.")
    {units.CONV: _conv_unit, units.POOL: _pool_unit, units.DENSE: _dense_unit}[unit.kind](
        unit, image, probe, cut, key)


def _field(unit, image, probe) -> None:
    from cnnviz import pictures

    padded = _as_model_input(image, probe)
    t, l, b, r = unit.receptive_field
    st.image(pictures.png(pictures.with_box(padded, unit.receptive_field)))
    st.caption(f"It looks at input rows {t}–{b} and columns {l}–{r} ({b - t + 1}×{r - l + 1} "
               "pixels), through every layer before it.")


def _as_model_input(image, probe) -> np.ndarray:
    from cnnviz.explain import as_input

    return as_input(image, probe.input_shape)[0, ..., 0]


def _conv_unit(unit, image, probe, cut, key: str) -> None:
    from cnnviz import plots

    left, right = st.columns([1, 2])
    with left:
        _field(unit, image, probe)
    with right:
        sums = unit.channel_sums
        st.markdown(f"Σ over {len(sums)} input channel(s) of patch × kernel = "
                    f"**{sums.sum():.6f}**; + bias {unit.bias:.6f} = **{unit.pre_activation:.6f}**;"
                    f" {unit.activation} → **{unit.value:.6f}**")
        if len(sums) > 1:
            st.plotly_chart(plots.channel_sums(sums), key=f"{key}_sums", width="stretch")
        top = np.argsort(-np.abs(sums))[:3]
        _lab_button(unit, cut, image, int(top[0]), key)
        st.caption("The channels that contribute most, in full: each input patch times the "
                   "learned kernel slice, the products, and their sum.")
        for c in top:
            st.markdown(f"**Input channel {c}**: sum {sums[c]:.6f}")
            st.plotly_chart(plots.arithmetic(unit.patch[..., c:c + 1], unit.kernel[..., c:c + 1],
                                             (unit.patch * unit.kernel)[..., c:c + 1]),
                            key=f"{key}_arith_{c}", width="stretch")


def _lab_button(unit, cut, image, channel: int, key: str) -> None:
    """Carry one input channel of the unit to the Convolution lab, at the unit's position."""
    from cnnviz.ui.inputs import LabUnit, open_in_lab

    c = st.selectbox("Input channel to open in the Convolution lab", range(len(unit.channel_sums)),
                     index=channel, key=f"{key}_lab_channel")
    if st.button("Open in the Convolution lab", key=f"{key}_lab", icon=":material/blur_on:"):
        layer = cut.layers[unit.layer]
        x, _ = cut.io(image, unit.layer)
        open_in_lab(LabUnit(f"{unit.layer}'s input, channel {c}", x[..., c].astype(np.float64),
                            unit.kernel[..., c].astype(np.float64), int(layer.strides[0]),
                            layer.padding, int(layer.dilation_rate[0]), unit.at[0], unit.at[1],
                            float(unit.channel_sums[c])))


def _pool_unit(unit, image, probe, cut, key: str) -> None:  # noqa: ARG001
    left, right = st.columns([1, 2])
    with left:
        _field(unit, image, probe)
    with right:
        st.markdown(f"The {unit.pooling} of its window in the previous layer's map "
                    "(empty cells are padding, left out):")
        st.dataframe(unit.patch, key=f"{key}_window", hide_index=True)
        st.markdown(f"→ **{unit.value:.6f}**")


def _dense_unit(unit, image, probe, cut, key: str) -> None:  # noqa: ARG001
    from cnnviz import plots

    c = unit.contributions
    st.markdown(f"Σ of {len(c)} inputs × their weights = **{c.sum():.6f}**; + bias "
                f"{unit.bias:.6f} = **{unit.pre_activation:.6f}**; {unit.activation}"
                + (f" over all {len(unit.softmax)} units → **{unit.value:.6f}**"
                   if unit.softmax is not None else f" → **{unit.value:.6f}**"))
    st.plotly_chart(plots.contributions(c), key=f"{key}_contributions", width="stretch")


def sanity_panel(label: str, image: np.ndarray, cls: int, layer: str | None, key: str) -> None:
    """Cascading randomisation (Adebayo et al. 2018): the maps as the layers are re-initialised
    from the output down, and how much each still agrees with the trained model's."""
    from cnnviz import context_plots, pictures
    from cnnviz.explain import ExplainError
    from cnnviz.ui.resources import randomiser

    st.markdown("**Can these maps be trusted?** A map that explains the model must change when "
                "the model's learned weights are replaced by random ones.")
    ref = choice.ref(label)
    wanted = (ref, cls, layer, image.tobytes())
    if st.button("Randomise the layers one by one", key=f"{key}_run", icon=":material/shuffle:"):
        try:
            with st.spinner("Re-initialising each layer and explaining again…"):
                st.session_state[f"{key}_result"] = (wanted, randomiser(ref).run(
                    image, cls, gradcam_layer=layer))
        except ExplainError as err:
            st.error(f"No sanity check for this model: {err}.")
            return
    stored = st.session_state.get(f"{key}_result")
    if stored is None or stored[0] != wanted:
        st.caption("The layers are re-initialised from the output down, as before training, "
                   "one more at each step; the maps are made again for the same class.")
        return
    check = stored[1]
    titles = ["trained", *[f"…{path}" for path in check.steps[1:]]]
    st.image(pictures.png(pictures.heat_rows(check.maps, titles, tile_px=72)))
    st.plotly_chart(context_plots.sanity_curves(titles, check.correlation),
                    key=f"{key}_curves", width="stretch")
    final = ", ".join(f"{m} {c[-1]:+.2f}" for m, c in check.correlation.items())
    st.caption("Each column re-initialises one more layer (…name: down to that layer). "
               f"Rank correlation with the trained map once every layer is random: {final}. "
               "A method whose map stays close to the trained one is showing the input (its "
               "edges and ink) more than what the network learned.")
