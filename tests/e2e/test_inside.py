"""Inside and Architectures pages in Chromium: run activation maximization, read the gallery."""

import pytest

from tests.e2e.conftest import assert_no_exception, go_to, screenshot, visible, wait_for_app

pytestmark = pytest.mark.e2e


def test_inside_page_runs_activation_maximization(page, app_url):
    page.goto(f"{app_url}/inside")
    wait_for_app(page)
    page.get_by_role("tab", name="Activation maximization").click()
    page.get_by_role("button", name="Run").click()
    visible(page, "steps in", timeout_ms=120_000)
    wait_for_app(page)
    grid = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="mean 9")
    grid.wait_for(timeout=30_000)
    visible(page, "Test images each class likes best", timeout_ms=60_000)
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2200})
    wait_for_app(page)
    screenshot(page, "inside-dream")
    page.get_by_role("tab", name="Saliency and Grad-CAM").click()
    visible(page, "Grad-CAM: which regions")
    page.locator('[data-testid="stImage"] img').filter(visible=True).first.wait_for()
    page.get_by_role("button", name="Randomise the layers one by one").click()
    visible(page, "once every layer is random", timeout_ms=60_000)
    wait_for_app(page)
    curves = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="SmoothGrad")
    curves.filter(visible=True).first.wait_for(timeout=30_000)
    assert_no_exception(page)
    screenshot(page, "inside-saliency")


def test_a_drawn_digits_conv2_unit_equals_the_keras_layer_output(page, app_url):
    import base64
    import io

    import keras
    import numpy as np
    from PIL import Image

    from cnnviz import models, preprocess
    from tests.e2e.test_draw import draw_a_zero

    draw_a_zero(page, app_url)
    url = page.locator("canvas.dc-canvas.lower-canvas").evaluate("c => c.toDataURL()")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    x = preprocess.preprocess(preprocess.canvas_grey(pixels)).model_input
    model = models.load(models.SHIPPED_MODEL)
    conv2 = keras.Model(model.input, model.get_layer("conv2").output)(x[None]).numpy()[0]

    go_to(page, "Inside")
    page.get_by_role("tab", name="One unit").click()
    visible(page, "It looks at input rows", timeout_ms=90_000)  # your drawing, conv2
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="conv2 at [")
    label = metric.locator('[data-testid="stMetricLabel"]').inner_text()
    r, c, k = (int(v) for v in label.split("[", 1)[1].split("]")[0].split(","))
    shown = metric.locator('[data-testid="stMetricValue"]').inner_text()
    assert shown == f"{conv2[r, c, k]:.6f}"
    # it starts at the strongest response (up to float ties between two computations)
    assert abs(abs(conv2[r, c, k]) - np.abs(conv2).max()) < 1e-5
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2200})
    wait_for_app(page)
    screenshot(page, "inside-unit")
    page.get_by_role("button", name="Open in the Convolution lab").click()
    visible(page, "Convolution lab", timeout_ms=60_000)
    wait_for_app(page)
    note = page.get_by_text("is this channel's sum in the unit").inner_text()
    channel_sum = float(note.rsplit(": ", 1)[1].rstrip("."))
    output = page.locator('[data-testid="stMetric"]').filter(has_text=f"Output [{r}, {c}]")
    assert output.locator('[data-testid="stMetricValue"]').inner_text() == f"{channel_sum:.4f}"
    assert_no_exception(page)


def test_architectures_page_shows_vgg16(page, app_url):
    page.goto(f"{app_url}/gallery")
    wait_for_app(page)
    page.get_by_role("radio", name="VGG16 (2014)").click()
    wait_for_app(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Parameters")
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == "138,357,544"
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2000})
    wait_for_app(page)
    screenshot(page, "gallery")
