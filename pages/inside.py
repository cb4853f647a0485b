import numpy as np
import streamlit as st

from cnnviz import introspect, pictures, plots
from cnnviz.ui import choice, resources, shell
from cnnviz.ui.inputs import model_input
from cnnviz.ui.inside import dream_panel, sanity_panel, unit_panel, weights_table
from cnnviz.ui.widgets import explanation_maps, layer_table

shell.routed()
st.title("Inside the network")
st.caption("What a trained network has learned, and what it looks at when it decides.")
label = choice.picker("inside_model")
probe = choice.load(label)
if probe is None:
    st.stop()
ref = choice.ref(label)
summary = resources.model_summary(ref)
with st.expander(f"{label}: {len(summary['layers'])} layers, {summary['total_params']:,} "
                 "parameters", icon=":material/layers:"):
    layer_table(summary, "inside_layers")



filters_tab, maps_tab, unit_tab, dream_tab, saliency_tab = st.tabs(
    ["Filters", "Feature maps", "One unit", "Activation maximization", "Saliency and Grad-CAM"])
convs = dict(introspect.conv_layers(probe.model))
NO_CONV = "This model has no conv layers: "

with filters_tab:
    if not convs:
        st.info(NO_CONV + "it has no filters to show. Its dense layers' weights are in the "
                "layer table above.", icon=":material/info:")
    else:
        name = st.selectbox("Conv layer", list(convs), key="inside_filters_layer")
        kernel = convs[name].kernel.numpy()
        channel = 0
        if kernel.shape[2] == 3:  # colour input: one filter is an RGB picture
            shown = kernel
        else:
            channel = 0 if kernel.shape[2] == 1 else st.slider(
                "Input channel", 0, kernel.shape[2] - 1, 0, key="inside_filters_channel",
                help="Each filter has one 2-D slice per input channel.")
            shown = kernel[:, :, channel:channel + 1]
        st.caption(f"{kernel.shape[-1]} filters of {kernel.shape[0]}×{kernel.shape[1]}×"
                   f"{kernel.shape[2]}: red weights add, blue subtract.")
        st.image(pictures.png(pictures.filters(shown)))
        if st.toggle("Show the weights", key="inside_filters_numbers"):
            st.dataframe(weights_table(shown, channel), hide_index=True, key="inside_filters_table")
        st.plotly_chart(plots.weight_histogram(kernel), key="inside_histogram", width="stretch")

with maps_tab:
    image, caption = model_input("inside_maps")
    if image is not None:
        probs, maps = probe(image)
        st.caption(f"Input: {caption}. The model says {int(np.argmax(probs))} "
                   f"({probs.max():.1%}).")
        if not maps and convs:  # a graph the app cannot look inside
            st.info("This model's graph cannot be looked inside (a model nested in a "
                    "branching graph); the prediction above is all there is.",
                    icon=":material/info:")
        elif not maps:
            st.info(NO_CONV + "no layer outputs a map. Its prediction above uses the pixels "
                    "as one vector.", icon=":material/info:")
        else:
            layer = st.selectbox("Layer", list(maps), key="inside_maps_layer")
            st.caption(f"{layer}: {' × '.join(map(str, maps[layer].shape))} "
                       "(height × width × maps)")
            st.image(pictures.png(pictures.feature_maps(maps[layer], max_channels=64)))

with unit_tab:
    st.caption("Any unit of any conv, pooling or dense layer, worked out for this input: the "
               "numbers it reads, the learned weights, their products and sums, the bias and "
               "the activation, adding up to exactly what Keras computed.")
    image, caption = model_input("inside_unit")
    if image is not None:
        unit_panel(label, probe, image, "inside_unit")

with dream_tab:
    st.caption("Start from noise and change the pixels, step by step, to raise one class's "
               "score (before the softmax) or one filter's total response. Regularisers keep "
               "the result smooth and image-like.")
    dream_panel(label, probe, "inside_dream")

with saliency_tab:
    image, caption = model_input("inside_saliency")
    if image is not None:
        probs = probe.probabilities(image)
        options = [f"{c} ({p:.1%})" for c, p in enumerate(probs)]
        cls = options.index(st.selectbox("Explain the score of class", options,
                                         index=int(np.argmax(probs)),
                                         key="inside_saliency_class"))
        layer = None
        if convs:
            layer = st.selectbox("Grad-CAM layer", list(convs), index=len(convs) - 1,
                                 key="inside_saliency_layer")
        maps = explanation_maps(ref, image, cls, layer)
        if maps:
            st.image(pictures.png(pictures.overlays(image[..., 0], maps)))
            st.caption("Gradient: how much each pixel would change the score. SmoothGrad: the "
                       "same, averaged over noisy copies. Grad-CAM: which regions of the "
                       "layer's maps support the class.")
        sanity_panel(label, image, cls, layer, "inside_sanity")
