"""In Chromium: what a learner feels on the Draw page, against a bare canvas page served in the
same run (bench/bare_app.py: the same canvas component, two metrics from its pixels, no model).

- pen lifted -> answer painted: the same strokes replayed on both pages, alternating pages;
- renderer main-thread time per drawing (CDP `TaskDuration`, pen-up until the page is quiet);
- a switch to the Draw page from the menu vs the bare app's switch to its canvas page;
- the Train page's renderer busy while training vs the bare page idle in the same seconds.

Run: python -m bench.draw_browser [--drawings N] [--switches N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

# In the page, on its clock: the pen lifted (pointerup is composed, so it reaches the document
# from the canvas's shadow root), then the Prediction metric showing a value it did not show
# before, then two animation frames: the second frame's callback runs after the frame that
# shows the answer has been produced.
WATCH_ANSWER = """() => {
    const value = () => {
        const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
            .find(m => m.innerText.includes("Prediction"));
        return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null;
    };
    const before = value();
    window.cnnvizUp = null; window.cnnvizShown = null; window.cnnvizArrived = null;
    document.addEventListener("pointerup", () => {
        if (window.cnnvizUp === null) window.cnnvizUp = performance.now(); }, {capture: true});
    new MutationObserver((_, observer) => {
        const now = window.cnnvizUp === null ? null : value();
        if (now === null || now === before) return;
        observer.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => {
            window.cnnvizShown = performance.now(); }));
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

# A page switch is painted when the new title is shown, Streamlit reports the script finished
# (stApp's data-test-script-state; the status widget leaves 0.2 s later, after its fade) and
# the canvas exists. The canvas lives in a shadow root that a MutationObserver on the document
# does not see, so this polls every 16 ms (about a frame) instead.
WATCH_SWITCH = """(title) => {
    window.cnnvizClick = null; window.cnnvizShown = null;
    document.addEventListener("click", () => {
        if (window.cnnvizClick === null) window.cnnvizClick = performance.now();
    }, {capture: true});
    const done = () => {
        const h = document.querySelector('[data-testid="stMain"] h1');
        const app = document.querySelector('[data-testid="stApp"]');
        return h && h.innerText.includes(title) && app
            && app.getAttribute("data-test-script-state") === "notRunning"
            && [...document.querySelectorAll('[data-testid="stMain"] div')]
                .some(e => e.shadowRoot && e.shadowRoot.querySelector("canvas.upper-canvas"));
    };
    const poll = setInterval(() => {
        if (window.cnnvizClick === null || !done()) return;
        clearInterval(poll);
        requestAnimationFrame(() => requestAnimationFrame(() => {
            window.cnnvizShown = performance.now(); }));
    }, 16);
}"""


def metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def busy(cdp) -> float:
    """Seconds the renderer's main thread has spent in tasks since the page's process began."""
    return metrics(cdp)["TaskDuration"]


def settle(cdp, window_s: float = 0.5, limit_s: float = 15) -> float:
    """Wait until the renderer is quiet (under 5% busy for `window_s`, e.g. Plotly done laying
    out); the TaskDuration reading when the quiet began, so trailing idle time is not counted."""
    last, deadline = busy(cdp), time.monotonic() + limit_s
    while True:
        time.sleep(window_s)
        now = busy(cdp)
        if now - last < 0.05 * window_s or time.monotonic() > deadline:
            return last
        last = now


# Playwright polls on every animation frame by default, which would add main-thread work and
# frames to what is measured: these waits poll on a timer.
def in_page(page, expression: str) -> float:
    """Milliseconds between two of the page's recorded times, once the second is set."""
    page.wait_for_function("() => window.cnnvizShown !== null", polling=50, timeout=60_000)
    return page.evaluate(expression)


def finished(page) -> None:
    """Until Streamlit reports the script run finished (its status widget fades 0.2 s later)."""
    page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                           ".getAttribute('data-test-script-state') === 'notRunning'",
                           polling=100, timeout=60_000)


def one_drawing(page, cdp, shape) -> tuple[float, float, float | None]:
    """Clear the canvas by reloading, draw `shape`, lift the pen: ms to the answer painted, ms
    of renderer main-thread time until the page is quiet, ms to the answer's message arriving."""
    from tests.e2e.conftest import wait_for_app
    from tests.e2e.test_draw import draw

    page.reload()
    wait_for_app(page, settle_ms=0)
    page.locator("canvas.upper-canvas").wait_for()
    settle(cdp)  # the reload's own work is over: the measurement starts clean
    page.evaluate(WATCH_ANSWER)
    draw(page, shape, release=False)
    before = busy(cdp)
    page.mouse.up()
    painted = in_page(page, "() => window.cnnvizShown - window.cnnvizUp")
    arrived = page.evaluate("() => window.cnnvizArrived && window.cnnvizArrived - window.cnnvizUp")
    finished(page)
    return painted, (settle(cdp) - before) * 1000, arrived


def one_switch(page, cdp) -> tuple[float, float]:
    """From another page, click Draw in the menu: ms to its content painted, ms of renderer
    main-thread time until the page is quiet."""
    from tests.e2e.conftest import wait_for_app

    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("About", exact=True).click()
    page.wait_for_function("() => { const h = document.querySelector("
                           "'[data-testid=\"stMain\"] h1'); "
                           "return h && !h.innerText.includes('Draw a digit'); }")
    wait_for_app(page, settle_ms=0)
    settle(cdp)
    page.evaluate(WATCH_SWITCH, "Draw a digit")
    before = busy(cdp)
    nav.get_by_text("Draw", exact=True).click()
    painted = in_page(page, "() => window.cnnvizShown - window.cnnvizClick")
    finished(page)
    return painted, (settle(cdp) - before) * 1000


def training_load(train: tuple, bare_cdp, url: str, seconds: float = 10) -> dict:
    """Press Train with the page's settings but 50 epochs (its 2 take ~4 s on this machine, not
    the ~30 s its caption says) and, once batches run, the share of `seconds` that the Train
    page's renderer is busy, and the bare page's, idle in the same seconds (same machine load).
    Training is stopped afterwards."""
    from tests.e2e.conftest import wait_for_app
    from tests.e2e.test_train import progress_text, set_number

    train_page, cdp = train
    train_page.goto(f"{url}/train")
    wait_for_app(train_page, settle_ms=0)
    train_page.get_by_text("Training settings", exact=True).click()
    set_number(train_page, "Epochs", 50)
    train_page.get_by_role("button", name="Train").click()
    deadline = time.monotonic() + 120  # past loading and tracing: batches are running
    while not re.search(r"batch [1-9]", progress_text(train_page)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"training did not start: {progress_text(train_page)!r}")
        train_page.wait_for_timeout(250)
    start = [metrics(c) for c in (cdp, bare_cdp)]
    time.sleep(seconds)
    end = [metrics(c) for c in (cdp, bare_cdp)]
    stop = train_page.get_by_role("button", name="Stop training")
    still = stop.is_visible()  # trained all through the window, not finished inside it
    if still:
        stop.click()
    train_page.get_by_text("Saved as run").first.wait_for(timeout=120_000)
    train, idle = ((e["TaskDuration"] - s["TaskDuration"]) / (e["Timestamp"] - s["Timestamp"])
                   for s, e in zip(start, end))
    return {"train_busy": train, "idle_busy": idle, "train_ratio": train / max(idle, 1e-6),
            "trained_throughout": still}


def open_page(browser, url: str):
    """A page in a context of its own (so a renderer of its own) with the hook that notes when
    the Prediction's message arrives, and a CDP session reading its renderer's metrics."""
    from tests.e2e.test_concurrency import ARRIVALS

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(ARRIVALS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    return page, cdp


def alternate(sides: dict, rounds: int, measure) -> dict:
    """`measure(page, cdp, i)` on each side in turn, round after round: drift of this shared
    machine hits both sides alike."""
    out = {name: [] for name in sides}
    for i in range(rounds):
        for name, (page, cdp) in sides.items():
            out[name].append(measure(page, cdp, i))
    return out


def summary(results: dict, k: int) -> dict:
    app, bare = ([r[k] for r in results[n] if r[k] is not None] or [float("nan")]
                 for n in ("app", "bare"))
    return {"app_median": statistics.median(app), "bare_median": statistics.median(bare),
            "app_best": min(app), "bare_best": min(bare),
            "ratio": statistics.median(app) / statistics.median(bare)}


def main(drawings: int = 10, switches: int = 3) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.conftest import ROOT  # noqa: F401  (points KERAS_HOME at the datasets first)
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve, serve_script
    from tests.e2e.test_draw import one, zero

    draw = lambda page, cdp, i: one_drawing(page, cdp, (one, zero)[i % 2])  # noqa: E731
    switch = lambda page, cdp, i: one_switch(page, cdp)  # noqa: E731
    with serve(Path(tempfile.mkdtemp())) as app_url, \
            serve_script("bench/bare_app.py", Path(tempfile.mkdtemp())) as bare_url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        sides = {"bare": open_page(browser, bare_url), "app": open_page(browser, app_url)}
        alternate(sides, 1, draw)  # warm-up: the server's first prediction, the caches
        draws = alternate(sides, drawings, draw)
        alternate(sides, 1, switch)  # warm-up: the first visit of each page
        switched = alternate(sides, switches, switch)
        train = training_load(open_page(browser, app_url), sides["bare"][1], app_url)
        browser.close()
    result = {"painted": summary(draws, 0), "busy": summary(draws, 1),
              "arrived": summary(draws, 2), "switch_painted": summary(switched, 0),
              "switch_busy": summary(switched, 1), **train}
    report(result, drawings, switches)
    return result


def report(r: dict, drawings: int, switches: int) -> None:
    for key, what in (("painted", f"pen lifted -> answer painted ({drawings} drawings each)"),
                      ("arrived", "pen lifted -> answer's message reached the page"),
                      ("busy", "renderer main-thread time per drawing"),
                      ("switch_painted", f"page switch -> Draw painted ({switches} each)"),
                      ("switch_busy", "renderer main-thread time per switch")):
        s = r[key]
        print(f"{what}: app median {s['app_median']:.0f} ms (best {s['app_best']:.0f}), bare "
              f"median {s['bare_median']:.0f} ms (best {s['bare_best']:.0f}), "
              f"ratio {s['ratio']:.2f}x")
    print(f"renderer busy while training: Train page {r['train_busy']:.1%} of the time, bare page "
          f"idle {r['idle_busy']:.2%}, ratio {r['train_ratio']:.0f}x"
          + ("" if r["trained_throughout"] else " (training ended inside the window)"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=10, help="drawings per page")
    parser.add_argument("--switches", type=int, default=3, help="switches to Draw per app")
    args = parser.parse_args()
    main(args.drawings, args.switches)
