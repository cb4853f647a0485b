"""Five browser sessions on one server: one trains LeNet-5 while four draw and lift their pens
together. Figure: seconds from pen-up to the answer on screen, p95 over the four drawing pages
(goal 2 s), and when the server's answer reached them (the server's share).

Run: python -m bench.five_sessions   (needs the real MNIST: the training uses 20,000 images)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def main() -> dict:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve
    from tests.e2e.test_concurrency import five_sessions

    def check(condition, what):
        if not condition:
            raise RuntimeError(f"five sessions: expected {what}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        with serve(Path(tempfile.mkdtemp())) as url:
            arrived, shown = five_sessions(browser, url, check)
        browser.close()
    result = {"shown_p95_s": float(np.percentile(shown, 95)),
              "arrived_p95_s": float(np.percentile(arrived, 95)), "shown_s": shown,
              "arrived_s": arrived}
    print(f"five sessions: answers on screen after {[round(v, 2) for v in shown]} s "
          f"(p95 {result['shown_p95_s']:.2f} s, goal 2 s); reached the pages after "
          f"{[round(v, 2) for v in arrived]} s (p95 {result['arrived_p95_s']:.2f} s)")
    return result


if __name__ == "__main__":
    main()
