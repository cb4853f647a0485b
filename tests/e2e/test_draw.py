"""Draw digits with the mouse on the real canvas in Chromium and read the prediction."""

import math

import pytest

from tests.e2e.conftest import assert_no_exception, go_to, screenshot, visible, wait_for_app

pytestmark = pytest.mark.e2e


def one(cx, cy):
    return [(cx + 6, cy - 90), (cx + 2, cy - 30), (cx - 2, cy + 30), (cx - 6, cy + 90)]


def zero(cx, cy):
    return [(cx + 55 * math.sin(t / 24 * 2 * math.pi), cy - 85 * math.cos(t / 24 * 2 * math.pi))
            for t in range(25)]


def draw(page, path_fn, release: bool = True):
    """One stroke through `path_fn`'s points; release=False keeps the pen down."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    points = path_fn(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=4)
    if release:
        page.mouse.up()


def draw_a_zero(page, app_url) -> None:
    """Open the Draw page and draw a 0 there, read as a 0."""
    page.goto(app_url)
    wait_for_app(page)
    draw(page, zero)
    wait_for_app(page)
    assert prediction(page) == "0"


def prediction(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    metric.wait_for(timeout=30_000)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.parametrize("digit, path_fn", [("1", one), ("0", zero)])
def test_drawing_a_digit_with_the_mouse_is_classified(page, app_url, digit, path_fn):
    page.goto(app_url)
    wait_for_app(page)
    visible(page, "Draw a digit from 0 to 9")  # the hint before a stroke
    draw(page, path_fn)
    wait_for_app(page)
    assert prediction(page) == digit
    assert_no_exception(page)
    visible(page, "From pixels to model input")
    # probabilities, where it looked, stages, maps: pictures rendered on the server
    page.locator('[data-testid="stImage"] img').nth(3).wait_for()
    if digit == "0":
        page.set_viewport_size({"width": 1400, "height": 1500})
        wait_for_app(page)
        screenshot(page, "draw")


def test_the_drawing_survives_a_visit_to_another_page(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    empty = ink(page)
    draw(page, one)
    wait_for_app(page)
    assert prediction(page) == "1"
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Pooling lab", exact=True).click()
    visible(page, "Pooling lab")
    wait_for_app(page)
    nav.get_by_text("Draw", exact=True).click()
    wait_for_app(page)
    assert prediction(page) == "1"  # answered from the kept drawing
    assert_no_exception(page)
    # and the canvas shows it again: white ink on its black background
    before = ink(page)
    assert before > empty + 0.02
    draw(page, zero)  # a stroke after the return adds to the kept drawing
    wait_for_app(page)
    assert ink(page) - empty > (before - empty) * 1.5
    assert_no_exception(page)


def ink(page) -> float:
    """The fraction of the canvas that is ink, as the browser paints it."""
    import io

    import numpy as np
    from PIL import Image

    page.mouse.move(0, 0)  # off the canvas: its tool bar, shown on hover, is not ink
    page.wait_for_timeout(300)
    shot = page.locator("canvas.dc-canvas.lower-canvas").screenshot()
    return float((np.asarray(Image.open(io.BytesIO(shot)).convert("L")) > 128).mean())


def eventually(page, condition, seconds: float = 15) -> None:
    for _ in range(int(seconds * 4)):
        if condition():
            return
        page.wait_for_timeout(250)
    raise AssertionError("the canvas never showed the change")


def test_undo_redo_and_clear_are_buttons_of_the_page(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    undo, redo, clear = (page.locator(f".st-key-draw_canvas_{name} button")  # not the tool bar's
                         for name in ("undo", "redo", "clear"))
    assert undo.is_disabled() and redo.is_disabled() and clear.is_disabled()  # nothing yet
    empty = ink(page)  # the canvas's light edge, as the browser paints it
    draw(page, one)
    wait_for_app(page)
    assert prediction(page) == "1"
    one_only = ink(page)
    draw(page, zero)  # a second stroke beside the first: no longer a clean 1
    wait_for_app(page)
    assert ink(page) > one_only * 1.5
    undo.click()  # the canvas draws the change, then sends it: wait for both
    eventually(page, lambda: abs(ink(page) - one_only) < 0.2 * one_only)
    wait_for_app(page)
    assert prediction(page) == "1" and redo.is_enabled()
    redo.click()
    eventually(page, lambda: ink(page) > one_only * 1.5)
    wait_for_app(page)
    assert redo.is_disabled()
    clear.click()
    eventually(page, lambda: ink(page) <= empty + 0.001)
    wait_for_app(page)
    visible(page, "Draw a digit from 0 to 9")  # the answer goes with the drawing
    assert_no_exception(page)


def tool_bar_display(page) -> list[str]:
    """The CSS display of every canvas component's own tool bar (inside its shadow root)."""
    return page.evaluate("""() => [...document.querySelectorAll('*')]
        .filter((el) => el.shadowRoot && el.shadowRoot.querySelector('.dc-toolbar'))
        .map((el) => getComputedStyle(el.shadowRoot.querySelector('.dc-toolbar')).display)""")


def test_the_canvas_components_own_tool_bar_is_hidden_even_on_hover(page, app_url):
    """Its edit toggle made a stroke move the drawing (issue 20.6): the page's buttons replace
    it, and the canvas stays in drawing mode."""
    page.goto(app_url)
    wait_for_app(page)
    box = page.locator("canvas.upper-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 10, box["y"] + 10)  # where the tool bar shows
    page.wait_for_timeout(400)  # its fade-in
    assert tool_bar_display(page) == ["none"]
    go_to(page, "Embedding map")
    page.locator("canvas.upper-canvas").wait_for()
    page.wait_for_timeout(400)
    assert tool_bar_display(page) == ["none"]  # and on the other page with a canvas


def test_on_a_phone_the_answer_is_just_under_the_canvas(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(app_url)
        wait_for_app(page)
        page.locator("canvas.upper-canvas").scroll_into_view_if_needed()
        draw(page, one)
        wait_for_app(page)
        assert prediction(page) == "1"
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
        box = metric.bounding_box()
        assert box["y"] + box["height"] <= 844, box  # seen without scrolling after the stroke
        assert_no_exception(page)
        screenshot(page, "draw-phone")
    finally:
        context.close()
