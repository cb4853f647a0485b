import numpy as np
import streamlit as st

from cnnviz import data, plots
from cnnviz.ui import resources, shell
from cnnviz.ui.widgets import pick_one

shell.routed()
st.title("cnnviz: how convolutional networks see")
st.markdown(
    "Draw a digit and watch a real network classify it, stage by stage. "
    "Every number on these pages is what Keras computes."
)

st.subheader("Pages")
for page in shell.PAGE_GUIDE:
    st.markdown(f"- **{page.title}**: {page.teaches}")

st.subheader("The shipped model")
card = resources.shipped_card()
if card is None:
    st.error("The pretrained LeNet-5 is missing from cnnviz/assets/. Train it with the command "
             "in the README (section 'The shipped model').")
else:
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{card['test_accuracy']:.2%}")
    cols[1].metric("Parameters", f"{card['params']:,}")
    cols[2].metric("Epochs", card["epochs"])
    cols[3].metric("Trained", card["date"])
    with st.expander("Model card"):
        st.json(card)

st.subheader("The data it learns from")
name = pick_one("Dataset", ["mnist", "fashion_mnist"], "home_dataset",
                format_func=lambda n: data.info(n).title)
sample = resources.bundled_sample(name)
rng = np.random.default_rng(0)
idx = rng.choice(len(sample.y_test), 20, replace=False)
st.plotly_chart(
    plots.image_grid(sample.x_test[idx], [sample.class_names[y] for y in sample.y_test[idx]]),
    key="home_samples", width="stretch",
)
st.caption("Twenty test images with their labels, from the sample bundled with the app.")
