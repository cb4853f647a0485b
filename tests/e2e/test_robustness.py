"""The Robustness lab in Chromium, on a desktop and a phone: a slider changes the prediction, and
the curves compare the shipped LeNet-5 with a run trained without augmentation."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import assert_no_exception, screenshot, serve, visible, wait_for_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    """The app with one run in its runs folder: LeNet-5 trained for one epoch, without
    augmentation."""
    workdir = tmp_path_factory.mktemp("robustness")
    subprocess.run([sys.executable, "-m", "cnnviz", "train", "--preset", "lenet5", "--optimizer",
                    "adam", "--lr", "0.002", "--epochs", "1", "--batch-size", "128", "--out",
                    str(workdir / "runs"), "--quiet"],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    with serve(workdir) as url:
        yield url


def answer(page) -> tuple[str, str]:
    values = []
    for label in ("Prediction", "Confidence"):
        box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
        box.wait_for(timeout=60_000)
        values.append(box.locator('[data-testid="stMetricValue"]').inner_text().strip())
    return values[0], values[1]


def move(page, label: str, key: str) -> None:
    """Focus a slider and press a key (Home, End, ArrowRight ...), as a keyboard user would."""
    page.locator(f'input[type=range][aria-label="{label}"]').focus()
    page.keyboard.press(key)
    wait_for_app(page)


def changed_prediction(page, label: str, key: str, before: str) -> str:
    move(page, label, key)
    for _ in range(100):
        now = answer(page)[0]
        if now != before:
            return now
        page.wait_for_timeout(100)
    raise AssertionError(f"the prediction stayed {before} after {label} went to its {key}")


def test_a_slider_changes_the_prediction_and_the_curves_compare_two_models(page, lab_url):
    page.goto(f"{lab_url}/robustness")
    wait_for_app(page)
    visible(page, "Input: MNIST test image #0")
    before, confidence = answer(page)
    assert (before, confidence) == ("0", "100.0%")  # the bundled sample's first test image: a 0
    # 14 px to the right, most of the 0 has left the frame
    assert changed_prediction(page, "Shift right (px)", "End", before) != before
    visible(page, "The corruption changed the answer.")
    assert_no_exception(page)
    page.get_by_role("button", name="Compute the curves").click()
    visible(page, "Accuracy on the first", timeout_ms=120_000)  # 2,000 (1,000 in the sample)
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .legendtext", timeout=30_000)
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert legend[0] == "LeNet-5 (shipped)" and legend[1].startswith("Run ")
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1900})
    wait_for_app(page)
    page.locator("h1").first.scroll_into_view_if_needed()
    screenshot(page, "robustness-lab")


def test_on_a_phone_the_answer_sits_above_the_sliders(page, lab_url):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{lab_url}/robustness")
    wait_for_app(page)
    before, _ = answer(page)
    slider = page.locator('input[type=range][aria-label="Stroke width (px)"]')
    slider.scroll_into_view_if_needed()
    assert changed_prediction(page, "Stroke width (px)", "Home", before) != before
    prediction = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first
    box, thumb = prediction.bounding_box(), slider.bounding_box()
    assert 0 <= box["y"] and thumb["y"] + thumb["height"] <= 844  # both on screen at once
    assert_no_exception(page)
    screenshot(page, "robustness-phone")
