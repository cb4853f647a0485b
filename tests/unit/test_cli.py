import json
import subprocess
import sys

import keras
import pytest

from cnnviz import models
from tests.conftest import ROOT, requires_data


def cli(*args, check_rc=None):
    proc = subprocess.run([sys.executable, "-m", "cnnviz", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


@pytest.mark.parametrize("name", [*models.BUILDERS, *models.ARCHITECTURES])
def test_summary_json_matches_keras(name):
    out = json.loads(cli("summary", name, "--json", check_rc=0).stdout)
    model = models.build(name)
    assert out["name"] == name
    assert out["total_params"] == model.count_params()
    assert out["trainable_params"] == model.count_params()
    assert out["input_shape"] == list(model.input_shape[1:])
    assert sum(layer["params"] for layer in out["layers"]) == out["total_params"]
    assert sum(layer["flops"] for layer in out["layers"]) == out["flops"]
    assert set(out["layers"][0]) == {"name", "type", "output_shape", "params", "flops", "macs",
                                     "activation_bytes"}


def test_summary_text_of_a_saved_file(tmp_path):
    path = models.save(models.build("mnist_cnn"), tmp_path / "m.keras")
    text = cli("summary", str(path), check_rc=0).stdout
    assert "conv3" in text and "total params 93,322" in text


@pytest.mark.parametrize("args, message", [
    (["summary", "resnet"], "neither a preset"),
    (["summary", "missing.keras"], "no model file"),
    (["train", "--preset", "lenet5", "--recipe", "magic"], "has no recipe"),
    (["evaluate", "pytest.ini", "--dataset", "mnist"], "not a .keras file"),
])
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(args, message):
    proc = cli(*args, check_rc=2)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_argparse_errors_also_exit_2():
    proc = cli("train", "--preset", "nope", check_rc=2)
    assert "invalid choice" in proc.stderr


@requires_data
def test_shipped_model_evaluates_at_least_99_percent():
    out = json.loads(cli("evaluate", str(models.SHIPPED_MODEL), "--dataset", "mnist", "--json",
                         check_rc=0).stdout)
    assert out["n"] == 10_000 and not out["dataset_is_sample"]
    assert out["accuracy"] >= 0.990
    card = json.loads(models.SHIPPED_CARD.read_text())
    assert abs(card["test_accuracy"] - out["accuracy"]) < 1e-9


@requires_data
def test_evaluate_refuses_a_model_with_the_wrong_input_shape(tmp_path):
    path = models.save(models.build("cifar10_cnn"), tmp_path / "cifar.keras")
    proc = cli("evaluate", str(path), "--dataset", "mnist", check_rc=2)
    assert "expects inputs of shape (32, 32, 3)" in proc.stderr


def test_evaluate_refuses_a_corrupt_model(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 truncated")
    proc = cli("evaluate", str(bad), "--dataset", "mnist", check_rc=2)
    assert "bad.keras" in proc.stderr and "Traceback" not in proc.stderr


@requires_data
def test_train_writes_a_run_directory_and_prints_json(tmp_path):
    proc = cli("train", "--preset", "mnist_cnn_small", "--dataset", "mnist", "--epochs", "1",
               "--subset", "512", "--batch-size", "64", "--out", str(tmp_path), "--json",
               check_rc=0)
    out = json.loads(proc.stdout)
    run = tmp_path / out["run_dir"].split("/")[-1]
    assert {p.name for p in run.iterdir()} == {"model.keras", "history.json", "config.json", "logs"}
    assert len(out["history"]["loss"]) == 1 and 0.0 <= out["test_accuracy"] <= 1.0
    assert isinstance(keras.models.load_model(run / "model.keras"), keras.Model)
    config = json.loads((run / "config.json").read_text())
    assert config["subset"] == 512 and config["optimizer"] == "adam"


def test_predict_json_lines_for_files_and_a_folder_with_a_bad_file(tmp_path):
    import numpy as np
    from PIL import Image

    from bench.drawn_digits import redraw
    from cnnviz import data, preprocess

    sample = data.load_sample("mnist")
    rng = np.random.default_rng(0)
    folder = tmp_path / "digits"
    folder.mkdir()
    drawings = {}
    for i in range(3):
        img = redraw(sample.x_test[i * 100, ..., 0], rng)
        drawings[f"d{i}.png"] = img
        Image.fromarray(img).save(folder / f"d{i}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    proc = cli("predict", str(folder), "--json", check_rc=0)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["path"].split("/")[-1] for line in lines] == ["broken.png", "d0.png", "d1.png", "d2.png"]
    assert "error" in lines[0] and "not an image" in lines[0]["error"]
    model = models.load(models.SHIPPED_MODEL)
    for line in lines[1:]:
        x = preprocess.preprocess(drawings[line["path"].split("/")[-1]]).model_input
        expected = model(x[None], training=False).numpy()[0]
        np.testing.assert_allclose(line["probs"], expected, rtol=1e-4, atol=1e-6)
        assert line["label"] == int(expected.argmax())
        assert line["confidence"] == pytest.approx(float(expected.max()), rel=1e-5)


def test_predict_exits_2_when_nothing_could_be_read(tmp_path):
    (tmp_path / "a.png").write_bytes(b"junk")
    proc = cli("predict", str(tmp_path / "a.png"), str(tmp_path / "missing.png"), "--json", check_rc=2)
    assert len(proc.stdout.splitlines()) == 2 and "none of the images" in proc.stderr


def test_dream_writes_one_png_per_class_that_the_model_recognises(tmp_path):
    import numpy as np
    from PIL import Image

    out = json.loads(cli("dream", "--out", str(tmp_path / "dreams"), "--steps", "200", "--json",
                         check_rc=0).stdout)
    assert [c["class"] for c in out["classes"]] == list(range(10))
    assert out["seconds"] > 0
    model = models.load(models.SHIPPED_MODEL)
    for c in out["classes"]:
        assert c["self_prob"] >= 0.9
        png = np.asarray(Image.open(c["path"]), np.float32)[None, ..., None] / 255
        assert png.shape == (1, 28, 28, 1)
        assert model(png, training=False).numpy()[0].argmax() == c["class"]  # the saved file


def test_dream_refuses_zero_steps(tmp_path):
    proc = cli("dream", "--out", str(tmp_path), "--steps", "0", check_rc=2)
    assert "at least 1" in proc.stderr
