"""The only module that imports streamlit: cached resources, shared widgets, session keys."""

from __future__ import annotations

import threading

import numpy as np
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
# The first page is the default: the one a demo opens on.
PAGES = [
    ("pages/draw.py", "Draw", ":material/draw:",
     "draw a digit and watch the network classify it: each preprocessing stage, the "
     "probabilities and the feature maps of every layer."),
    ("pages/conv.py", "Convolution lab", ":material/blur_on:",
     "apply kernels (blur, Sobel, Laplacian, LeNet's learned filters or your own) to images "
     "with every parameter, and step through the arithmetic of any output cell."),
    ("pages/pool.py", "Pooling lab", ":material/grid_view:",
     "max and average pooling window by window, the output size formula, and why pooling "
     "makes a network tolerate small shifts."),
    ("pages/inside.py", "Inside", ":material/visibility:",
     "what a trained network has learned: filters, feature maps, the inputs each class or "
     "filter likes best (activation maximization), and saliency maps and Grad-CAM."),
    ("pages/gallery.py", "Architectures", ":material/account_tree:",
     "LeNet-5, the seeds' CNNs, AlexNet and VGG16 layer by layer: output shapes, parameters, "
     "FLOPs and activation memory."),
    ("pages/train.py", "Train", ":material/model_training:",
     "train LeNet-5 or your own layer stack in Keras and watch the curves, the first layer's "
     "filters and the feature maps change live; stop any time."),
    ("pages/runs.py", "Runs", ":material/folder_open:",
     "every saved training: compare curves, see the confusion matrix and the most confident "
     "mistakes, download a model or use it on the other pages."),
    ("pages/home.py", "About", ":material/info:",
     "what each page teaches, the shipped model's card and the datasets."),
]
PAGE_GUIDE = [(title, what) for path, title, _, what in PAGES if path != "pages/home.py"]


def _keep_tensorflow_state() -> None:
    """Streamlit calls `keras.backend.clear_session()` after every script and fragment run, for
    apps that build a new model on each run. This app caches its models, so the call only costs:
    a full garbage collection (~0.2 s holding the GIL with TensorFlow loaded) and an emptied
    kernel cache (the next prediction ~15x slower). The Train page's live view reruns three
    times a second, so every other session waited behind it. Nothing here needs the reset."""
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


_keep_tensorflow_state()


def navigation():
    pages = [st.Page(path, title=title, icon=icon, default=i == 0)
             for i, (path, title, icon, _) in enumerate(PAGES)]
    return st.navigation(pages)


def routed() -> None:
    """Call first in every page. Streamlit treats a `pages/` folder as a legacy multipage app
    until some session runs `st.navigation`; a deep link (/conv) opened first on a fresh server
    would run the page bare, without app.py's layout and menu. Switch to the router and rerun."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        navigation()
        st.rerun()


# --- models ----------------------------------------------------------------------------------

SHIPPED_LABEL = "LeNet-5 (shipped)"


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def probe(path: str, mtime: float) -> "explain.Probe":  # noqa: F821 - mtime keys the cache
    from cnnviz import explain

    model = models.load(path)
    models.check_input(model, (28, 28, 1))
    return explain.Probe(model)


def model_labels() -> list[str]:
    from cnnviz import training

    return [SHIPPED_LABEL, *[f"Run {run.name}" for run in training.list_runs()],
            *[f"Upload {name}" for name in st.session_state.get("uploaded_models", {})]]


def model_path(label: str) -> str:
    """The file behind a model label, derived from the label: no scan of the runs folder."""
    from cnnviz import training

    if label == SHIPPED_LABEL:
        return str(models.SHIPPED_MODEL)
    if label.startswith("Run "):
        return str(training.DEFAULT_RUNS_DIR / label.removeprefix("Run ") / "model.keras")
    return st.session_state["uploaded_models"][label.removeprefix("Upload ")]


def model_picker(key: str) -> str:
    """Sidebar: choose the shipped model, a trained run or an uploaded .keras file (label)."""
    with st.sidebar:
        upload = st.file_uploader("Add a .keras model", type=["keras"], key=f"{key}_upload")
        if upload is not None:
            _add_uploaded_model(upload, key)
        choices = model_labels()
        if st.session_state.get(key) not in choices:
            st.session_state[key] = SHIPPED_LABEL
        return st.selectbox("Model", choices, key=key)


def load_model(label: str):
    """The chosen model's Probe, or None after saying why it cannot be used."""
    path = model_path(label)
    try:
        return probe(path, _mtime(path))
    except models.ModelError as err:
        st.error(f"{label} cannot classify 28×28 digits: {err}. Choose another model.")
        return None


_warm = threading.Event()


def warm_up() -> None:
    """Load TensorFlow and the shipped model, and trace its explanations, in the background
    once per server: the first page paints at once and the first drawing is answered without
    waiting for imports or tracing."""
    if _warm.is_set():
        return
    _warm.set()
    threading.Thread(target=_warm_up, name="cnnviz-warm-up", daemon=True).start()


def _warm_up() -> None:
    path = str(models.SHIPPED_MODEL)
    blank = np.zeros((28, 28, 1), np.float32)
    _explainer(path, _mtime(path)).smoothgrad(blank, 0)
    _explainer(path, _mtime(path)).gradcam(blank, 0)
    _dreamer(path, _mtime(path), None)  # the Inside page's first Run: traced already


def _mtime(path: str) -> float:
    import os

    return os.path.getmtime(path)


def _add_uploaded_model(upload, key: str) -> None:
    """Validate an uploaded model once (through the cached probe) and remember the verdict,
    so reruns neither reload it nor write it to disk again."""
    import tempfile
    from pathlib import Path

    uploaded = st.session_state.setdefault("uploaded_models", {})
    rejected = st.session_state.setdefault("rejected_models", {})
    if upload.name in uploaded:
        return
    if upload.name not in rejected:
        path = Path(tempfile.mkdtemp(prefix="cnnviz-upload-")) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            probe(str(path), _mtime(str(path)))
        except models.ModelError as err:
            rejected[upload.name] = str(err)
        else:
            uploaded[upload.name] = str(path)
            st.session_state[key] = f"Upload {upload.name}"
            return
    st.error(rejected[upload.name])


# --- inputs ----------------------------------------------------------------------------------


def canvas(key: str, stroke_width: int):
    """A 280x280 black canvas with white ink, like MNIST; its grey pixels, or None before the
    first stroke."""
    from streamlit_drawable_canvas import st_canvas  # registers a component: only in a page

    from cnnviz import preprocess

    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF",
                       background_color="#000000", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=key)
    return preprocess.canvas_gray(result.image_data)


def uploaded_digit(key: str):
    """An uploaded photo or scan of a digit as an array, or None (with an error shown)."""
    from cnnviz import preprocess

    upload = st.file_uploader("Photo or scan of one digit",
                              type=[suffix[1:] for suffix in preprocess.IMAGE_SUFFIXES],
                              key=key)
    if upload is None:
        return None
    try:
        img = preprocess.open_image(upload.getvalue(), upload.name)
        return preprocess.pil_to_array(img)
    except preprocess.ImageError as err:
        st.error(str(err))
        return None


def random_test_digit(key: str):
    """A random MNIST test digit (28x28 in [0,1]) with its label, kept across reruns."""
    ds = dataset("mnist")
    dataset_notice(ds)
    if st.button("Another test digit", key=f"{key}_next", icon=":material/casino:") \
            or key not in st.session_state:
        st.session_state[key] = int(np.random.default_rng().integers(len(ds.y_test)))
    i = st.session_state[key]
    st.caption(f"MNIST test image #{i}: labelled **{ds.y_test[i]}**")
    return ds.x_test[i, ..., 0], int(ds.y_test[i])


# --- lab inputs and step-through -------------------------------------------------------------

LAB_DATASETS = {"MNIST digit": "mnist", "Fashion-MNIST item": "fashion_mnist",
                "CIFAR-10 image": "cifar10"}
PHOTO = "Photo (Chelsea the cat)"


def lab_image(key: str, *, colour: bool = True):
    """An input for the Conv and Pool labs: (H, W) or (H, W, 3) floats in [0, 1] and a caption,
    or (None, None) after saying why there is none."""
    from cnnviz import preprocess

    sources = (["Your drawing"] if "drawing" in st.session_state else []) + \
        [label for label, name in LAB_DATASETS.items() if data.available(name)] + \
        [PHOTO, "Upload"]
    source = st.selectbox("Input image", sources, key=f"{key}_source")
    if source == "Your drawing":
        return st.session_state["drawing"], "the 28×28 input made from your drawing"
    if source in LAB_DATASETS:
        ds = (bundled_sample if LAB_DATASETS[source] != "cifar10" else dataset)(
            LAB_DATASETS[source])
        i = st.slider("Test image #", 0, len(ds.y_test) - 1, 0, key=f"{key}_index")
        img = ds.x_test[i]
        caption = f"{ds.info.title} test image #{i}: {ds.class_names[ds.y_test[i]]}"
        return (img[..., 0] if img.shape[2] == 1 else _colour(img, colour, key)), caption
    if source == PHOTO:
        from PIL import Image

        img, caption = Image.open(data.SAMPLE_PHOTO), "Chelsea the cat (CC0, scikit-image)"
    else:
        upload = st.file_uploader("An image", key=f"{key}_upload",
                                  type=[suffix[1:] for suffix in preprocess.IMAGE_SUFFIXES])
        if upload is None:
            st.info("Choose an image file to filter.", icon=":material/upload:")
            return None, None
        try:
            img = preprocess.open_image(upload.getvalue(), upload.name)
        except preprocess.ImageError as err:
            st.error(str(err))
            return None, None
        caption = upload.name
        if max(img.size) > preprocess.MAX_SIDE:
            st.info(f"{upload.name} is {img.width}×{img.height}: downscaled to fit "
                    f"{preprocess.MAX_SIDE} px first.", icon=":material/photo_size_select_large:")
    side = st.slider("Working size (longest side, px)", 16, 512, 128, 16, key=f"{key}_side",
                     help="Smaller is faster to draw and easier to read value by value.")
    rgb = preprocess.shrink(preprocess.to_rgb(img), side)
    return _colour(rgb, colour, key), f"{caption}, {rgb.shape[1]}×{rgb.shape[0]}"


def _colour(rgb, colour: bool, key: str):
    if colour and st.toggle("Colour (3 channels)", key=f"{key}_rgb"):
        return rgb
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _step(key: str, shape: tuple[int, int], delta: int) -> None:
    flat = (st.session_state[f"{key}_row"] * shape[1] + st.session_state[f"{key}_col"] + delta)
    st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = \
        divmod(flat % (shape[0] * shape[1]), shape[1])


def cell_picker(key: str, output: np.ndarray, playing: bool = False) -> tuple[int, int]:
    """Row and column sliders for a cell of `output`, with step buttons; advances one cell per
    call while `playing`. It starts at the strongest response (more to see than a corner of
    background); positions survive parameter changes when they still fit."""
    shape = output.shape[:2]
    if f"{key}_row" not in st.session_state:  # only then: Play reruns this every step
        start = np.unravel_index(int(np.abs(output).argmax()), shape)
        st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = map(int, start)
    for axis, n in (("row", shape[0]), ("col", shape[1])):
        st.session_state[f"{key}_{axis}"] = min(st.session_state[f"{key}_{axis}"], n - 1)
    if playing:
        _step(key, shape, 1)
    c1, c2 = st.columns(2)
    with c1:
        row = _position_slider("Output row", shape[0], f"{key}_row")
    with c2:
        col = _position_slider("Output column", shape[1], f"{key}_col")
    with st.container(horizontal=True):  # own row: beside the sliders the labels were cut
        st.button("Back", icon=":material/skip_previous:", key=f"{key}_prev",
                  help="Previous cell", on_click=_step, args=(key, shape, -1))
        st.button("Step", icon=":material/skip_next:", key=f"{key}_next", help="Next cell",
                  on_click=_step, args=(key, shape, 1))
    return row, col


def _position_slider(label: str, n: int, key: str) -> int:
    if n == 1:  # a slider needs a range: one position is just shown
        st.caption(f"{label}: 0 (the only one)")
        return 0
    return st.slider(label, 0, n - 1, key=key)


def kernel_picker(key: str):
    """Named, learned (shipped LeNet-5) or typed-in kernel: (title, {name: 2-D kernel}), or
    (None, None) after saying what is wrong with a typed one."""
    from cnnviz import kernels

    family = st.segmented_control("Kernel", ["Named", "Learned", "Custom"], default="Named",
                                  key=f"{key}_family",
                                  help="Learned: the first-layer filters of the shipped "
                                       "LeNet-5. Custom: type your own.") or "Named"
    if family == "Named":
        name = st.selectbox("Named kernel", [*kernels.NAMED, *kernels.MAGNITUDES],
                            index=list(kernels.NAMED).index("Sobel x"), key=f"{key}_named")
        st.caption(kernels.DESCRIPTIONS[name])
        parts = kernels.MAGNITUDES.get(name, (name,))
        return name, {part: kernels.NAMED[part] for part in parts}
    if family == "Learned":
        learned = kernels.learned_filters(probe(str(models.SHIPPED_MODEL),
                                                _mtime(str(models.SHIPPED_MODEL))).model)
        name = st.selectbox("Filter", list(learned), key=f"{key}_learned")
        st.caption("A 5×5 filter the shipped LeNet-5 learned from MNIST in its first layer.")
        return name, {name: learned[name]}
    text = st.text_area("Kernel values: one row per line", kernels.to_text(kernels.NAMED["Sharpen"]),
                        key=f"{key}_custom", height=150,
                        help=f"1×1 up to {kernels.MAX_SIDE}×{kernels.MAX_SIDE}, any shape; "
                             "numbers separated by spaces or commas.")
    try:
        kernel = kernels.parse(text)
        if st.checkbox("Normalise to sum 1", key=f"{key}_normalise"):
            kernel = kernels.normalise(kernel)
    except kernels.KernelError as err:
        st.error(f"This kernel cannot be used: {err}", icon=":material/grid_off:")
        return None, None
    return f"Custom {kernel.shape[0]}×{kernel.shape[1]}", {"Custom": kernel}


POOL_MATRIX = "3 1 0 2 5 4\n1 7 2 0 1 3\n0 2 8 1 0 6\n4 0 1 3 9 2\n2 5 0 1 2 0\n1 0 3 6 1 4"


def pool_input(key: str):
    """A 2-D map for the Pooling lab: typed values, a feature map of the drawing, or an image.
    Returns (map, caption) or (None, None) after saying why there is none."""
    from cnnviz import introspect, kernels

    sources = ["Small matrix"] + (["Feature map of your drawing"]
                                  if "drawing" in st.session_state else []) + ["Image"]
    source = st.segmented_control("Input", sources, default="Small matrix",
                                  key=f"{key}_source") or "Small matrix"
    if source == "Image":
        return lab_image(f"{key}_image", colour=False)
    if source == "Small matrix":
        text = st.text_area("Values: one row per line", POOL_MATRIX, height=170,
                            key=f"{key}_matrix")
        try:
            return kernels.parse(text, what="matrix", max_side=16), "the typed matrix"
        except kernels.KernelError as err:
            st.error(f"This matrix cannot be pooled: {err}", icon=":material/grid_off:")
            return None, None
    shipped = probe(str(models.SHIPPED_MODEL), _mtime(str(models.SHIPPED_MODEL)))
    _, maps = shipped(st.session_state["drawing"][..., None])
    conv_maps = {path: maps[path] for path, _ in introspect.conv_layers(shipped.model)}
    layer = st.selectbox("Layer", list(conv_maps), key=f"{key}_layer")
    channel = st.slider("Channel", 0, conv_maps[layer].shape[-1] - 1, 0, key=f"{key}_channel")
    return conv_maps[layer][..., channel].astype(np.float64), \
        f"{layer} channel {channel} of the shipped LeNet-5 for your drawing"


# --- training ----------------------------------------------------------------------------------

CUSTOM = "custom (edit the layers)"
RECIPE_KEYS = ("optimizer", "learning_rate", "epochs", "batch_size", "validation_split", "augment")


def _apply_recipe(key: str) -> None:
    """When the preset changes, its published recipe becomes the default of every control."""
    from cnnviz import training

    preset = st.session_state[f"{key}_preset"]
    config = training.TrainConfig.from_preset("lenet5" if preset == CUSTOM else preset)
    for name in RECIPE_KEYS:
        st.session_state[f"{key}_{name}"] = getattr(config, name)
    if preset != CUSTOM:
        st.session_state[f"{key}_dataset"] = config.dataset


@st.cache_data(show_spinner=False, max_entries=64)
def summary_table(preset: str, stack_json: str | None, input_shape: tuple) -> dict:
    """Keras' own summary of a preset or an edited stack (raises ModelError if impossible)."""
    import json

    if stack_json:
        model = models.build_stack(json.loads(stack_json), input_shape)
    else:
        model = models.build(preset)
    return models.summarize(model).to_dict()


def train_setup(key: str, disabled: bool):
    """The set-up panel: returns a TrainConfig, or None after saying what is wrong."""
    import json

    from cnnviz import training

    if f"{key}_preset" not in st.session_state:
        st.session_state[f"{key}_preset"] = "lenet5"
        _apply_recipe(key)
    names = [n for n in data.DATASETS if data.available(n)]
    c1, c2 = st.columns(2)
    dataset = c1.selectbox("Dataset", names, key=f"{key}_dataset", disabled=disabled,
                           format_func=lambda n: data.DATASETS[n].title)
    preset = c2.selectbox("Model", [*models.PRESETS, CUSTOM], key=f"{key}_preset",
                          on_change=_apply_recipe, args=(key,), disabled=disabled)
    stack = None
    if preset == CUSTOM:
        stack = _stack_editor(key, disabled)
    else:
        st.caption(models.PRESETS[preset].description)
    shape = data.DATASETS[dataset].image_shape
    try:
        summary = summary_table(preset, json.dumps(stack) if stack else None, shape)
        models.check_input_shape(summary["input_shape"], shape)
    except models.ModelError as err:
        st.error(f"This model cannot be trained: {err}.", icon=":material/block:")
        return None
    _summary_view(summary)
    with st.expander("Training settings", icon=":material/tune:"):
        a, b = st.columns(2)
        optimizer = a.selectbox("Optimizer", ["sgd", "adam", "rmsprop"], key=f"{key}_optimizer",
                                disabled=disabled, format_func=str.upper)
        lr = b.number_input("Learning rate", 1e-6, 1e6, key=f"{key}_learning_rate",
                            format="%g", disabled=disabled)
        batch = a.number_input("Batch size", 1, 8192, key=f"{key}_batch_size", disabled=disabled)
        epochs = b.number_input("Epochs", 1, 200, key=f"{key}_epochs", disabled=disabled)
        val = a.slider("Validation split", 0.0, 0.5, key=f"{key}_validation_split", step=0.05,
                       disabled=disabled)
        subset = b.number_input("Training images (0 = all)", 0, 60000, 0, 500,
                                key=f"{key}_subset", disabled=disabled)
        augment = a.toggle("Augmentation", key=f"{key}_augment", disabled=disabled,
                           help="Random shifts, rotations, zoom and stroke width.")
        seed = b.number_input("Random seed", 0, 2**31 - 1, 0, key=f"{key}_seed", disabled=disabled)
    return training.TrainConfig(
        preset="custom" if stack else preset, dataset=dataset, optimizer=optimizer,
        learning_rate=float(lr), epochs=int(epochs), batch_size=int(batch),
        validation_split=float(val), subset=int(subset) or None, augment=augment,
        seed=int(seed), stack=stack)


def _stack_editor(key: str, disabled: bool) -> list[dict]:
    import pandas as pd

    st.caption("Edit the layers in order (add rows at the bottom, delete with the row "
               "checkbox; renumber `order` to move one). A Flatten and the 10-way softmax "
               "are added at the end.")
    rows = pd.DataFrame([{"order": i + 1, **row} for i, row in enumerate(models.DEFAULT_STACK)])
    cc = st.column_config
    edited = st.data_editor(
        rows, num_rows="dynamic", key=f"{key}_stack", disabled=disabled, hide_index=True,
        width="stretch", column_config={
            "order": cc.NumberColumn("order", min_value=0, step=1, width="small"),
            "layer": cc.SelectboxColumn("layer", options=models.LAYER_TYPES, required=True),
            "units": cc.NumberColumn("filters / units", min_value=0, step=1),
            "size": cc.NumberColumn("kernel / pool", min_value=0, max_value=64, step=1),
            "stride": cc.NumberColumn("stride", min_value=0, max_value=8, step=1),
            "padding": cc.SelectboxColumn("padding", options=["valid", "same"]),
            "activation": cc.SelectboxColumn("activation", options=models.ACTIVATIONS),
            "rate": cc.NumberColumn("dropout rate", min_value=0.0, max_value=0.95, step=0.05),
        })
    edited = edited.dropna(subset=["layer"]).sort_values("order", kind="stable")
    return [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
             for k, v in row.items() if k != "order"} for row in edited.to_dict("records")]


def _summary_view(summary: dict) -> None:
    c1, c2 = st.columns(2)
    c1.metric("Parameters", f"{summary['total_params']:,}")
    c2.metric("FLOPs per image", f"{summary['flops']:,}")
    # the layer names say their type; without that column the table fits the narrow panel
    layer_table(summary, "summary_table", ("FLOPs",), types=False)


# Optional columns of a layer table, from a layer of a ModelSummary dict.
LAYER_COLUMNS = {
    "multiply-adds": lambda layer: layer["macs"],
    "FLOPs": lambda layer: layer["flops"],
    "activation memory (KB)": lambda layer: round(layer["activation_bytes"] / 1024, 1),
}


def layer_table(summary: dict, key: str, columns=(), types: bool = True) -> None:
    """Each layer's name, type, output shape and parameters, plus the chosen LAYER_COLUMNS."""
    import pandas as pd

    st.dataframe(pd.DataFrame([{
        "layer": layer["name"], **({"type": layer["type"]} if types else {}),
        "output shape": "×".join(map(str, layer["output_shape"])),
        "parameters": layer["params"], **{c: LAYER_COLUMNS[c](layer) for c in columns}}
        for layer in summary["layers"]]), hide_index=True, width="stretch", key=key,
        column_config={c: st.column_config.NumberColumn(format="localized")
                       for c in ("parameters", "multiply-adds", "FLOPs")})


def _duration(seconds) -> str:
    if seconds is None:
        return "…"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _stopped_where(s: dict) -> str:
    """Keras ends a stopped epoch early (and still reports it): say which and where."""
    ends = [0, *s["epoch_ends"]]
    if len(ends) == 1:
        return "Stopped before the first batch"
    if ends[-1] - ends[-2] < (s["steps"] or 0):
        return f"Stopped during epoch {len(ends) - 1}, after batch {ends[-1] - ends[-2]}"
    return f"Stopped after epoch {len(ends) - 1}"


def live_view(run, key: str) -> None:
    """Progress bar and curves of a LiveRun, redrawn while it trains."""
    from cnnviz import plots

    s = run.snapshot()
    label = {"starting": "Starting…", "loading": "Loading the data and building the model…",
             "stopping": "Stopping after this batch…",
             "done": f"Finished {s['epochs']} epochs in {_duration(s['seconds'])}",
             "stopped": _stopped_where(s),
             "diverged": "Stopped: the loss diverged",
             "failed": "Failed"}.get(s["status"])
    if label is None and s["steps"]:
        epoch_now = min(s["epoch"] + 1, s["epochs"])
        label = (f"Epoch {epoch_now}/{s['epochs']} · batch {s['batch']}/{s['steps']} · "
                 f"{s['rate'] or 0:,.0f} images/s · ETA {_duration(s['eta'])}")
    st.progress(min(s["images"] / s["total_images"], 1.0) if s["total_images"] else 0.0,
                text=label)
    if s["batch_loss"]:
        previous = st.session_state.get(f"{key}_curves")
        fig = plots.training_curves(s["batch_loss"], s["batch_acc"], s["epoch_logs"],
                                    s["epoch_ends"],
                                    previous[1] if previous and previous[0] == s["run_dir"]
                                    else None)
        st.session_state[f"{key}_curves"] = (s["run_dir"], fig)
        st.plotly_chart(fig, key=f"{key}_curves", width="stretch")


def live_visuals(run, key: str) -> None:
    """The first layer's filters and one test image's feature maps, as last published."""
    s = run.snapshot()
    if s["filters"] is not None:
        left, right = st.columns([1, 1.6])
        with left:
            st.markdown("**First conv layer's filters** (red positive, blue negative)")
            st.plotly_chart(_visual_figure(s, key, "filters"), key=f"{key}_filters",
                            width="stretch")
        with right:
            st.markdown("**Feature maps of one test image**")
            names = list(s["maps"])
            # one layer at a time: every chart shown is redrawn each second, tabs included
            name = st.segmented_control("Layer", names, default=names[0],
                                        key=f"{key}_maps_layer",
                                        label_visibility="collapsed") or names[0]
            st.plotly_chart(_visual_figure(s, key, "maps", name), key=f"{key}_maps",
                            width="stretch")


def _visual_figure(s: dict, key: str, *what: str):
    """A published visual, ("filters",) or ("maps", layer), built once per publication and
    only when shown: rebuilding it on every poll of the page would slow the training."""
    from cnnviz import plots

    cached = st.session_state.get(f"{key}_figures")
    if cached is None or cached[0] != (s["run_dir"], s["visual_version"]):
        cached = ((s["run_dir"], s["visual_version"]), {})
        st.session_state[f"{key}_figures"] = cached
    figures = cached[1]
    if what not in figures:
        # filters: a near-square grid, for their narrow column (one row made them specks)
        figures[what] = plots.filters_grid(s["filters"], cols=None) if what == ("filters",) \
            else plots.feature_maps(s["maps"][what[1]], max_channels=16)
    return figures[what]


@st.cache_resource(show_spinner="Evaluating on the test set…", max_entries=8)
def run_predictions(run_dir: str, mtime: float):  # noqa: ARG001 - mtime keys the cache
    from cnnviz import training

    run = training.read_run(run_dir)
    ds = dataset(run["config"]["dataset"])
    model = models.load(f"{run_dir}/model.keras")
    return training.predict_arrays(model, ds.x_test), ds


def run_report(run_dir: str, key: str) -> None:
    """Test accuracy, confusion matrix with the images of a chosen cell, confident mistakes."""
    from cnnviz import plots, training

    probs, ds = run_predictions(run_dir, _mtime(f"{run_dir}/model.keras"))
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


def use_run_button(run_dir: str, key: str) -> None:
    """Make a run the model chosen on the Draw and Inside pages."""
    from pathlib import Path

    label = f"Run {Path(run_dir).name}"
    if st.button("Use on the Draw and Inside pages", key=key, icon=":material/check_circle:"):
        for picker in ("draw_model", "inside_model"):
            st.session_state[picker] = label
        st.toast(f"{label} is now the model on the Draw and Inside pages.")


# --- inside the network ----------------------------------------------------------------------


def model_dataset(label: str) -> str:
    """The dataset a model learned from: a run says so in its config; others are MNIST."""
    from pathlib import Path

    config = Path(model_path(label)).parent / "config.json"
    return read_json(config).get("dataset", "mnist") if label.startswith("Run ") \
        and config.exists() else "mnist"


@st.cache_resource(max_entries=16)
def _explainer(path: str, mtime: float):
    from cnnviz import explain

    return explain.Explainer(probe(path, mtime).model)


def explainer(label: str):
    path = model_path(label)
    return _explainer(path, _mtime(path))


@st.cache_resource(max_entries=16)
def _dreamer(path: str, mtime: float, layer: str | None):
    from cnnviz import explain

    return explain.Dreamer(probe(path, mtime).model, layer)


def dreamer(label: str, layer: str | None):
    path = model_path(label)
    return _dreamer(path, _mtime(path), layer)


@st.cache_data(show_spinner=False, max_entries=16)
def _model_summary(path: str, mtime: float) -> dict:
    return models.summarize(probe(path, mtime).model).to_dict()


def model_summary(label: str) -> dict:
    path = model_path(label)
    return _model_summary(path, _mtime(path))


@st.cache_data(show_spinner="Building the architecture…")
def architecture_summary(name: str) -> dict:
    return models.summarize(models.build(name)).to_dict()


@st.cache_data(show_spinner=False)
def class_means(name: str) -> np.ndarray:
    ds = dataset(name)
    return np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(len(ds.class_names))])


def inside_input(key: str):
    """A 28x28x1 model input: the drawing, an MNIST test image or an upload; with a caption.
    Returns (None, None) after saying why there is none."""
    from cnnviz import preprocess

    sources = (["Your drawing"] if "drawing" in st.session_state else []) + \
        ["MNIST test image", "Upload"]
    source = st.segmented_control("Input", sources, default=sources[0], key=f"{key}_source") \
        or sources[0]
    if source == "Your drawing":
        return st.session_state["drawing"][..., None], "your drawing"
    if source == "MNIST test image":
        ds = bundled_sample("mnist")
        i = st.slider("Test image #", 0, len(ds.y_test) - 1, 0, key=f"{key}_index")
        return ds.x_test[i], f"MNIST test image #{i} (a {ds.y_test[i]})"
    image = uploaded_digit(f"{key}_upload")
    if image is None:
        return None, None
    result = preprocess.preprocess(image)
    if not result.ok:
        st.warning(result.message)
        return None, None
    return result.model_input, "your upload"


def dream_panel(label: str, key: str) -> None:
    """Activation maximization: settings, a run with progress, results with a PNG export."""
    from cnnviz import explain, images, introspect, plots

    convs = [path for path, _ in introspect.conv_layers(load_model(label).model)]
    target = st.selectbox("Maximise", ["each class score", *[f"each filter of {c}" for c in convs]],
                          key=f"{key}_target")
    layer = None if target == "each class score" else target.removeprefix("each filter of ")
    d = explain.DreamSettings()
    with st.expander("Regularisers", icon=":material/tune:"):
        a, b = st.columns(2)
        settings = explain.DreamSettings(
            steps=a.slider("Steps", 20, 1000, d.steps, 20, key=f"{key}_steps"),
            learning_rate=b.slider("Step size", 0.005, 0.2, d.learning_rate, 0.005,
                                   key=f"{key}_lr"),
            l2=a.slider("L2 (towards black)", 0.0, 0.02, d.l2, 0.001, key=f"{key}_l2",
                        format="%.3f"),
            total_variation=b.slider("Total variation (smoothness)", 0.0, 0.2,
                                     d.total_variation, 0.01, key=f"{key}_tv"),
            jitter=a.slider("Jitter (px)", 0, 4, d.jitter, key=f"{key}_jitter"),
            blur_every=b.slider("Blur every n steps (0 = never)", 0, 32, d.blur_every,
                                key=f"{key}_blur"),
            scale=a.slider("Random scale (±)", 0.0, 0.3, d.scale, 0.05, key=f"{key}_scale"),
            seed=b.number_input("Seed", 0, 10_000, 0, key=f"{key}_seed"))
    wanted = (label, layer, settings)
    if st.button("Run", key=f"{key}_run", icon=":material/auto_awesome:", type="primary"):
        bar = st.progress(0.0, text="Optimising…")
        dream = dreamer(label, layer).run(settings, on_progress=lambda done, total: bar.progress(
            done / total, text=f"Optimising… step {done}/{total}"))
        bar.empty()
        st.session_state[f"{key}_result"] = (wanted, dream)
    stored = st.session_state.get(f"{key}_result")
    if stored is None or stored[0] != wanted:
        st.info("Press Run to optimise one image per target, all at once.",
                icon=":material/auto_awesome:")
        return
    dream = stored[1]
    if layer is None:
        names = dataset(model_dataset(label)).class_names
        titles = [f"{n} {dream.probabilities[i, i]:.0%}" for i, n in enumerate(names)]
        refs = class_means(model_dataset(label))
        st.caption(f"{settings.steps} steps in {dream.seconds:.2f} s. Above: the input that "
                   "maximises each class's score, with the probability the model gives it. "
                   "Below: the mean training image of the class.")
    else:
        titles, refs = [f"#{i} ({v:.2f})" for i, v in enumerate(dream.objective)], None
        st.caption(f"{settings.steps} steps in {dream.seconds:.2f} s: the input each filter of "
                   f"{layer} responds to most (its summed response in brackets).")
    st.plotly_chart(plots.dream_grid(dream.images, titles, refs), key=f"{key}_grid",
                    width="stretch")
    st.download_button("Download PNG", images.png_bytes(images.tile(dream.images, 10), scale=4),
                       file_name="activation-maximization.png", mime="image/png",
                       key=f"{key}_png", icon=":material/download:")


def explanation_maps(label: str, image: np.ndarray, cls: int, layer: str | None = None,
                     methods=("Gradient", "SmoothGrad", "Grad-CAM")) -> dict:
    """The chosen saliency maps for class `cls`, or an error shown and an empty dict."""
    from cnnviz import explain

    e = explainer(label)
    compute = {"Gradient": lambda: e.gradient(image, cls),
               "SmoothGrad": lambda: e.smoothgrad(image, cls),
               "Grad-CAM": lambda: e.gradcam(image, cls, layer)}
    try:
        maps = {}
        for method in methods:
            value = compute[method]()  # raises first when there is no conv layer
            name = f"Grad-CAM ({layer or e.conv_paths[-1]})" if method == "Grad-CAM" else method
            maps[name] = value
        return maps
    except explain.ExplainError as err:
        st.error(f"No explanation for this model: {err}.")
        return {}
