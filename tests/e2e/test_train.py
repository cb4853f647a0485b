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
    for chart in ("train_live_curves", "train_live_filters"):  # drawn, not placeholders
        page.locator(f".st-key-{chart} .main-svg").first.wait_for(timeout=30_000)
    screenshot(page, "train-live")
    page.get_by_role("button", name="Stop training").click()
    visible(page, "stopped early", timeout_ms=120_000)
    visible(page, "Most confident mistakes", timeout_ms=120_000)
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2400})
    wait_for_app(page)
    screenshot(page, "train-done")
