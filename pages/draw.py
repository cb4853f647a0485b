import numpy as np
import streamlit as st

from cnnviz import explain, hints, pictures, preprocess
from cnnviz.introspect import shape_text
from cnnviz.ui import choice, inputs, resources, shell
from cnnviz.ui.draw import brush, canvas
from cnnviz.ui.widgets import explanation_maps, pick_one

shell.routed()
DIGITS = [str(d) for d in range(10)]
st.title("Draw a digit")
st.caption("White ink on black, like MNIST. The network classifies it as you draw; below, "
           "every step from your pixels to its answer.")
label = choice.picker("draw_model")


def source_image():
    """The chosen input: (image or None, its true label or None)."""
    source = pick_one("Input", ["Draw", "Upload", "MNIST test digit"], "draw_source")
    if source == "Draw":
        image = canvas("draw_canvas", brush("draw_brush"))
        return source, image, None
    if source == "Upload":
        return source, inputs.uploaded_digit("draw_upload"), None
    return source, *inputs.random_test_digit("draw_mnist_index")


def waiting(source: str, image) -> None:
    """What the answer's place shows before there is anything to classify."""
    if source == "Draw":
        st.info("Draw a digit from 0 to 9 on the canvas: the prediction appears here.",
                icon=":material/draw:")
    elif image is None:
        st.info("Upload a photo or scan of one digit: the prediction appears here.",
                icon=":material/upload:")
    else:
        st.warning("This image is blank: there is no ink to classify.",
                   icon=":material/image_not_supported:")
    st.image(pictures.png(pictures.probability_bars(np.zeros(10), DIGITS)), width=520)
    resources.warm_up()  # the page is drawn: load the model meanwhile, for the first stroke


def headline(probs: np.ndarray, truth) -> None:
    """The prediction and how sure it is: just under the canvas, where a phone shows it."""
    digit = int(np.argmax(probs))
    c1, c2 = st.columns(2)
    c1.metric("Prediction", digit)
    c2.metric("Confidence", f"{probs[digit]:.1%}")
    if explain.is_unsure(probs):
        runner_up = int(np.argsort(probs)[-2])
        st.warning(f"Unsure: {probs[digit]:.0%} for {digit}, {probs[runner_up]:.0%} for "
                   f"{runner_up}. Try drawing it larger or more clearly.", icon=":material/help:")
    if truth is not None:
        (st.success if truth == digit else st.error)(f"The label is {truth}.")


def details(probe, result, probs: np.ndarray) -> None:
    """The probabilities, how the drawing differs from MNIST digits, where the network looked."""
    model_input, digit = result.model_input, int(np.argmax(probs))
    for hint in hints.hints(result.stages):  # a hint, not a refusal: the answer stands
        st.info(hint, icon=":material/lightbulb:")
    st.image(pictures.png(pictures.probability_bars(probs, DIGITS)), width=520)
    st.caption(f"Model: {label}" + (". It outputs scores (logits); the page applies a softmax "
                                    "to show them as probabilities." if probe.applies_softmax
                                    else ""))
    looked = explanation_maps(choice.ref(label), model_input, digit,
                              methods=("SmoothGrad", "Grad-CAM"))
    if looked:
        st.image(pictures.png(pictures.overlays(model_input[..., 0], looked, 120)))
        st.caption(f"Where the network looked for its {digit}: pixels whose change would "
                   "move the score most (SmoothGrad) and the regions of the last conv layer "
                   "that support it (Grad-CAM). More on the Inside page.")


def stages(result, probs: np.ndarray) -> None:
    st.subheader("From pixels to model input")
    st.markdown(
        "As MNIST was made: the ink is " + ("inverted (it was dark on light), "
                                            if result.inverted else "") +
        "cropped to its bounding box, straightened (its slant sheared away: pens lean more "
        "than MNIST's writers did), scaled to fit 20×20 keeping its shape, then placed in "
        "28×28 so that its centre of mass is at the centre. Each stage is drawn with its true "
        "shape.")
    st.image(pictures.png(pictures.stages(result.stages, preprocess.STAGE_TITLES)))
    if st.toggle("Show the numbers", key="draw_numbers",
                 help="The probabilities and the 28×28 values the network reads, as tables."):
        a, b = st.columns([1, 3])
        a.dataframe({"class": DIGITS, "probability": probs}, hide_index=True,
                    key="draw_probs_table",
                    column_config={"probability": st.column_config.NumberColumn(format="%.4f")})
        b.dataframe(result.model_input[..., 0], key="draw_input_table",
                    column_config={str(i): st.column_config.NumberColumn(format="%.2f", width=40)
                                   for i in range(28)})


def feature_maps(maps: dict) -> None:
    st.subheader("Feature maps")
    st.caption("What each convolution and pooling layer computes from this input, one tile per "
               "map on the layer's shared scale (below the tiles): brighter is a stronger "
               "response, and where values are negative, red is positive and blue negative.")
    if not maps:
        st.info("This model has no conv layers, so there are no feature maps to show: it reads "
                "the 28×28 pixels as one long vector.", icon=":material/info:")
        return
    options = {f"{name} {shape_text(m.shape)}": name for name, m in maps.items()}
    layer = pick_one("Layer", list(options), "draw_layer")
    # one layer at a time: each drawing redraws only what is shown
    st.image(pictures.png(pictures.feature_maps(maps[options[layer]])))


# A stroke reruns only this fragment: the browser redraws the drawing's answer, not the page.
@st.fragment
def drawing_and_answer() -> None:
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        source, image, truth = source_image()
    result = preprocess.preprocess(image) if image is not None else None
    with right:
        if result is None or result.status == "blank":
            waiting(source, image)
            return
        if result.status == "too_small":
            st.warning(result.message, icon=":material/zoom_in:")
            return
        probe = choice.load(label)
        if probe is None:
            return
    probs, maps = probe(result.model_input)
    with left:  # first: the answer reaches the browser before the pictures are drawn
        headline(probs, truth)
    with right:
        details(probe, result, probs)
    inputs.keep_drawing(result.model_input[..., 0])  # the labs and Inside start from it
    stages(result, probs)
    feature_maps(maps)


drawing_and_answer()
