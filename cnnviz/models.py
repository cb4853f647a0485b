"""Model presets (Functional, named layers) with their recipes, and safe load/save. The Train
page's editable layer stack is in `stack`, per-layer costs in `summary`, introspection in
`introspect`."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cnnviz.files import atomic_path

ASSETS = Path(__file__).parent / "assets"
SHIPPED_MODEL = ASSETS / "lenet5.keras"
SHIPPED_CARD = ASSETS / "lenet5.json"


@dataclass(frozen=True)
class Recipe:
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    validation_split: float = 0.0
    augment: bool = False
    cosine_decay: bool = False
    note: str = ""


@dataclass(frozen=True)
class Preset:
    name: str
    dataset: str
    description: str
    recipe: Recipe
    published_accuracy: float | None = None
    better_recipes: dict = field(default_factory=dict)


def _layers():
    from keras import layers  # lazy: importing Keras costs seconds

    return layers


def functional(name, input_shape, blocks, head):
    """Build a Functional model from ("conv"|"pool"|"avgpool"|"dense"|"flatten", args) steps."""
    import keras

    L = _layers()
    inputs = keras.Input(shape=input_shape, name="input")
    x = inputs
    counts: dict[str, int] = {}
    for kind, kwargs in [*blocks, *head]:
        counts[kind] = counts.get(kind, 0) + 1
        layer_name = f"{kind}{counts[kind]}"
        if kind == "conv":
            x = L.Conv2D(name=layer_name, **kwargs)(x)
        elif kind == "maxpool":
            x = L.MaxPooling2D(name=layer_name, **kwargs)(x)
        elif kind == "avgpool":
            x = L.AveragePooling2D(name=layer_name, **kwargs)(x)
        elif kind == "flatten":
            x = L.Flatten(name=layer_name if counts[kind] > 1 else "flatten")(x)
        elif kind == "dense":
            x = L.Dense(name=layer_name, **kwargs)(x)
        elif kind == "dropout":
            x = L.Dropout(name=layer_name, **kwargs)(x)
        elif kind == "batchnorm":
            x = L.BatchNormalization(name=layer_name, **kwargs)(x)
    return keras.Model(inputs, x, name=name)


def lenet5():
    return functional(
        "lenet5",
        (28, 28, 1),
        [
            ("conv", dict(filters=6, kernel_size=5, activation="relu")),
            ("avgpool", dict(pool_size=2)),
            ("conv", dict(filters=16, kernel_size=5, activation="relu")),
            ("avgpool", dict(pool_size=2)),
        ],
        [
            ("flatten", {}),
            ("dense", dict(units=120, activation="relu")),
            ("dense", dict(units=84, activation="relu")),
            ("dense", dict(units=10, activation="softmax")),
        ],
    )


def lenet5_classic():
    """LeCun et al. 1998 on a 32x32 input: C1, S2, C3, S4, C5 (a 5x5 conv to 1x1x120), F6, out.

    Two simplifications everyone makes: C3 connects to all six S2 maps (the paper used a
    partial table) and the output is a softmax instead of the paper's RBF units.
    """
    return functional(
        "lenet5_classic",
        (32, 32, 1),
        [
            ("conv", dict(filters=6, kernel_size=5, activation="tanh")),
            ("avgpool", dict(pool_size=2)),
            ("conv", dict(filters=16, kernel_size=5, activation="tanh")),
            ("avgpool", dict(pool_size=2)),
            ("conv", dict(filters=120, kernel_size=5, activation="tanh")),
        ],
        [
            ("flatten", {}),
            ("dense", dict(units=84, activation="tanh")),
            ("dense", dict(units=10, activation="softmax")),
        ],
    )


def mnist_cnn_small():
    return functional(
        "mnist_cnn_small",
        (28, 28, 1),
        [
            ("conv", dict(filters=32, kernel_size=3, activation="relu")),
            ("maxpool", dict(pool_size=2)),
            ("conv", dict(filters=64, kernel_size=3, activation="relu")),
            ("maxpool", dict(pool_size=2)),
        ],
        [("flatten", {}), ("dense", dict(units=10, activation="softmax"))],
    )


def _mnist_cnn_shape(name, input_shape):
    return functional(
        name,
        input_shape,
        [
            ("conv", dict(filters=32, kernel_size=3, activation="relu")),
            ("maxpool", dict(pool_size=2)),
            ("conv", dict(filters=64, kernel_size=3, activation="relu")),
            ("maxpool", dict(pool_size=2)),
            ("conv", dict(filters=64, kernel_size=3, activation="relu")),
        ],
        [
            ("flatten", {}),
            ("dense", dict(units=64, activation="relu")),
            ("dense", dict(units=10, activation="softmax")),
        ],
    )


def mnist_cnn():
    return _mnist_cnn_shape("mnist_cnn", (28, 28, 1))


def cifar10_cnn():
    return _mnist_cnn_shape("cifar10_cnn", (32, 32, 3))


def alexnet():
    """AlexNet (Krizhevsky et al. 2012) as one tower on 227×227×3, without its local response
    normalisation (no weights: built for its shapes and costs only)."""
    conv = lambda f, k, **kw: ("conv", dict(filters=f, kernel_size=k, activation="relu", **kw))  # noqa: E731
    pool = ("maxpool", dict(pool_size=3, strides=2))
    return functional(
        "alexnet", (227, 227, 3),
        [conv(96, 11, strides=4), pool, conv(256, 5, padding="same"), pool,
         conv(384, 3, padding="same"), conv(384, 3, padding="same"),
         conv(256, 3, padding="same"), pool],
        [("flatten", {}), ("dense", dict(units=4096, activation="relu")),
         ("dense", dict(units=4096, activation="relu")),
         ("dense", dict(units=1000, activation="softmax"))],
    )


def vgg16():
    """Keras' own VGG16 without weights (nothing is downloaded)."""
    import keras

    return keras.applications.VGG16(weights=None)


BUILDERS = {
    "lenet5": lenet5,
    "lenet5_classic": lenet5_classic,
    "mnist_cnn_small": mnist_cnn_small,
    "mnist_cnn": mnist_cnn,
    "cifar10_cnn": cifar10_cnn,
}
ARCHITECTURES = {"alexnet": alexnet, "vgg16": vgg16}  # for the gallery and `summary` only

# The recipe that reached >=99% here for LeNet-5; see the model card of the shipped model.
LENET5_ADAM = Recipe("adam", 2e-3, 45, 128, 0.0, True, True,
                     "Adam, cosine decay, augmentation for drawn digits (the shipped model)")

# The Train page's starting recipe: with 6,000 images, tens of steps a second to watch and
# over 90% test accuracy in well under a minute on two CPU cores.
LENET5_QUICK = Recipe("adam", 1e-3, 2, 64, note="A first look: Adam, small batches, 2 epochs")

PRESETS = {
    "lenet5": Preset(
        "lenet5", "mnist",
        "LeNet-5 as in the Keras tutorial: ReLU, average pooling, 28x28 input.",
        Recipe("sgd", 0.05, 20, 4096,
               note="The tutorial's recipe; with batch 4096 plain SGD converges slowly."),
        None,
        {"adam_augmented": LENET5_ADAM, "quick": LENET5_QUICK},
    ),
    "lenet5_classic": Preset(
        "lenet5_classic", "mnist",
        "The original LeNet-5 (1998): tanh, average pooling, MNIST padded to 32x32.",
        Recipe("sgd", 0.05, 20, 128, note="Plain SGD, as in the era of the paper."),
        None,
        {"adam": Recipe("adam", 1e-3, 10, 128, 0.1)},
    ),
    "mnist_cnn_small": Preset(
        "mnist_cnn_small", "mnist",
        "Keras example 'Simple MNIST convnet' without dropout.",
        Recipe("adam", 1e-3, 15, 128, 0.1), 0.9893,
    ),
    "mnist_cnn": Preset(
        "mnist_cnn", "mnist",
        "Three conv layers and a small dense head (TensorFlow CNN tutorial shape).",
        Recipe("rmsprop", 1e-3, 5, 64), 0.9913,
    ),
    "cifar10_cnn": Preset(
        "cifar10_cnn", "cifar10",
        "The TensorFlow CNN tutorial on CIFAR-10.",
        Recipe("adam", 1e-3, 10, 32, 0.0), 0.80,
    ),
}


class ModelError(ValueError):
    """A model file or preset name that cannot be used; the message says what to do."""


def build(name: str):
    builder = BUILDERS.get(name) or ARCHITECTURES.get(name)
    if builder is None:
        raise ModelError(
            f"unknown preset {name!r}; choose one of: {', '.join([*BUILDERS, *ARCHITECTURES])}"
        )
    return builder()


# Limits checked before Keras opens a file. The shipped LeNet-5 is 0.6 MB and Keras stores
# members uncompressed; weights barely compress anyway (~1.1 to 1), while a zip bomb packs
# gigabytes of zeros 1000 to 1. Python's zipfile stops each member at its declared size, so
# checking the declared sizes bounds what unpacking can write.
MAX_MODEL_BYTES = 100 * 2**20
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_COMPRESSION_RATIO = 100
_RATIO_FROM_BYTES = 2**20  # tiny members (configs) may compress well: only large ones count


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f} MB"


def check_archive(path) -> None:
    """Refuse (ModelError) a model file too large on disk or unpacked, or a zip bomb."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise ModelError(f"{path.name} is {_mb(size)}; models up to {_mb(MAX_MODEL_BYTES)} "
                         "can be used here")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ModelError(f"{path.name} is not a valid .keras file (it is not a zip "
                         "archive)") from None
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelError(f"{path.name} would unpack to {_mb(unpacked)}; the limit is "
                         f"{_mb(MAX_UNPACKED_BYTES)}")
    for m in members:
        if m.file_size >= _RATIO_FROM_BYTES and \
                m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
            raise ModelError(f"{path.name} is compressed "
                             f"{m.file_size / max(m.compress_size, 1):,.0f} to 1, as zip bombs "
                             "are, so it was not opened")


def load(path) -> "keras.Model":  # noqa: F821
    """Load a user's .keras file with safe_mode (no arbitrary code in Lambda layers), after
    `check_archive`. Messages name the file, never the folder it is in."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path.name} is a folder, not a .keras file")
    if not path.is_file():
        raise ModelError(f"no model file named {path.name} was found")
    if path.suffix != ".keras":
        raise ModelError(f"{path.name} is not a .keras file; save models with model.save('x.keras')")
    check_archive(path)
    import keras  # only now: importing TensorFlow takes seconds and prints to stderr

    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        first_line = first_line.replace(str(path.parent), "…")  # Keras may quote the full path
        raise ModelError(f"{path.name} could not be loaded as a Keras model: {first_line}") from err
    if not isinstance(model, keras.Model):
        raise ModelError(f"{path.name} does not contain a Keras model")
    return model


def build_or_load(name_or_path: str):
    if name_or_path in BUILDERS or name_or_path in ARCHITECTURES:
        return build(name_or_path)
    if not Path(name_or_path).exists() and not name_or_path.endswith(".keras"):
        raise ModelError(
            f"{name_or_path!r} is neither a preset ({', '.join(BUILDERS)}) nor a .keras file"
        )
    return load(name_or_path)


def save(model, path) -> Path:
    """Write atomically: a crash mid-save leaves the previous file intact."""
    with atomic_path(path) as tmp:
        model.save(tmp)
    return Path(path)


def check_input_shape(input_shape, image_shape) -> None:
    """Raise ModelError unless images of `image_shape` fit the input (zero-padded if smaller;
    a size of None takes any)."""
    want = tuple(None if d is None else int(d) for d in input_shape)
    h, w, c = image_shape
    if len(want) != 3 or want[2] != c or any(
            d is not None and d < n for d, n in zip(want[:2], (h, w))):
        raise ModelError(
            f"the model expects inputs of shape {want} but the images are {h}x{w}x{c}"
        )


def check_input(model, image_shape) -> None:
    """Raise ModelError unless the model classifies images of `image_shape` into 10 classes
    with exactly their channels (what training and evaluation on a dataset need)."""
    from cnnviz import introspect

    check_input_shape(model.input_shape[1:] if len(model.inputs) == 1 else (), image_shape)
    introspect.classifier(model, image_shape)
