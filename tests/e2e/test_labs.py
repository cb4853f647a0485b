"""Convolution and Pooling labs in Chromium: pick Sobel x, step once, check the arithmetic."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, visible, wait_for_app

pytestmark = pytest.mark.e2e


def metric(page, label: str) -> tuple[str, float]:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    box.wait_for(timeout=30_000)
    shown_label = box.locator('[data-testid="stMetricLabel"]').inner_text().strip()
    return shown_label, float(box.locator('[data-testid="stMetricValue"]').inner_text())


def step(page) -> str:
    """Press Step and wait until the output cell's label has moved on; return the new label."""
    before, _ = metric(page, "Output [")
    page.get_by_role("button", name="Step").click()
    for _ in range(100):
        after, _ = metric(page, "Output [")
        if after != before:
            wait_for_app(page)
            return after
        page.wait_for_timeout(100)
    raise AssertionError(f"Step did not move past {before}")


def choose(page, label: str, option: str) -> None:
    page.get_by_label(label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_conv_lab_step_once_sum_equals_output_cell(page, app_url):
    page.goto(f"{app_url}/conv")
    wait_for_app(page)
    choose(page, "Named kernel", "Box blur 3×3")  # away and back: Sobel x is really picked
    choose(page, "Named kernel", "Sobel x")
    visible(page, "left-to-right change")
    label = step(page)
    after, cell = metric(page, "Output [")
    assert after == label
    _, total = metric(page, "Sum of products")
    assert total == cell
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1900})
    wait_for_app(page)
    screenshot(page, "conv-lab")


def test_pool_lab_steps_through_windows(page, app_url):
    page.goto(f"{app_url}/pool")
    wait_for_app(page)
    values = set()
    for _ in range(3):
        _, window = metric(page, "Window value")
        label, cell = metric(page, "Output [")
        assert window == cell
        values.add(label)
        step(page)
    assert len(values) == 3
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1700})
    wait_for_app(page)
    screenshot(page, "pool-lab")
