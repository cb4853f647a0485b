"""Inside and Architectures pages in Chromium: run activation maximization, read the gallery."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, visible, wait_for_app

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
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1300})
    wait_for_app(page)
    screenshot(page, "inside-dream")
    page.get_by_role("tab", name="Saliency and Grad-CAM").click()
    visible(page, "Grad-CAM (conv2)")
    assert_no_exception(page)
    screenshot(page, "inside-saliency")


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
