"""Five browser sessions at once: one trains, four draw and get their own predictions, and no
session sees another's state."""

import time

import pytest

from tests.conftest import requires_data
from tests.e2e.conftest import assert_no_exception, visible, wait_for_app
from tests.e2e.test_draw import draw, one, prediction, zero
from tests.e2e.test_train import progress_text, start_training

pytestmark = [pytest.mark.e2e, requires_data]


# Before any page script runs: note when a server message naming the Prediction arrives, to
# tell the server's share of the wait from the browser's.
ARRIVALS = """(() => {
    window.cnnvizArrived = null;
    const listen = WebSocket.prototype.addEventListener;
    WebSocket.prototype.addEventListener = function (type, handler, ...rest) {
        if (type !== "message") return listen.call(this, type, handler, ...rest);
        return listen.call(this, type, (event) => {
            if (window.cnnvizUp !== null && window.cnnvizArrived === null
                    && event.data instanceof ArrayBuffer
                    && new TextDecoder().decode(event.data).includes("Prediction"))
                window.cnnvizArrived = performance.now();
            return handler.call(this, event);
        }, ...rest);
    };
})()"""

# In the page, on the browser's clock: when the pen is lifted, and when the Prediction metric
# is first painted (a frame after it enters the DOM). Playwright's own polling and the time
# it takes to move four mice one after the other are not counted.
WATCH = """() => {
    window.cnnvizUp = null; window.cnnvizShown = null; window.cnnvizArrived = null;
    document.addEventListener("mouseup", () => { window.cnnvizUp = performance.now(); },
                              {capture: true});
    new MutationObserver((_, observer) => {
        const metrics = document.querySelectorAll('[data-testid="stMetric"]');
        if (window.cnnvizUp === null || ![...metrics].some(m => m.innerText.includes("Prediction")))
            return;
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => { window.cnnvizShown = performance.now(); }));
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def watch_prediction(page) -> None:
    page.evaluate(WATCH)


def after_pen_up(page, event: str) -> float | None:
    """Seconds from lifting the pen to `event` ("Shown" or "Arrived"), or None while waiting."""
    ms = page.evaluate(f"() => window.cnnviz{event} === null ? null : "
                       f"window.cnnviz{event} - window.cnnvizUp")
    return None if ms is None else ms / 1000


def five_sessions(browser, app_url, check) -> tuple[list[float], list[float]]:
    """One session trains while four draw and lift their pens together. Returns, for the
    four, the seconds from pen-up until the server's answer reached the page and until it was
    on screen; `check(condition, what)` is called on what must hold on any machine."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(5)]
    for context in contexts:
        context.add_init_script(ARRIVALS)
    pages = [c.new_page() for c in contexts]
    try:
        trainer, drawers = pages[0], pages[1:]
        for page in drawers:  # people already on the Draw page when someone starts training
            page.goto(app_url)
            wait_for_app(page)
            visible(page, "Draw a digit from 0 to 9")
        draw(drawers[0], one)  # the server's first prediction, before the clock starts
        check(prediction(drawers[0]) == "1", "a first prediction")
        drawers[0].reload()
        wait_for_app(drawers[0])
        start_training(trainer, app_url, images=20000, epochs=20, batch_size=128)
        deadline = time.monotonic() + 90
        while "images/s" not in progress_text(trainer) and time.monotonic() < deadline:
            trainer.wait_for_timeout(500)
        check("images/s" in progress_text(trainer), "training is under way")

        digits = {page: ("1", one) if i % 2 == 0 else ("0", zero)
                  for i, page in enumerate(drawers)}
        for page, (_, shape) in digits.items():
            watch_prediction(page)
            draw(page, shape, release=False)
        for page in digits:  # four pens lifted together: four predictions asked at once
            page.mouse.up()
        waited = time.monotonic()
        while not all(after_pen_up(page, "Shown") for page in digits) \
                and time.monotonic() - waited < 60:
            drawers[0].wait_for_timeout(100)
        arrived, shown = ([after_pen_up(page, event) or float("inf") for page in digits]
                          for event in ("Arrived", "Shown"))
        for page, (digit, _) in digits.items():
            check(prediction(page) == digit, "each session gets its own drawing's answer")
            assert_no_exception(page)

        other = drawers[0]  # another session's Train page shows no training of its own
        other.goto(f"{app_url}/train")
        wait_for_app(other)
        visible(other, "The live view appears here")
        check("images/s" in progress_text(trainer), "the training goes on, unaffected")
        trainer.get_by_role("button", name="Stop training").click()
        visible(trainer, "stopped early", timeout_ms=120_000)
        assert_no_exception(trainer)
        return arrived, shown
    finally:
        for c in contexts:
            c.close()


def test_five_sessions_stay_responsive_and_separate(browser, app_url):
    def check(condition, what):
        assert condition, what

    arrived, shown = five_sessions(browser, app_url, check)
    print(f"prediction during training, s after the pen lifts: reached the browser "
          f"{[round(v, 2) for v in arrived]}, on screen {[round(v, 2) for v in shown]}")
    # Only what holds on any machine: every answer arrives and is painted, far within these
    # stall guards. How fast (goal: 2 s on screen) is a figure of `make bench`, not a test.
    assert max(arrived) <= 15 and max(shown) <= 45, (arrived, shown)
