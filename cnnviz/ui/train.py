"""The Train page's panels: the set-up (dataset, model or layer stack, settings) and the live
view of a training (progress, curves, the first layer's filters, one image's feature maps)."""

from __future__ import annotations

import json

import streamlit as st

from cnnviz import data, layer_stack, models, summary
from cnnviz.live import RunState, Status
from cnnviz.ui.widgets import layer_table, pick_one

CUSTOM = "custom (edit the layers)"
RECIPE_FIELDS = ("optimizer", "learning_rate", "epochs", "batch_size", "validation_split",
                 "augment")
QUICK_IMAGES = 6000
MIN_STEPS = 100  # fewer optimiser steps than this and a model barely leaves its start


def _apply_recipe(key: str) -> None:
    """A newly chosen preset brings its published recipe into the settings, and says so; a
    custom stack keeps the settings the user has."""
    from cnnviz import training

    preset = st.session_state[f"{key}_preset"]
    if preset == CUSTOM:
        return
    config = training.TrainConfig.from_preset(preset)
    for name in RECIPE_FIELDS:
        st.session_state[f"{key}_{name}"] = getattr(config, name)
    st.session_state[f"{key}_dataset"] = config.dataset
    st.session_state[f"{key}_recipe_note"] = (
        f"Settings set to {preset}'s recipe: {config.optimizer.upper()} "
        f"{config.learning_rate:g}, batch {config.batch_size}, {config.epochs} epochs.")


def _start_quickly(key: str) -> None:
    """The page opens on LeNet-5 with a recipe that learns visibly within a minute."""
    from cnnviz import training

    config = training.TrainConfig.from_preset("lenet5", "quick", subset=QUICK_IMAGES)
    st.session_state[f"{key}_preset"] = "lenet5"
    st.session_state[f"{key}_dataset"] = config.dataset
    st.session_state[f"{key}_subset"] = config.subset
    for name in RECIPE_FIELDS:
        st.session_state[f"{key}_{name}"] = getattr(config, name)


@st.cache_data(show_spinner=False, max_entries=64)
def summary_table(preset: str, stack_json: str | None, input_shape: tuple) -> dict:
    """Keras' own summary of a preset or an edited stack (raises ModelError if impossible)."""
    model = layer_stack.build_stack(json.loads(stack_json), input_shape) if stack_json \
        else models.build(preset)
    return summary.summarize(model).to_dict()


def train_setup(key: str, disabled: bool):
    """The set-up panel: returns a TrainConfig, or None after saying what is wrong."""
    from cnnviz import training

    if f"{key}_preset" not in st.session_state:
        _start_quickly(key)
    names = [n for n in data.DATASETS if data.available(n)]
    c1, c2 = st.columns(2)
    dataset_name = c1.selectbox("Dataset", names, key=f"{key}_dataset", disabled=disabled,
                                format_func=lambda n: data.DATASETS[n].title)
    preset = c2.selectbox("Model", [*models.PRESETS, CUSTOM], key=f"{key}_preset",
                          on_change=_apply_recipe, args=(key,), disabled=disabled)
    stack = _stack_editor(key, disabled) if preset == CUSTOM else None
    if stack is None:
        st.caption(models.PRESETS[preset].description)
    shape = data.DATASETS[dataset_name].image_shape
    try:
        table = summary_table(preset, json.dumps(stack) if stack else None, shape)
        models.check_input_shape(table["input_shape"], shape)
    except models.ModelError as err:
        st.error(f"This model cannot be trained: {err}.", icon=":material/block:")
        table = None
    if table is not None:
        _summary_view(table)
    # drawn even when the stack is refused: a control that is not drawn loses its value
    settings = _settings(key, disabled)
    if table is None:
        return None
    config = training.TrainConfig(preset="custom" if stack else preset, dataset=dataset_name,
                                  stack=stack, **settings)
    try:
        training.check_memory(config, shape)
    except models.ModelError as err:
        st.error(f"This model cannot be trained here: {err}.", icon=":material/memory:")
        return None
    _warn_if_too_few_steps(config)
    return config


def _settings(key: str, disabled: bool) -> dict:
    with st.expander("Training settings", icon=":material/tune:"):
        note = st.session_state.pop(f"{key}_recipe_note", None)
        if note:
            st.caption(note)
        a, b = st.columns(2)
        optimizer = a.selectbox("Optimizer", ["sgd", "adam", "rmsprop"], key=f"{key}_optimizer",
                                disabled=disabled, format_func=str.upper)
        lr = b.number_input("Learning rate", 1e-6, 1e6, key=f"{key}_learning_rate",
                            format="%g", disabled=disabled)
        batch = a.number_input("Batch size", 1, 8192, key=f"{key}_batch_size", disabled=disabled)
        epochs = b.number_input("Epochs", 1, 200, key=f"{key}_epochs", disabled=disabled)
        val = a.slider("Validation split", 0.0, 0.5, key=f"{key}_validation_split", step=0.05,
                       disabled=disabled)
        subset = b.number_input("Training images (0 = all)", 0, 60000, step=500,
                                key=f"{key}_subset", disabled=disabled)
        augment = a.toggle("Augmentation", key=f"{key}_augment", disabled=disabled,
                           help="Random shifts, rotations, zoom, slant and stroke width.")
        seed = b.number_input("Random seed", 0, 2**31 - 1, 0, key=f"{key}_seed", disabled=disabled)
    return dict(optimizer=optimizer, learning_rate=float(lr), epochs=int(epochs),
                batch_size=int(batch), validation_split=float(val), subset=int(subset) or None,
                augment=augment, seed=int(seed))


def _warn_if_too_few_steps(config) -> None:
    """A recipe that cannot learn in its budget: say so before Train is pressed."""
    from cnnviz.ui.resources import dataset

    available = len(dataset(config.dataset).x_train)
    n = min(config.subset or available, available)
    n -= int(n * config.validation_split)
    steps = config.epochs * -(-n // config.batch_size)
    if steps < MIN_STEPS:
        st.warning(f"Only {steps} optimiser steps ({config.epochs} epochs of {n:,} images in "
                   f"batches of {config.batch_size}): too few for the model to learn much. Use "
                   "a smaller batch, more images or more epochs.", icon=":material/warning:")


def _stack_editor(key: str, disabled: bool) -> list[dict]:
    import pandas as pd

    st.caption("Edit the layers in order: click a cell and type to replace its value (or "
               "double-click to change it), add rows at the bottom, delete with the row "
               "checkbox, renumber `order` to move one. A Flatten and the 10-way softmax are "
               "added at the end.")
    start = st.session_state.get(f"{key}_stack_start", layer_stack.DEFAULT_STACK)  # rows to edit
    rows = pd.DataFrame([{"order": i + 1, **row} for i, row in enumerate(start)])
    cc = st.column_config
    edited = st.data_editor(
        rows, num_rows="dynamic", key=f"{key}_stack", disabled=disabled, hide_index=True,
        width="stretch", column_config={
            "order": cc.NumberColumn("order", min_value=0, step=1, width="small"),
            "layer": cc.SelectboxColumn("layer", options=layer_stack.LAYER_TYPES, required=True),
            "units": cc.NumberColumn("units", min_value=0, step=1, width="small",
                                     help="Filters of a Conv2D, units of a Dense layer"),
            "size": cc.NumberColumn("size", min_value=0, max_value=64, step=1, width="small",
                                    help="Kernel size of a Conv2D, window of a pooling layer"),
            "stride": cc.NumberColumn("stride", min_value=0, max_value=8, step=1,
                                      width="small"),
            "padding": cc.SelectboxColumn("padding", options=["valid", "same"], width="small"),
            "activation": cc.SelectboxColumn("activation", options=layer_stack.ACTIVATIONS,
                                             width="small"),
            "rate": cc.NumberColumn("rate", min_value=0.0, max_value=0.95, step=0.05,
                                    width="small", help="Dropout rate"),
        })
    edited = edited.dropna(subset=["layer"]).sort_values("order", kind="stable")
    # rows keep their order number: a refusal names the layer as the table numbers it
    return [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
             for k, v in row.items()} for row in edited.to_dict("records")]


def _summary_view(table: dict) -> None:
    c1, c2 = st.columns(2)
    c1.metric("Parameters", f"{table['total_params']:,}")
    c2.metric("FLOPs per image", f"{table['flops']:,}",
              help=f"Not counted: {', '.join(table['not_counted'])}"
              if table["not_counted"] else None)
    # the layer names say their type; without that column the table fits the narrow panel
    layer_table(table, "summary_table", ("FLOPs",), types=False)


# --- the live view -------------------------------------------------------------------------


def _duration(seconds) -> str:
    if seconds is None:
        return "…"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _stopped_where(s: RunState) -> str:
    """Keras ends a stopped epoch early (and still reports it): say which and where."""
    ends = [0, *s.epoch_ends]
    if len(ends) == 1:
        return "Stopped before the first batch"
    if ends[-1] - ends[-2] < (s.steps or 0):
        return f"Stopped during epoch {len(ends) - 1}, after batch {ends[-1] - ends[-2]}"
    return f"Stopped after epoch {len(ends) - 1}"


def progress(s: RunState, key: str) -> None:
    """Progress bar and curves of one snapshot of a LiveRun."""
    from cnnviz import plots

    label = {Status.STARTING: "Starting…",
             Status.LOADING: "Loading the data and building the model…",
             Status.STOPPING: "Stopping after this batch…",
             Status.SAVING: "Training has ended: testing the model on the test set and "
                            "saving the run…",
             Status.DONE: f"Finished {s.epochs} epochs in {_duration(s.seconds)}",
             Status.STOPPED: _stopped_where(s),
             Status.DIVERGED: "Stopped: the loss diverged",
             Status.FAILED: "Failed"}.get(s.status)
    if label is None and s.steps:
        epoch_now = min(s.epoch + 1, s.epochs)
        label = (f"Epoch {epoch_now}/{s.epochs} · batch {s.batch}/{s.steps} · "
                 f"{s.rate or 0:,.0f} images/s · ETA {_duration(s.eta)}")
    st.progress(min(s.images / s.total_images, 1.0) if s.total_images else 0.0,
                text=label)
    if s.batch_loss:
        previous = st.session_state.get(f"{key}_curves")
        fig = plots.training_curves(s.batch_loss, s.batch_acc, s.epoch_logs,
                                    s.epoch_ends,
                                    previous[1] if previous and previous[0] == s.run_dir
                                    else None)
        st.session_state[f"{key}_curves"] = (s.run_dir, fig)
        st.plotly_chart(fig, key=f"{key}_curves", width="stretch")


def visuals(s: RunState, key: str) -> None:
    """The first layer's filters and one test image's feature maps, as last published: PNGs
    made on the server, so a redraw each second costs the browser two <img> loads."""
    if s.filters is None:
        return
    left, right = st.columns([1, 1.6])
    with left:
        st.markdown("**First conv layer's filters** (red positive, blue negative)")
        st.image(_visual_png(s, key, "filters"))
    with right:
        st.markdown("**Feature maps of one test image**")
        names = list(s.maps)
        name = pick_one("Layer", names, f"{key}_maps_layer", label_visibility="collapsed")
        st.image(_visual_png(s, key, "maps", name))


def _visual_png(s: RunState, key: str, *what: str) -> bytes:
    """A published visual, ("filters",) or ("maps", layer), drawn once per publication and
    only when shown: redrawing it on every poll of the page would slow the training."""
    from cnnviz import pictures

    cached = st.session_state.get(f"{key}_figures")
    if cached is None or cached[0] != (s.run_dir, s.visual_version):
        cached = ((s.run_dir, s.visual_version), {})
        st.session_state[f"{key}_figures"] = cached
    drawn = cached[1]
    if what not in drawn:
        # filters: a near-square grid, for their narrow column (one row made them specks)
        drawn[what] = pictures.png(pictures.filters(s.filters, cols=None) if what == ("filters",)
                                   else pictures.feature_maps(s.maps[what[1]], max_channels=16,
                                                              tile_px=64))
    return drawn[what]
