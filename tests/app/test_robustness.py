"""The Robustness lab through AppTest: the corrupted digit against scipy, its probabilities
against Keras, the curve's point at 0 against evaluate."""

import numpy as np
from scipy import ndimage
from streamlit.testing.v1 import AppTest

from cnnviz import data, models, training
from tests.conftest import ROOT


def lab(**state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/robustness.py"), default_timeout=180)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def table(at: AppTest, which: str):
    """A table the page shows (AppTest does not keep a dataframe's key): the probabilities, the
    28×28 corrupted input or the curves."""
    found = {"probs": lambda t: "probability" in t.columns, "input": lambda t: t.shape == (28, 28),
             "curve": lambda t: str(t.columns[0]).startswith("strength")}[which]
    return next(d.value for d in at.dataframe if found(d.value))


def shown(at: AppTest, which: str) -> np.ndarray:
    return np.asarray(table(at, which), np.float64)


def keras_probs(x: np.ndarray) -> np.ndarray:
    model = models.load(models.SHIPPED_MODEL)
    return model(np.asarray(x, np.float32)[None, ..., None], training=False).numpy()[0]


def test_at_strength_0_the_corrupted_digit_is_the_input_and_keras_agrees():
    at = lab(robust_numbers=True)
    assert not at.exception and not at.error
    digit = data.load_sample("mnist").x_test[0, ..., 0]  # the fallback: no drawing yet
    assert "Input: MNIST test image #0" in " ".join(c.value for c in at.caption)
    np.testing.assert_array_equal(shown(at, "input"), digit)
    probs = keras_probs(digit)
    np.testing.assert_allclose(np.asarray(table(at, "probs")["probability"]), probs, atol=1e-6)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Prediction": str(int(probs.argmax())),
                       "Confidence": f"{probs.max():.1%}"}


def test_sliders_corrupt_the_drawing_as_scipy_does_and_the_answer_follows():
    drawing = data.load_sample("mnist").x_test[3, ..., 0]
    at = lab(drawing=drawing, robust_numbers=True)
    assert at.segmented_control(key="robust_source").value == "Your drawing"
    at.slider(key="robust_rotate").set_value(90).run()
    at.slider(key="robust_blur").set_value(1.0).run()
    assert not at.exception
    rotated = ndimage.rotate(drawing, 90, reshape=False, order=1, mode="grid-constant")
    want = ndimage.gaussian_filter(np.clip(rotated, 0, 1).astype(np.float64), 1.0,
                                   mode="constant")
    corrupted = shown(at, "input")
    np.testing.assert_allclose(corrupted, want, atol=1e-6)
    probs = keras_probs(corrupted)
    np.testing.assert_allclose(np.asarray(table(at, "probs")["probability"]), probs, atol=1e-6)
    assert {m.label: m.value for m in at.metric}["Prediction"] == str(int(probs.argmax()))
    at.button(key="robust_reset").click().run()
    assert at.slider(key="robust_rotate").value == 0 and at.slider(key="robust_blur").value == 0
    np.testing.assert_array_equal(shown(at, "input"), drawing)


def test_noise_and_patch_follow_the_seed():
    at = lab(robust_numbers=True, robust_noise=0.3, robust_occlusion=6)
    first = shown(at, "input")
    assert (first == 0).sum() >= 36  # the black square, at least
    at.number_input(key="robust_seed").set_value(5).run()
    assert not np.array_equal(shown(at, "input"), first)
    at.number_input(key="robust_seed").set_value(0).run()
    np.testing.assert_array_equal(shown(at, "input"), first)


def test_the_curve_at_0_equals_evaluate_on_the_same_images():
    at = lab()
    at.selectbox(key="robust_curve_corruption").set_value("Stroke width")
    at.selectbox(key="robust_curve_images").set_value(10_000).run()
    assert at.info[-1].value.startswith("Press to classify")
    assert at.selectbox(key="robust_curve_compare").value == "No second model"
    at.button(key="robust_curve_run").click().run()
    assert not at.exception and not at.error
    at.toggle(key="robust_curve_numbers").set_value(True).run()
    curves = table(at, "curve")
    assert list(curves["strength (px)"]) == [-2, -1, 0, 1, 2, 3]
    evaluated = training.evaluate(models.load(models.SHIPPED_MODEL), "mnist")
    at_zero = curves.loc[curves["strength (px)"] == 0, "LeNet-5 (shipped)"].item()
    assert at_zero == evaluated["accuracy"]
    assert f"first {evaluated['n']:,} test images" in at.caption[-1].value
    assert at.get("plotly_chart")  # the chart itself
    # kept for the server: another session sees it without pressing
    again = lab()
    again.selectbox(key="robust_curve_corruption").set_value("Stroke width")
    again.selectbox(key="robust_curve_images").set_value(10_000).run()
    assert not [b for b in again.button if b.key == "robust_curve_run"]


def test_a_second_model_gets_its_own_curve(tmp_path):
    from cnnviz.ui.choice import Uploads
    from tests import model_kinds

    path = model_kinds.save("functional", tmp_path)
    uploads = Uploads()
    uploads.paths[path.name], uploads.file_ids[path.name] = path, "test"
    at = lab(uploaded_models=uploads, robust_curve_images=500)
    assert at.selectbox(key="robust_curve_compare").value == "Upload functional.keras"
    at.selectbox(key="robust_curve_corruption").set_value("Occlusion").run()
    at.button(key="robust_curve_run").click().run()
    assert not at.exception and not at.error
    at.toggle(key="robust_curve_numbers").set_value(True).run()
    curves = table(at, "curve")
    ds = data.load("mnist")
    _, accuracy = training.evaluate_arrays(models.load(path), ds.x_test[:500], ds.y_test[:500])
    assert curves.loc[curves["strength (px)"] == 0, "Upload functional.keras"].item() == accuracy
    assert len(curves) == 8


def test_a_fashion_mnist_run_speaks_its_classes_and_is_compared_only_with_its_kind(tmp_path,
                                                                                    monkeypatch):
    """A run trained on Fashion-MNIST: its answer is a garment, and the shipped digit model is
    not offered for its curves (they would be on other images)."""
    import json

    from cnnviz import runs
    from tests import model_kinds

    monkeypatch.setattr(runs, "DEFAULT_RUNS_DIR", tmp_path)
    for name, dataset in (("20260101-000000-fashion", "fashion_mnist"),
                          ("20260101-000001-digits", "mnist")):
        folder = tmp_path / name
        folder.mkdir()
        model_kinds.save("functional", tmp_path).rename(folder / "model.keras")
        (folder / "config.json").write_text(json.dumps({"preset": "custom", "dataset": dataset}))
        (folder / "history.json").write_text(json.dumps(
            {"history": {"loss": [1.0]}, "test_accuracy": 0.5, "test_loss": 1.0,
             "seconds": 1, "stopped_early": False, "dataset_is_sample": False}))
    at = lab(chosen_model="Run 20260101-000000-fashion", robust_numbers=True)
    assert not at.exception and not at.error
    garments = data.info("fashion_mnist").class_names
    shown = {m.label: m.value for m in at.metric}
    assert shown["Prediction"] in garments
    assert list(table(at, "probs")["class"]) == list(garments)
    assert at.selectbox(key="robust_curve_compare").options == ["No second model"]
    at = lab(chosen_model="Run 20260101-000001-digits")
    assert at.selectbox(key="robust_curve_compare").options == ["No second model",
                                                                "LeNet-5 (shipped)"]
