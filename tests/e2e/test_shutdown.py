"""The server stops promptly when asked (SIGTERM, or Ctrl+C's SIGINT) while a training runs."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, requires_data
from tests.e2e.conftest import free_port, wait_for_app
from tests.e2e.test_train import progress_text, start_training

pytestmark = [pytest.mark.e2e, requires_data]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_server_exits_promptly_while_training(browser, tmp_path, sig):
    port = free_port()
    env = {**os.environ, "CNNVIZ_RUNS_DIR": str(tmp_path / "runs")}
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                                   "--server.headless", "true", "--server.port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        page = browser.new_page()
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):  # until the server answers
            try:
                page.goto(url)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.5)
        wait_for_app(page)
        start_training(page, url, images=6000, epochs=50, batch_size=64)
        deadline = time.monotonic() + 120
        while "batch 0/" in progress_text(page) or "images/s" not in progress_text(page):
            assert time.monotonic() < deadline, "training never started"
            page.wait_for_timeout(300)
        asked = time.monotonic()
        server.send_signal(sig)
        server.wait(timeout=20)  # a hung server fails here; here it took about 1 s
        print(f"server exited {time.monotonic() - asked:.2f} s after {sig.name}")
        page.close()
    finally:
        if server.poll() is None:
            server.kill()
