import numpy as np
import streamlit as st

from cnnviz import context_plots, embedding, pictures, preprocess
from cnnviz.ui import choice, inputs, resources, shell
from cnnviz.ui.draw import brush, canvas

shell.routed()
st.title("Where your drawing sits")
st.caption("Every test image as the network sees it, one point each: the features of one layer, "
           "laid out so that images the network finds alike land close together. Draw, and "
           "your drawing joins them.")
label = choice.picker("map_model")
probe = choice.load(label)
if probe is None:
    st.stop()
ref, trained_on = choice.ref(label), choice.trained_on(label)
try:
    layers = embedding.feature_layers(probe.model)
except embedding.EmbeddingError as err:
    st.info(f"No map for this model: {err}.", icon=":material/info:")
    st.stop()

a, b = st.columns(2)
layer = a.selectbox("Features of layer", layers, index=len(layers) - 1, key="map_layer",
                    help="The last one before the classifier (the default) is what the "
                         "network's final decision reads.")
try:
    mapper = resources.mapper(ref, layer)
except embedding.EmbeddingError as err:
    st.error(f"No map of {layer}: {err}.")
    st.stop()
n_test = len(resources.dataset(trained_on).y_test)
fits = min(n_test, mapper.max_images())  # a wide conv layer holds fewer images
sizes = [n for n in (1_000, 2_000, 5_000, 10_000) if n < fits] + [fits]
if len(sizes) == 1:
    n = sizes[0]
    b.caption(f"{n:,} test images on the map: "
              + ("all there are." if n == n_test else f"as many as {mapper.size:,} features "
                 "each allow."))
else:
    n = b.select_slider("Test images on the map", sizes, value=min(5_000, sizes[-1]),
                        key="map_size", format_func="{:,}".format)
emb = resources.embedding_map(ref, layer, trained_on, n)
ds = resources.dataset(trained_on)
names = ds.class_names
st.caption(f"{n:,} test images of {ds.info.title} by their {emb.features.shape[1]:,} features at "
           f"{layer}, projected onto the two directions in which those features vary most "
           f"(PCA; together {emb.projection.explained.sum():.0%} of the variance). Colour is the "
           "label, a cross a test image the model gets wrong. Hover a point for its labels, "
           "click it to see the image. The nearest test images are measured in all "
           f"{emb.features.shape[1]:,} features, so a ringed point can sit away from the star: "
           "the flat map leaves out the rest of the variance.")


def neighbours(located) -> None:
    """The nearest test images in feature space, with their labels and the model's answers."""
    idx = located.neighbours
    titles = [f"{names[emb.labels[i]]}" + ("" if emb.labels[i] == emb.predictions[i] else
                                           f" (says {names[emb.predictions[i]]})") for i in idx]
    st.image(pictures.png(pictures.image_sheet(ds.x_test[idx], titles, cols=4, tile_px=72)))
    st.caption(f"Its {len(idx)} nearest test images in feature space, nearest first, with "
               "their labels (and the model's answer where it is wrong); ringed on the map.")


def clicked(event) -> None:
    points = event.selection.points if event and event.selection else []
    if not points or "customdata" not in points[0]:
        return
    i = int(np.ravel(points[0]["customdata"])[0])
    st.image(pictures.png(pictures.image_sheet(ds.x_test[i:i + 1], [f"#{i}"], 1, 112)))
    st.caption(f"Test image #{i}: a {names[emb.labels[i]]}; the model says "
               f"{names[emb.predictions[i]]}.")


# A stroke reruns only this fragment: the map is cached, the drawing's point is one call.
@st.fragment
def drawing_on_the_map() -> None:
    left, right = st.columns([1, 1.9], gap="large")
    with left:
        # the Draw page's canvas key: one drawing, whichever page it was drawn on
        image = canvas("draw_canvas", brush("map_brush"))
        result = preprocess.preprocess(image) if image is not None else None
        located = None
        if result is not None and result.ok:
            inputs.keep_drawing(result.model_input[..., 0])
            located = mapper.locate(emb, result.model_input, k=8)
            digit = int(np.argmax(located.probabilities))
            c1, c2 = st.columns(2)
            c1.metric("The network says", names[digit])
            c2.metric("Confidence", f"{located.probabilities[digit]:.1%}")
            if probe.applies_softmax:
                st.caption("This model outputs scores (logits); the page applies a softmax.")
            neighbours(located)
        elif result is not None and result.status == "too_small":
            st.warning(result.message, icon=":material/zoom_in:")
        else:
            thing = "a digit" if trained_on == "mnist" else f"something from {ds.info.title}"
            st.info(f"Draw {thing}: a star marks where it lands.", icon=":material/draw:")
    with right:
        fig = context_plots.embedding_map(
            emb.points, emb.labels, emb.predictions, names, emb.projection.explained,
            drawing=None if located is None else located.point,
            neighbours=None if located is None else located.neighbours)
        event = st.plotly_chart(fig, key="map_chart", width="stretch", on_select="rerun",
                                selection_mode="points")
        clicked(event)


drawing_on_the_map()
