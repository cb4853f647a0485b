import streamlit as st

from cnnviz import models, plots
from cnnviz.ui import shell
from cnnviz.ui.resources import architecture_summary
from cnnviz.ui.widgets import layer_table, pick_one

shell.routed()
st.title("Architectures")
st.caption("Classic CNNs built as Keras models (no weights are downloaded): what each layer "
           "outputs, how many parameters it learns and how much arithmetic it costs.")

NAMES = {"lenet5_classic": "LeNet-5 (1998, 32×32)", "lenet5": "LeNet-5 (Keras tutorial)",
         "mnist_cnn_small": "Small MNIST CNN", "mnist_cnn": "MNIST CNN",
         "cifar10_cnn": "CIFAR-10 CNN", "alexnet": "AlexNet (2012)", "vgg16": "VGG16 (2014)"}
name = pick_one("Architecture", list(NAMES), "gallery_arch", default="alexnet",
                format_func=NAMES.get)
s = architecture_summary(name)
note = {**{k: p.description for k, p in models.PRESETS.items()},
        "alexnet": models.alexnet.__doc__, "vgg16": models.vgg16.__doc__}[name]
st.caption(" ".join(note.split()))

c1, c2, c3, c4 = st.columns(4)
c1.metric("Parameters", f"{s['total_params']:,}")
c2.metric("Multiply-adds per image", f"{s['macs'] / 1e6:,.1f} M")
c3.metric("FLOPs per image", f"{s['flops'] / 1e6:,.1f} M",
          help="TensorFlow's profiler convention: a multiply-add is 2, each bias add 1, "
               "a pooling window 1 per element read.")
c4.metric("Activation memory per image", f"{s['activation_bytes'] / 2**20:,.2f} MB",
          help="float32 outputs of every layer for one image (what training keeps for the "
               "backward pass).")

layer_table(s, "gallery_table", ("multiply-adds", "FLOPs", "activation memory (KB)"))
st.plotly_chart(plots.layer_costs(s["layers"]), key="gallery_costs", width="stretch")
st.caption("Convolutions hold few parameters but do most of the arithmetic; the dense layers "
           "at the end hold most of the parameters.")

st.subheader("All of them")
everything = {NAMES[n]: architecture_summary(n) for n in NAMES}
st.plotly_chart(plots.architectures_map(everything), key="gallery_map", width="stretch")
