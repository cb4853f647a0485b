"""Start a tiny training in Chromium, watch the progress move, stop it."""

import pytest

from tests.conftest import requires_data
from tests.e2e.conftest import assert_no_exception, screenshot, visible, wait_for_app

pytestmark = [pytest.mark.e2e, requires_data]


def progress_text(page) -> str:
    return page.locator('[data-testid="stProgress"]').first.inner_text().strip()


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def screenshot_with_charts(page, name: str, keys, tries: int = 30) -> None:
    """A screenshot in which the live charts are painted: Streamlit 1.67 remounts a Plotly
    chart whenever its data changes, so a frame can catch one blank (README)."""
    import io

    import numpy as np
    from PIL import Image

    for _ in range(tries):
        image = Image.open(io.BytesIO(screenshot(page, name).read_bytes())).convert("L")
        boxes = [page.evaluate("""(key) => {
            const r = [...document.querySelectorAll('.st-key-' + key)]
                .map(e => e.getBoundingClientRect()).sort((a, b) => b.height - a.height)[0];
            return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY];
        }""", key) for key in keys]
        if all((np.asarray(image.crop(tuple(map(int, box)))) < 200).mean() > 0.01
               for box in boxes):
            return
        page.wait_for_timeout(150)
    raise AssertionError(f"no screenshot with {keys} painted in {tries} tries")


def start_training(page, app_url, images: int, epochs: int, batch_size: int) -> None:
    """Open the Train page, set the training size, press Train."""
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    page.get_by_text("Training settings", exact=True).click()
    set_number(page, "Training images (0 = all)", images)
    set_number(page, "Epochs", epochs)
    set_number(page, "Batch size", batch_size)
    page.get_by_role("button", name="Train").click()


def test_train_watch_progress_change_twice_then_stop(page, app_url):
    start_training(page, app_url, images=4000, epochs=30, batch_size=32)
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=60_000)
    seen = []
    for _ in range(240):  # up to 2 minutes
        text = progress_text(page)
        if "images/s" in text and (not seen or text != seen[-1]):
            seen.append(text)
        if len(seen) >= 3:
            break
        page.wait_for_timeout(500)
    assert len(seen) >= 3, seen  # the value changed at least twice while training
    visible(page, "First conv layer's filters")
    page.set_viewport_size({"width": 1400, "height": 1500})
    page.locator(".st-key-train_live_curves .main-svg").first.wait_for(timeout=30_000)
    # the filters and the maps: pictures made on the server, loaded as images
    page.locator('[data-testid="stImage"] img').nth(1).wait_for(timeout=30_000)
    screenshot_with_charts(page, "train-live", ("train_live_curves",))
    page.get_by_role("button", name="Stop training").click()
    visible(page, "stopped early", timeout_ms=120_000)
    visible(page, "Most confident mistakes", timeout_ms=120_000)
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2400})
    wait_for_app(page)
    screenshot(page, "train-done")


def test_a_layer_stack_is_edited_by_typing_into_a_cell(page, app_url):
    """Issue 20.14: all eight columns in view, and typing into a selected cell replaces its
    value (no double-click and select-all)."""
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    page.locator(".st-key-train_preset").click()
    page.get_by_role("option", name="custom (edit the layers)").click()
    wait_for_app(page)
    grid = page.locator(".st-key-train_stack")
    page.wait_for_timeout(1000)  # the grid lays out its columns
    box = grid.bounding_box()
    headers = page.locator('.st-key-train_stack [role="columnheader"]').all_inner_texts()
    assert headers == ["order", "layer", "units", "size", "stride", "padding", "activation",
                       "rate"]
    params = page.locator('[data-testid="stMetric"]').filter(has_text="Parameters")
    assert params.locator('[data-testid="stMetricValue"]').inner_text() == "61,706"
    page.mouse.click(box["x"] + 60, box["y"] + 35 + 17)  # row 1's order cell
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # its units: conv1's 6 filters
    page.keyboard.type("12", delay=150)  # as a person types: the editor opens on the "1"
    page.keyboard.press("Enter")
    wait_for_app(page)
    # conv1 5×5×1×12 + 12 and conv2 5×5×12×16 + 16 replace 156 and 2,416 parameters
    want = f"{61_706 - 156 - 2_416 + 5 * 5 * 12 + 12 + 5 * 5 * 12 * 16 + 16:,}"
    page.wait_for_function(
        "(want) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some((e) => e.textContent.trim() === want)", arg=want, timeout=30_000)
    assert_no_exception(page)
    screenshot(page, "train-custom")
