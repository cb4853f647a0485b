"""The Robustness lab's panels: sliders that corrupt one digit with the prediction beside it, and
accuracy-vs-strength curves of one or two models on the test set."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import pictures, robustness
from cnnviz.corruptions import Corruption
from cnnviz.ui import choice, resources
from cnnviz.ui.widgets import dataset_notice

NO_SECOND = "No second model"
IMAGE_COUNTS = (500, robustness.DEFAULT_IMAGES, 10_000)


def _reset(key: str) -> None:
    for c in Corruption:
        st.session_state[f"{key}_{c.key}"] = _typed(c, 0)


def _typed(c: Corruption, value):
    """Streamlit's slider wants its bounds, value and step all int or all float."""
    return float(value) if isinstance(c.step, float) else int(value)


def sliders(key: str) -> tuple[dict, int]:
    """One slider per corruption (0: off) and the seed of the random ones."""
    strengths = {c: st.slider(f"{c.title} ({c.unit})", _typed(c, c.low), _typed(c, c.high),
                              _typed(c, 0), _typed(c, c.step), key=f"{key}_{c.key}",
                              help=c.meaning[0].upper() + c.meaning[1:] + ".")
                 for c in Corruption}
    a, b = st.columns([1, 1], vertical_alignment="bottom")
    seed = a.number_input("Seed (noise, patch)", 0, 9999, 0, key=f"{key}_seed",
                          help="Which random noise and where the patch goes.")
    b.button("All to 0", key=f"{key}_reset", icon=":material/restart_alt:", on_click=_reset,
             args=(key,), width="stretch")
    return {c: s for c, s in strengths.items() if s}, int(seed)


def headline(probs: np.ndarray, before: np.ndarray, names) -> None:
    """The prediction for the corrupted digit, and the uncorrupted one's for comparison."""
    digit, was = int(np.argmax(probs)), int(np.argmax(before))
    with st.container(horizontal=True):  # side by side on a phone too
        st.metric("Prediction", names[digit])
        st.metric("Confidence", f"{probs[digit]:.1%}")
    st.caption(f"Uncorrupted: {names[was]} at {before[was]:.1%}." +
               (" The corruption changed the answer." if digit != was else ""))


def views(probe, image: np.ndarray, corrupted: np.ndarray, probs: np.ndarray, names) -> None:
    """The digit before and after, and the probabilities for the corrupted one."""
    st.image(pictures.png(pictures.stages({"input": image, "corrupted": corrupted},
                                          {"input": "Input", "corrupted": "Corrupted"}, 168)))
    st.image(pictures.png(pictures.probability_bars(probs, [n[:7] for n in names])), width=520)
    if probe.applies_softmax:
        st.caption("This model outputs scores (logits); the page applies a softmax to show "
                   "them as probabilities.")


def numbers(probs: np.ndarray, corrupted: np.ndarray, names, key: str) -> None:
    if st.toggle("Show the numbers", key=f"{key}_numbers",
                 help="The probabilities and the 28×28 corrupted input, as tables."):
        a, b = st.columns([1, 3])
        a.dataframe({"class": list(names), "probability": probs}, hide_index=True,
                    key=f"{key}_probs_table",
                    column_config={"probability": st.column_config.NumberColumn(format="%.4f")})
        b.dataframe(corrupted, key=f"{key}_input_table",
                    column_config={str(i): st.column_config.NumberColumn(format="%.2f", width=40)
                                   for i in range(28)})


# --- curves ------------------------------------------------------------------------------


def curve_settings(label: str, available: int, key: str):
    """(corruption, the second model's label or None, number of test images)."""
    titles = [c.title for c in Corruption]
    # only models that learned from the same dataset: their curves are on the same images
    same = choice.trained_on(label)
    others = [other for other in choice.labels()
              if other != label and choice.trained_on(other) == same]
    counts = [n for n in IMAGE_COUNTS if n < available] + [min(IMAGE_COUNTS[-1], available)]
    a, b, c = st.columns([1, 1.6, 0.8])
    title = a.selectbox("Corruption", titles, index=titles.index(Corruption.ROTATE.title),
                        key=f"{key}_corruption")
    second = b.selectbox("Compare with", [NO_SECOND, *others], index=1 if others else 0,
                         key=f"{key}_compare",
                         help="Models that learned from the same dataset as this one.")
    images = c.selectbox("Test images", counts, index=min(1, len(counts) - 1),
                         format_func="{:,}".format, key=f"{key}_images")
    return list(Corruption)[titles.index(title)], None if second == NO_SECOND else second, images


def curves_panel(label: str, probe, key: str) -> None:
    """Accuracy against strength for the chosen corruption, computed on request and kept."""
    dataset_name = choice.trained_on(label)
    if dataset_name not in robustness.GREY_DATASETS:
        st.info(f"{label} learned from colour images; the corruptions are made for 28×28 grey "
                "digits, so there is no curve for it.", icon=":material/info:")
        return
    ds = resources.dataset(dataset_name)
    dataset_notice(ds)
    corruption, second, images = curve_settings(label, len(ds.y_test), key)
    x, y = robustness.test_images(ds, images)
    keys = {}
    for name in [label] + ([second] if second else []):
        try:
            keys[name] = resources.CurveKey(choice.ref(name), corruption.key, dataset_name,
                                            len(y))
        except OSError:  # a run folder deleted since the list was made
            st.error(f"{name} cannot be tested: its model file is gone.")
    store = resources.curves()
    if any(store.get(k) is None for k in keys.values()):
        ask = st.empty()  # the button goes once the curves are there
        if not ask.button("Compute the curves", key=f"{key}_run", type="primary",
                          icon=":material/show_chart:"):
            seconds = len(y) * len(corruption.curve) * len(keys) / 25_000  # bench.robustness_speed
            st.info(f"Press to classify {len(y):,} test images at each of "
                    f"{len(corruption.curve)} strengths for each model (about "
                    f"{max(1, round(seconds))} s).",
                    icon=":material/show_chart:")
            return
        ask.empty()
        _compute(label, probe, keys, corruption, x, y)
    shown = {name: store.get(k) for name, k in keys.items() if store.get(k) is not None}
    if shown:
        _show(shown, corruption, ds, len(y), key)


def _compute(label, probe, keys: dict, corruption, x, y) -> None:
    """The missing curves of `keys` ({model label: CurveKey}), with one progress bar."""
    from cnnviz import models

    store, bar = resources.curves(), st.progress(0.0, text="Classifying…")
    labels = list(keys)
    for i, name in enumerate(labels):
        if store.get(keys[name]) is not None:
            continue
        found = probe if name == label else choice.load(name)
        if found is None:  # said why
            continue

        def progress(done, total, i=i, name=name):
            bar.progress((i + done / total) / len(labels),
                         text=f"{name}: {done} of {total} strengths")

        try:
            store.put(keys[name], robustness.curve(found.model, corruption, x, y,
                                                   on_progress=progress))
        except models.ModelError as err:
            st.error(f"{name} cannot be tested on these images: {err}.")
    bar.empty()


def _show(shown: dict, corruption: Corruption, ds, n: int, key: str) -> None:
    from cnnviz import plots

    st.plotly_chart(plots.accuracy_curves({name: (c.strengths, c.accuracy)
                                           for name, c in shown.items()},
                                          f"{corruption.title} ({corruption.unit})"),
                    key=f"{key}_chart", width="stretch")
    st.caption(f"Accuracy on the first {n:,} test images of {ds.info.title}, each corrupted at "
               f"every strength; {corruption.title.lower()} in {corruption.unit}: "
               f"{corruption.meaning}. At 0 the images are untouched: the model's test accuracy "
               "on them.")
    if st.toggle("Show the numbers", key=f"{key}_numbers"):
        first = next(iter(shown.values()))
        st.dataframe({f"strength ({corruption.unit})": list(first.strengths),
                      **{name: list(c.accuracy) for name, c in shown.items()}},
                     hide_index=True, key=f"{key}_table",
                     column_config={name: st.column_config.NumberColumn(format="%.4f")
                                    for name in shown})
