"""A finished run's report (Train and Runs pages): test accuracy, confusion matrix with the
images of any cell, the most confident mistakes, and making it the model of the other pages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from cnnviz import models
from cnnviz.ui import choice
from cnnviz.ui.resources import dataset


@st.cache_resource(show_spinner="Evaluating on the test set…", max_entries=8)
def _predictions(model_path: str, mtime: float, dataset_name: str):  # noqa: ARG001 - cache key
    from cnnviz import training

    ds = dataset(dataset_name)
    return training.predict_arrays(models.load(model_path), ds.x_test), ds


def run_report(run_dir: str, key: str) -> None:
    from cnnviz import data, plots, runs, training

    model_path = f"{run_dir}/model.keras"
    try:
        dataset_name = runs.read_run(run_dir).config["dataset"]
        probs, ds = _predictions(model_path, os.path.getmtime(model_path), dataset_name)
    except (runs.RunError, models.ModelError, data.DatasetUnavailable, ValueError,
            OSError) as err:
        st.error(f"No report for run {Path(run_dir).name}: {_reason(err)}.",
                 icon=":material/error:")
        return
    pred = probs.argmax(1)
    names = ds.class_names
    counts = training.confusion_matrix(ds.y_test, pred, len(names))
    st.metric("Test accuracy", f"{(pred == ds.y_test).mean():.2%}",
              help=f"on {len(pred):,} test images" + (" (bundled sample)" if ds.is_sample else ""))
    left, right = st.columns([1.1, 1])
    with left:
        st.plotly_chart(plots.confusion(counts, names), key=f"{key}_confusion", width="stretch")
    with right:
        mistakes = counts - np.diag(np.diag(counts))
        worst = np.unravel_index(np.argmax(mistakes), counts.shape)
        a, b = st.columns(2)
        true = a.selectbox("True class", range(len(names)), index=int(worst[0]),
                           format_func=lambda i: names[i], key=f"{key}_true")
        guess = b.selectbox("Predicted as", range(len(names)), index=int(worst[1]),
                            format_func=lambda i: names[i], key=f"{key}_pred")
        cell = np.flatnonzero((ds.y_test == true) & (pred == guess))[:20]
        st.caption(f"{counts[true, guess]} test images of {names[true]} predicted as "
                   f"{names[guess]}" + (" (first 20)" if counts[true, guess] > 20 else ""))
        if len(cell):
            st.plotly_chart(plots.image_grid(ds.x_test[cell], [f"#{i}" for i in cell], cols=5),
                            key=f"{key}_cell", width="stretch")
    wrong = training.most_confident_wrong(probs, ds.y_test)
    if len(wrong):
        st.markdown("**Most confident mistakes**")
        titles = [f"{names[ds.y_test[i]]} → {names[pred[i]]} {probs[i, pred[i]]:.0%}"
                  for i in wrong]
        st.plotly_chart(plots.image_grid(ds.x_test[wrong], titles, cols=6),
                        key=f"{key}_wrong", width="stretch")


def _reason(err: Exception) -> str:
    if isinstance(err, OSError):
        return "its files cannot be read any more"
    return str(err).rstrip(".")


def use_run_button(run_dir: str, key: str) -> None:
    """Make a run the model chosen on every page that uses one."""
    label = choice.run_label(Path(run_dir).name)
    if st.button("Use on every page", key=key, icon=":material/check_circle:"):
        choice.choose(label)
        st.toast(f"{label} is now the model on the Draw, Inside, Embedding map and "
                 "Robustness lab pages.")
