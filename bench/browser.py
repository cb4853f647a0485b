"""In Chromium: the app's cold start to its first painted page vs a bare one-page Streamlit app,
and the time to switch pages.

Run: python -m bench.browser
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

BARE_APP = 'import streamlit as st\nst.title("Hello")\n'


def cold_start(script: str, page_factory, cwd: Path) -> tuple[float, float]:
    """Seconds from launching `streamlit run` to the first page's title painted in Chromium,
    and to its script having finished."""
    from tests.e2e.conftest import serve_script, wait_for_app

    start = time.perf_counter()
    with serve_script(script, Path(tempfile.mkdtemp()), cwd=cwd) as url:
        page = page_factory()
        page.goto(url)
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
        painted = time.perf_counter() - start
        wait_for_app(page, settle_ms=0)
        ready = time.perf_counter() - start
        page.context.close()
    return painted, ready


def page_switches(page, url: str, titles: list[str], rounds: int = 2) -> list[float]:
    """Seconds from clicking a page in the menu until its script has finished."""
    from tests.e2e.conftest import wait_for_app

    page.goto(url)
    wait_for_app(page, settle_ms=0)
    nav = page.locator('[data-testid="stSidebarNav"]')
    times = []
    heading = page.locator('[data-testid="stMain"] h1').first
    for _ in range(rounds):
        for title in titles[1:] + titles[:1]:  # starts on the first page: visit it last
            before = heading.inner_text()
            start = time.perf_counter()
            nav.get_by_text(title, exact=True).click()
            page.wait_for_function(
                "t => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
                " return h && h.innerText !== t; }", arg=before, timeout=60_000)
            wait_for_app(page, settle_ms=0)
            times.append(time.perf_counter() - start)
    return times


def main() -> dict:
    from playwright.sync_api import sync_playwright

    from cnnviz.ui import shell
    from tests.conftest import ROOT
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve

    bare_dir = Path(tempfile.mkdtemp())
    (bare_dir / "bare.py").write_text(BARE_APP)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        new_page = lambda: browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # noqa: E731
        bare = min(cold_start("bare.py", new_page, bare_dir) for _ in range(2))
        app = min(cold_start("app.py", new_page, ROOT) for _ in range(2))
        (bare, _), (app, app_ready) = bare, app
        with serve(Path(tempfile.mkdtemp())) as url:
            titles = [page.title for page in shell.PAGES]
            page_switches(new_page(), url, titles, rounds=1)  # first visits: caches warm up
            switches = page_switches(new_page(), url, titles)
        browser.close()
    result = {"cold_start_s": app, "bare_cold_start_s": bare, "cold_ratio": app / bare,
              "cold_ready_s": app_ready,
              "switch_median_s": statistics.median(switches), "switch_max_s": max(switches)}
    print(f"cold start to first painted page: app {app:.2f} s, bare one-page app {bare:.2f} s, "
          f"ratio {result['cold_ratio']:.2f}x; app's first page finished after {app_ready:.2f} s")
    print(f"page switch: median {result['switch_median_s']:.2f} s, "
          f"slowest {result['switch_max_s']:.2f} s over {len(switches)} switches")
    return result


if __name__ == "__main__":
    main()
