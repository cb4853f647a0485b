"""The bad-input suite: named cases through the real entry points (CLI, pages via AppTest, the
upload and training code the pages call). Each must give a clear message, keep the app
running, and leave nothing on disk lost or half-written."""

import io
import json
import signal
import struct
import re
import subprocess
import sys
import time
import zipfile
import zlib

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import explain, layer_stack, live, models, preprocess, runs, training
from tests.conftest import ROOT, requires_data


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def digit(size=120) -> Image.Image:
    img = Image.new("L", (size, size), 255)
    img.paste(0, (size // 2 - size // 12, size // 6, size // 2 + size // 12, size * 5 // 6))
    return img  # a dark "1" on white paper


def exif_rotated() -> bytes:
    img = digit().rotate(90, expand=True)  # stored on its side ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and tagged to be shown rotated back
    return encode(img.convert("RGB"), "JPEG", exif=exif)


def animated() -> bytes:
    return encode(digit().convert("P"), "GIF", save_all=True,
                  append_images=[Image.new("P", (120, 120))])


def palette_with_alpha() -> bytes:
    img = Image.new("P", (60, 60), 0)
    img.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    img.paste(1, (25, 10, 35, 50))
    return encode(img, "PNG", transparency=0)


def png_header(width: int, height: int, colour_type: int) -> bytes:
    """An 8-bit PNG that declares its size and ends there."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# name -> (file bytes, "error" message expected, or a predicted digit)
IMAGES = {
    "empty file": (b"", "is empty"),
    "not an image": (b"%PDF-1.7 pretending", "not an image"),
    "truncated PNG": (encode(digit(), "PNG")[:80], "damaged or truncated"),
    "truncated JPEG": (encode(digit().convert("RGB"), "JPEG")[:300], "damaged or truncated"),
    "decompression bomb": (encode(Image.new("1", (12_000, 12_000)), "PNG"),
                           "too large|decompression bomb"),
    "header declaring 8000x8000 RGBA": (png_header(8000, 8000, 6), "244 MB of memory to decode"),
    "1x1 pixel": (encode(Image.new("L", (1, 1), 0), "PNG"), "nothing|blank|too small"),
    "10000x10000 image": (encode(digit(10_000).convert("1"), "PNG"), 1),
    "16-bit PNG": (encode(Image.fromarray(np.asarray(digit(), np.uint16) * 257), "PNG"), 1),
    "CMYK TIFF": (encode(digit().convert("CMYK"), "TIFF"), 1),
    "palette with alpha": (palette_with_alpha(), 1),
    "animated GIF": (animated(), 1),
    "EXIF-rotated JPEG": (exif_rotated(), 1),
}


@pytest.fixture(scope="module")
def predicted(tmp_path_factory):
    """One `python -m cnnviz predict --json` over every bad image file."""
    folder = tmp_path_factory.mktemp("images")
    suffix = {"EXIF-rotated JPEG": ".jpg", "CMYK TIFF": ".tif", "animated GIF": ".gif",
              "truncated JPEG": ".jpg"}
    paths = {}
    for name, (raw, _) in IMAGES.items():
        paths[name] = folder / (name.replace(" ", "_") + suffix.get(name, ".png"))
        paths[name].write_bytes(raw)
    proc = subprocess.run([sys.executable, "-m", "cnnviz", "predict", "--json", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr  # some files were readable: exit 0
    assert "Traceback" not in proc.stderr
    lines = {json.loads(line)["path"]: json.loads(line) for line in proc.stdout.splitlines()}
    return {name: lines[str(path)] for name, path in paths.items()}


@pytest.mark.parametrize("name", list(IMAGES))
def test_image_through_the_cli_predict(predicted, name):
    expected = IMAGES[name][1]
    line = predicted[name]
    if isinstance(expected, str):
        assert "error" in line
        assert any(word in line["error"].lower() for word in expected.lower().split("|")), line
    else:
        assert line.get("label") == expected, line


@pytest.mark.parametrize("name", list(IMAGES))
def test_image_through_the_upload_handlers(name):
    """What the Draw page and the labs do with an upload: decode, convert, preprocess."""
    raw, expected = IMAGES[name]
    try:
        img = preprocess.open_image(raw, name)
    except preprocess.ImageError as err:
        assert isinstance(expected, str) and re.search(expected, str(err)), str(err)
        return
    rgb = preprocess.shrink(preprocess.to_rgb(img.copy()), 512)  # the Convolution lab
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and max(rgb.shape[:2]) <= 512
    assert np.isfinite(rgb).all() and 0 <= rgb.min() and rgb.max() <= 1
    result = preprocess.preprocess(preprocess.pil_to_array(img))  # the Draw page
    if isinstance(expected, str):  # readable, but nothing to classify: the page says why
        assert not result.ok and re.search(expected, result.message, re.I), result.message
    else:  # a drawn 1 in an odd container: it reaches the model as a digit
        assert result.ok and result.model_input.shape == (28, 28, 1)
        assert result.model_input.max() > 0.5


# --- kernels, matrices and layer parameters in the labs -----------------------------------


def conv_lab() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/conv.py"), default_timeout=120).run()
    at.segmented_control(key="conv_family").set_value("Custom").run()
    return at


@pytest.mark.parametrize("name, text, message", [
    ("kernel with NaN", "1 nan\n0 1", "NaN or infinity"),
    ("kernel with inf", "inf 0\n0 1", "NaN or infinity"),
    ("kernel with 1e30", "1e30 0\n0 1", "exceeds"),
    ("empty kernel", "   ", "empty"),
    ("8x8 kernel", "\n".join(["1 " * 8] * 8), "8×8"),
    ("ragged kernel", "1 2 3\n4 5", "same number"),
    ("words in a kernel", "one two", "'one' is not a number"),
])
def test_kernel_in_the_conv_lab(name, text, message):
    at = conv_lab()
    at.text_area(key="conv_custom").set_value(text).run()
    assert not at.exception
    assert message in at.error[0].value
    at.text_area(key="conv_custom").set_value("0 1 0\n1 -4 1\n0 1 0").run()  # recovers
    assert not at.error and not at.exception


def test_kernel_larger_than_the_padded_input():
    at = conv_lab()
    at.text_area(key="conv_custom").set_value("\n".join(["1 " * 7] * 7))
    at.selectbox(key="conv_source").set_value("Photo (Chelsea the cat)").run()
    at.slider(key="conv_side").set_value(16)
    at.slider(key="conv_dilation").set_value(3).run()
    assert not at.exception
    assert "spans 19×19 pixels but the padded input is only 11×16" in at.error[0].value
    at.segmented_control(key="conv_padding").set_value("same").run()  # padding rescues it
    assert not at.error and not at.exception


def test_pool_lab_matrix_with_text_and_too_big_window():
    at = AppTest.from_file(str(ROOT / "pages/pool.py"), default_timeout=60).run()
    at.text_area(key="pool_matrix").set_value("1 2\n3 four").run()
    assert "'four' is not a number" in at.error[0].value
    at.text_area(key="pool_matrix").set_value("1 2\n3 4")
    at.slider(key="pool_size").set_value(4).run()
    assert "No output" in at.error[0].value and not at.exception


# --- models ----------------------------------------------------------------------------------


def lambda_model(path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2)(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    keras.Model(inputs, outputs).save(path)


def zip_bomb(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.weights.h5", bytes(4 * 2**20))  # 4 MB of zeros in ~4 KB


def small_input_model(path):
    inputs = keras.Input((20, 20, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, outputs).save(path)


def regression_model(path):
    inputs = keras.Input((28, 28, 1))
    keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs))).save(path)


@pytest.mark.parametrize("name, make, message", [
    ("Lambda layer refused by safe mode", lambda_model, "could not be loaded"),
    ("corrupt zip", lambda p: p.write_bytes(b"PK\x03\x04 truncated zip"), "not a zip|could not"),
    ("random bytes named .keras", lambda p: p.write_bytes(np.random.bytes(500)),
     "not a zip|could not"),
    ("input smaller than a digit", small_input_model, "takes 20×20 images, smaller than"),
    ("a non-classifier", regression_model, "its output is 1; the app needs one vector of 10"),
    ("zip bomb", lambda p: zip_bomb(p), "as zip bombs are"),
])
def test_model_file_through_the_cli_and_the_page_check(tmp_path, name, make, message):
    path = tmp_path / "model.keras"
    make(path)
    image = tmp_path / "one.png"
    image.write_bytes(encode(digit(), "PNG"))
    proc = subprocess.run([sys.executable, "-m", "cnnviz", "predict", "--model", str(path),
                           str(image)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert any(m in proc.stderr for m in message.split("|")), proc.stderr
    with pytest.raises(models.ModelError):  # what the model picker runs on an upload
        explain.Probe(models.load(path))


# --- architectures ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, stack, message", [
    ("zero-size output", [dict(layer="Conv2D", units=8, size=29, stride=1, padding="valid")],
     "does not fit its 28×28 input"),
    ("billions of parameters", [dict(layer="Flatten"), dict(layer="Dense", units=2_000_000)],
     "parameters; the limit"),
])
def test_impossible_architecture_is_refused_on_the_train_page(name, stack, message):
    at = AppTest.from_file(str(ROOT / "pages/train.py"), default_timeout=120).run()
    at.selectbox(key="train_preset").set_value("custom (edit the layers)").run()
    with pytest.raises(models.ModelError, match=message):
        layer_stack.build_stack(stack, (28, 28, 1))
    assert not at.exception


# --- training --------------------------------------------------------------------------------


def tiny(**kw):
    return training.TrainConfig(**{**dict(preset="lenet5", epochs=1, subset=300,
                                          batch_size=50), **kw})


@requires_data
def test_training_with_lr_1e6_stops_with_advice(tmp_path):
    run = live.LiveRun(tiny(optimizer="sgd", learning_rate=1e6), tmp_path).start()
    run.join(timeout=300)
    assert run.snapshot().status is live.Status.DIVERGED
    assert "lower learning rate" in run.snapshot().message
    assert list(tmp_path.iterdir()) == []  # no half-made run, not even a hidden one


def test_a_stack_too_big_for_memory_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "memory_budget", lambda: 2**30)
    wide = [dict(layer="Conv2D", units=512, size=3, stride=1, padding="same",
                 activation="relu")]
    config = tiny(preset="custom", stack=wide, batch_size=4096)
    run = live.LiveRun(config, tmp_path).start()
    run.join(timeout=60)
    s = run.snapshot()
    assert s.status is live.Status.FAILED and s.batch_loss == ()
    assert s.message == (
        "Training could not start: one batch of 4,096 images would need about 18.4 GB for "
        "this network's activations, more than the 1.0 GB a training may use here; use a "
        "smaller batch size, or pool or stride earlier.")
    assert list(tmp_path.iterdir()) == []


@requires_data
def test_stop_during_the_first_batch_still_saves_a_usable_run(tmp_path):
    run = live.LiveRun(tiny(epochs=20), tmp_path)
    run.stop()  # before (and so during) the first batch
    assert run.snapshot().status is live.Status.STOPPING
    run.start().join(timeout=300)
    s = run.snapshot()
    assert s.status is live.Status.STOPPED and len(s.batch_loss) == 1
    models.load(runs.list_runs(tmp_path)[0] / "model.keras")


SAVER = """
import sys
from cnnviz import models
model = models.build("mnist_cnn")
print("ready", flush=True)
while True:
    models.save(model, sys.argv[1])
"""


def test_kill_during_save_leaves_the_previous_model_intact(tmp_path):
    path = tmp_path / "model.keras"
    models.save(models.build("lenet5"), path)
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # it is saving over and over: the kill lands mid-save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    model = models.load(path)  # the last complete save, never a torn file
    assert model.count_params() in (models.build("lenet5").count_params(),
                                    models.build("mnist_cnn").count_params())


@requires_data
def test_a_broken_run_folder_is_listed_with_its_problem(tmp_path):
    """What the Runs page shows: the good run, and the broken one with one sentence."""
    good = training.train(tiny(), tmp_path)
    broken = tmp_path / "broken-run"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"")
    (broken / "config.json").write_text('{"preset": "lenet5", "dataset": "mnist"}')
    (broken / "history.json").write_text("{ not json")
    scanned = {e.name: e for e in runs.scan_runs(tmp_path)}
    assert scanned["broken-run"].problem == "history.json is not valid JSON"
    assert scanned[good.run_dir.name].record.test_accuracy == good.test_accuracy
    assert runs.list_runs(tmp_path) == [good.run_dir]


def test_cifar10_unavailable_says_what_to_do(monkeypatch):
    from cnnviz import data

    def offline(name):
        raise OSError("no network")

    monkeypatch.setattr(data, "_keras_load", offline)
    data.load.cache_clear()
    try:
        with pytest.raises(data.DatasetUnavailable, match="KERAS_HOME/datasets"):
            data.load("cifar10")
    finally:
        data.load.cache_clear()
