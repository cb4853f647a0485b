import json
import os
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
    assert proc.stderr == "error: --steps must be between 1 and 5,000 (got 0)\n"


# --- bad arguments, in-process: one line on stderr, exit 2, before any long work ------------

from cnnviz import __main__ as cli_main  # noqa: E402
from cnnviz import data, training  # noqa: E402


@pytest.fixture
def no_long_work(monkeypatch):
    """Fail the test if the data is loaded, a model is built or training starts."""
    def long_work(*args, **kwargs):
        raise AssertionError("long work started before the arguments were checked")
    for module, name in ((data, "load"), (models, "build"), (models, "load"),
                         (training, "train")):
        monkeypatch.setattr(module, name, long_work)


def run_main(capsys, *argv):
    code = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


TRAIN = ["train", "--preset", "lenet5", "--quiet"]


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
    (["--batch-size", "-32"], "--batch-size must be at least 1 (got -32)"),
    (["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    (["--epochs", "-1"], "--epochs must be at least 1 (got -1)"),
    (["--subset", "0"], "--subset must be at least 1 (got 0)"),
    (["--subset", "-5"], "--subset must be at least 1 (got -5)"),
    (["--lr", "nan"], "--lr must be a number above 0 and at most 10 (got nan)"),
    (["--lr", "inf"], "--lr must be a number above 0 and at most 10 (got inf)"),
    (["--lr=-inf"], "--lr must be a number above 0 and at most 10 (got -inf)"),
    (["--lr", "0"], "--lr must be a number above 0 and at most 10 (got 0)"),
    (["--lr", "-0.001"], "--lr must be a number above 0 and at most 10 (got -0.001)"),
    (["--lr", "11"], "--lr must be a number above 0 and at most 10 (got 11)"),
    (["--lr", "1e6"], "--lr must be a number above 0 and at most 10 (got 1e+06)"),
    (["--seed", "-1"], "--seed must be 0 or more (got -1)"),
    (["--recipe", "magic"], "preset lenet5 has no recipe 'magic'; it has: adam_augmented, quick"),
])
def test_bad_train_arguments_are_refused_before_any_work(tmp_path, capsys, no_long_work, args,
                                                         message):
    out_dir = tmp_path / "runs"
    code, out, err = run_main(capsys, *TRAIN, "--out", str(out_dir), *args)
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert not out_dir.exists()  # no run folder, not even the runs folder


def export_cases(tmp_path):
    (tmp_path / "a-folder.keras").mkdir()
    (tmp_path / "read-only").mkdir()
    return {
        "missing folder": (tmp_path / "nowhere" / "m.keras",
                           f"the folder {tmp_path / 'nowhere'} does not exist"),
        "a folder": (tmp_path / "a-folder.keras", "is a folder; give a file name ending in .keras"),
        "not .keras": (tmp_path / "m.h5", "must end in .keras"),
        "not writable": (tmp_path / "read-only" / "m.keras",
                         f"the folder {tmp_path / 'read-only'} cannot be written to"),
    }


@pytest.mark.parametrize("case", ["missing folder", "a folder", "not .keras", "not writable"])
def test_a_bad_export_path_is_refused_before_training(tmp_path, capsys, monkeypatch, no_long_work,
                                                      case):
    path, message = export_cases(tmp_path)[case]
    real_access = os.access  # the tests run as root, who may write anywhere: pretend otherwise
    monkeypatch.setattr(os, "access", lambda p, mode: "read-only" not in str(p)
                        and real_access(p, mode))
    code, out, err = run_main(capsys, *TRAIN, "--out", str(tmp_path / "runs"),
                              "--export", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"error: --export {path}") and err.endswith(f"{message}\n")
    assert err.count("\n") == 1 and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("a file"), "is a file, not a folder"),
    (lambda p: p.mkdir(), "cannot be written to (no permission for"),
])
def test_a_bad_out_folder_is_refused_before_training(tmp_path, capsys, monkeypatch, no_long_work,
                                                     make, message):
    out_dir = tmp_path / "runs"
    make(out_dir)
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    code, out, err = run_main(capsys, *TRAIN, "--out", str(out_dir / "deeper"))
    assert code == 2 and err.startswith("error: --out ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("steps", ["0", "-3", "5001", "1000000"])
def test_dream_steps_out_of_range_are_refused_before_loading_the_model(tmp_path, capsys,
                                                                       no_long_work, steps):
    code, out, err = run_main(capsys, "dream", "--out", str(tmp_path / "d"), "--steps", steps)
    assert (code, err) == (2, f"error: --steps must be between 1 and 5,000 (got {steps})\n")
    assert not (tmp_path / "d").exists()


def model_files(tmp_path):
    import zipfile

    (tmp_path / "dir.keras").mkdir()
    (tmp_path / "plain.keras").write_text("just text")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("readme.txt", "not a model")
    return {
        "a folder": ("dir.keras", "error: dir.keras is a folder, not a .keras file"),
        "missing": ("missing.keras", "error: no model file named missing.keras was found"),
        "not a zip": ("plain.keras",
                      "error: plain.keras is not a valid .keras file (it is not a zip archive)"),
        "zip, not a model": ("other.keras",
                             "error: other.keras could not be loaded as a Keras model: "),
    }


@pytest.mark.parametrize("command", ["evaluate", "predict", "dream", "summary", "robustness"])
@pytest.mark.parametrize("case", ["a folder", "missing", "not a zip", "zip, not a model"])
def test_a_bad_model_path_is_one_line_and_exit_2(tmp_path, capsys, command, case):
    name, message = model_files(tmp_path)[case]
    model = str(tmp_path / name)
    argv = {"evaluate": ["evaluate", model, "--dataset", "mnist"],
            "predict": ["predict", "--model", model, str(tmp_path)],
            "dream": ["dream", "--model", model, "--out", str(tmp_path / "d"), "--steps", "5"],
            "summary": ["summary", model],
            "robustness": ["robustness", "--model", model, "--corruption", "blur"]}[command]
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(message) and str(tmp_path) not in err.removeprefix("error: ")


@requires_data
def test_a_subset_beyond_the_data_uses_all_of_it_and_says_so(tmp_path, capsys, monkeypatch):
    real = data.load("mnist")
    small = data.Dataset(real.info, real.x_train[:120], real.y_train[:120], real.x_test[:50],
                         real.y_test[:50])
    monkeypatch.setattr(data, "load", lambda name: small)
    code, out, err = run_main(capsys, *TRAIN, "--out", str(tmp_path), "--subset", "99999",
                              "--epochs", "1", "--batch-size", "60", "--json")
    assert code == 0, err
    assert err == "note: --subset 99999 is more than the 120 training images; using all of them\n"
    run = tmp_path / json.loads(out)["run_dir"].rsplit("/", 1)[-1]
    assert json.loads((run / "config.json").read_text())["subset"] is None


@requires_data
def test_a_diverging_training_is_one_line_exit_2_and_leaves_no_run(tmp_path, capsys,
                                                                    monkeypatch):
    # no --lr the CLI accepts makes these presets diverge within a short test: diverge on cue
    def diverging(folder, *args):
        (folder / "config.json").write_text("{}")  # half a run, which must not survive
        raise training.TrainingDiverged("the loss became NaN or infinite at batch 3; try a "
                                        "lower learning rate than 10")

    monkeypatch.setattr(training, "_train_into", diverging)
    code, out, err = run_main(capsys, *TRAIN, "--out", str(tmp_path / "runs"), "--lr", "10")
    assert (code, out) == (2, "")
    assert err == ("error: the loss became NaN or infinite at batch 3; try a lower learning "
                   "rate than 10\n")
    assert list((tmp_path / "runs").iterdir()) == []


# --- robustness --------------------------------------------------------------------------------


def test_robustness_json_has_the_curve_and_its_point_at_0_equals_evaluate(capsys):
    """On all the test images, so that evaluate sees the same ones."""
    code, out, err = run_main(capsys, "evaluate", str(models.SHIPPED_MODEL), "--dataset",
                              "mnist", "--json")
    assert code == 0, err
    evaluated = json.loads(out)
    code, out, err = run_main(capsys, "robustness", "--corruption", "noise", "--strengths", "0",
                              "0.5", "--limit", "100000", "--json")
    assert code == 0, err
    curve = json.loads(out)
    assert {"corruption", "strengths", "accuracy"} <= set(curve)
    assert curve["corruption"] == "noise" and curve["strengths"] == [0, 0.5]
    assert curve["images"] == evaluated["n"]
    assert curve["accuracy"][0] == evaluated["accuracy"]
    assert curve["accuracy"][1] < curve["accuracy"][0]


def test_robustness_default_strengths_and_a_rotated_point_as_keras_sees_it(capsys):
    """The point at 90° against scipy's rotation and a plain Keras call: no app code."""
    import numpy as np
    from scipy import ndimage

    from cnnviz.corruptions import Corruption

    code, out, err = run_main(capsys, "robustness", "--corruption", "rotate", "--limit", "300",
                              "--json")
    assert code == 0, err
    curve = json.loads(out)
    assert curve["strengths"] == list(Corruption.ROTATE.curve) and curve["images"] == 300
    assert len(curve["accuracy"]) == len(curve["strengths"])
    assert all(0 <= a <= 1 for a in curve["accuracy"])
    ds = data.load("mnist")
    x = np.stack([ndimage.rotate(a, 90, reshape=False, order=1, mode="grid-constant")
                  for a in ds.x_test[:300, ..., 0]])
    probs = models.load(models.SHIPPED_MODEL)(np.clip(x, 0, 1)[..., None], training=False)
    want = float((np.asarray(probs).argmax(1) == ds.y_test[:300]).mean())
    assert curve["accuracy"][curve["strengths"].index(90)] == want


def test_robustness_text_names_the_corruption_and_one_line_per_strength(capsys):
    code, out, err = run_main(capsys, "robustness", "--corruption", "stroke", "--limit", "50")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("lenet5.keras on 50 mnist test images, stroke width")
    assert len(lines) == 1 + 6 and lines[3].split()[:2] == ["0", "px"]


@pytest.mark.parametrize("args, message", [
    (["--corruption", "rotate", "--limit", "0"], "--limit must be at least 1 (got 0)"),
    (["--corruption", "rotate", "--seed", "-2"], "--seed must be at least 0 (got -2)"),
    (["--corruption", "rotate", "--strengths", "0", "181"],
     "--strengths: rotate strength must be between -180 and 180 ° (got 181)"),
    (["--corruption", "noise", "--strengths", "nan"],
     "--strengths: noise strength must be between 0 and 1 σ (got nan)"),
    (["--corruption", "stroke", "--strengths", "0.5"],
     "--strengths: stroke strength counts whole pixels (got 0.5)"),
])
def test_bad_robustness_arguments_are_refused_before_any_work(capsys, no_long_work, args,
                                                              message):
    code, out, err = run_main(capsys, "robustness", *args)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_an_unknown_corruption_is_an_argparse_error():
    proc = cli("robustness", "--corruption", "twist", check_rc=2)
    assert "invalid choice: 'twist'" in proc.stderr and "Traceback" not in proc.stderr
