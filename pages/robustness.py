import streamlit as st

from cnnviz import corruptions, data
from cnnviz.augmentation import Geometry
from cnnviz.ui import choice, shell
from cnnviz.ui.inputs import model_input
from cnnviz.ui.robustness import curves_panel, headline, numbers, sliders, views

shell.routed()
st.title("Robustness lab")
st.caption("Shift, turn, shrink, blur, smudge or hide part of a digit and watch the answer change; "
           "then see how the accuracy on the test set falls as a corruption grows.")
label = choice.picker("robust_model")
probe = choice.load(label)
if probe is None:
    st.stop()
image, caption = model_input("robust")
names = data.info(choice.trained_on(label)).class_names


# A slider reruns only this fragment: the curves below stay as they are.
@st.fragment
def lab(image) -> None:
    left, right = st.columns([1.2, 1], gap="large")
    with right:
        answer = st.container()  # above the sliders, filled once they are read
        strengths, seed = sliders("robust")
    corrupted = corruptions.apply_all(image, strengths, seed)
    probs = probe.probabilities(corrupted[..., None])
    with answer:
        headline(probs, probe.probabilities(image[..., None]), names)
    with left:
        views(probe, image, corrupted, probs, names)
    numbers(probs, corrupted, names, "robust")


if image is not None:
    st.caption(f"Input: {caption}.")
    lab(image[..., 0])

st.subheader("Accuracy as a corruption grows")
g = Geometry()  # what the shipped model's training drew from (its recipe augments)
st.markdown(
    "A network copes with what it saw while it learned. The shipped LeNet-5 was trained on "
    f"digits turned by up to ±{g.rotation:g}°, drawn at {1 / (1 + g.zoom):.2f}–"
    f"{1 / (1 - g.zoom):.2f}× their size, slanted (sheared by up to ±{g.shear:g}), shifted by "
    f"up to {g.shift * 28:.1f} px and drawn thicker or thinner, so its accuracy holds over "
    "those ranges and falls beyond them; a run trained without augmentation falls sooner. "
    "Blur, noise and occlusion were part of neither training: compare the curves to see "
    "whether augmentation helps there too.")
curves_panel(label, probe, "robust_curve")
