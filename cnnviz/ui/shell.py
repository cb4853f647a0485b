"""The app's shell: the page table that drives navigation and the About page's guide."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    teaches: str


# One list drives both the navigation and the About page's guide, so they cannot disagree.
# The first page is the default: the one a demo opens on.
PAGES = (
    PageEntry("pages/draw.py", "Draw", ":material/draw:",
              "draw a digit and watch the network classify it: each preprocessing stage, the "
              "probabilities and the feature maps of every layer."),
    PageEntry("pages/conv.py", "Convolution lab", ":material/blur_on:",
              "apply kernels (blur, Sobel, Laplacian, LeNet's learned filters or your own) to "
              "images with every parameter, and step through the arithmetic of any output cell."),
    PageEntry("pages/pool.py", "Pooling lab", ":material/grid_view:",
              "max and average pooling window by window, the output size formula, and why "
              "pooling makes a network tolerate small shifts."),
    PageEntry("pages/inside.py", "Inside", ":material/visibility:",
              "what a trained network has learned: filters, feature maps, the inputs each class "
              "or filter likes best (activation maximization), and saliency maps and Grad-CAM."),
    PageEntry("pages/map.py", "Embedding map", ":material/scatter_plot:",
              "where your drawing sits among thousands of test images as the network sees "
              "them (PCA of a layer's features), with its nearest test images."),
    PageEntry("pages/robustness.py", "Robustness lab", ":material/shield:",
              "shift, rotate, scale, thicken, blur, add noise to or hide part of a digit and "
              "watch the prediction; compare two models' test accuracy as a corruption grows."),
    PageEntry("pages/gallery.py", "Architectures", ":material/account_tree:",
              "LeNet-5, the seeds' CNNs, AlexNet and VGG16 layer by layer: output shapes, "
              "parameters, FLOPs and activation memory."),
    PageEntry("pages/train.py", "Train", ":material/model_training:",
              "train LeNet-5 or your own layer stack in Keras and watch the curves, the first "
              "layer's filters and the feature maps change live; stop any time."),
    PageEntry("pages/runs.py", "Runs", ":material/folder_open:",
              "every saved training: compare curves, see the confusion matrix and the most "
              "confident mistakes, download a model or use it on the other pages."),
    PageEntry("pages/home.py", "About", ":material/info:",
              "what each page teaches, the shipped model's card and the datasets."),
)
PAGE_GUIDE = tuple(page for page in PAGES if page.path != "pages/home.py")


def _keep_tensorflow_state() -> None:
    """Streamlit calls `keras.backend.clear_session()` after every script and fragment run, for
    apps that build a new model on each run. This app caches its models, so the call only costs:
    a full garbage collection (~0.2 s holding the GIL with TensorFlow loaded) and an emptied
    kernel cache (the next prediction ~15x slower). The Train page's live view reruns every
    second, so every other session waited behind it. Nothing here needs the reset."""
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


_keep_tensorflow_state()


def navigation():
    pages = [st.Page(page.path, title=page.title, icon=page.icon, default=i == 0)
             for i, page in enumerate(PAGES)]
    return st.navigation(pages)


def routed() -> None:
    """Call first in every page. Streamlit treats a `pages/` folder as a legacy multipage app
    until some session runs `st.navigation`; a deep link (/conv) opened first on a fresh server
    would run the page bare, without app.py's layout and menu. Switch to the router and rerun."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        navigation()
        st.rerun()
