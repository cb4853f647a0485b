"""The Embedding map in Chromium: a stroke puts the drawing on the map."""

import pytest

from tests.e2e.conftest import assert_no_exception, go_to, screenshot, visible, wait_for_app
from tests.e2e.test_draw import draw, one

pytestmark = pytest.mark.e2e


def answer(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="The network says")
    metric.wait_for(timeout=30_000)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.parametrize("size", [(1400, 1000), (390, 844)])
def test_a_stroke_puts_the_drawing_on_the_map(browser, app_url, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/map")
        wait_for_app(page)
        visible(page, "Draw a digit: a star marks where it lands")
        legend = page.locator(".js-plotly-plot .legendtext")
        legend.first.wait_for(timeout=60_000)
        assert "your drawing" not in legend.all_inner_texts()
        draw(page, one)
        wait_for_app(page)
        assert answer(page) == "1"
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot .legendtext')]"
            ".some(e => e.textContent === 'your drawing')", timeout=30_000)
        visible(page, "nearest test images in feature space")
        assert_no_exception(page)
        screenshot(page, "map" if size[0] > 1000 else "phone-map-drawing")
    finally:
        context.close()


def test_the_draw_pages_drawing_is_on_the_map(page, app_url):
    from tests.e2e.test_draw import draw_a_zero

    draw_a_zero(page, app_url)
    go_to(page, "Embedding map")
    assert answer(page) == "0"  # the same drawing, without a stroke here
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot .legendtext')]"
        ".some(e => e.textContent === 'your drawing')", timeout=30_000)
    assert_no_exception(page)
