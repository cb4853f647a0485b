"""The only module that imports streamlit: cached resources, shared widgets, session keys."""

from __future__ import annotations

import streamlit as st

from cnnviz import data, models
from cnnviz.files import read_json


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str) -> data.Dataset:
    return data.load(name)


@st.cache_data
def bundled_sample(name: str) -> data.Dataset:
    """The small bundled slice of a dataset: loads without TensorFlow, for quick previews."""
    return data.load_sample(name)


@st.cache_data
def shipped_card() -> dict | None:
    return read_json(models.SHIPPED_CARD) if models.SHIPPED_CARD.exists() else None


def dataset_notice(ds: data.Dataset) -> None:
    """Say plainly when a page works on the bundled sample instead of the full dataset."""
    if ds.is_sample:
        st.warning(ds.message, icon=":material/cloud_off:")


# One list drives both the navigation and the Home page's guide, so they cannot disagree.
PAGES = [
    ("pages/home.py", "Home", ":material/home:",
     "what each page teaches, the shipped model's card and the datasets."),
]
PAGE_GUIDE = [(title, what) for _, title, _, what in PAGES[1:]]


def navigation():
    pages = [st.Page(path, title=title, icon=icon, default=i == 0)
             for i, (path, title, icon, _) in enumerate(PAGES)]
    return st.navigation(pages)
