from streamlit.testing.v1 import AppTest

import json

from cnnviz import data, models
from cnnviz.ui import shell
from tests.conftest import ROOT


def run_page(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=120).run()


def test_home_shows_the_guide_the_model_card_and_samples():
    at = run_page("pages/home.py")
    assert not at.exception
    assert "how convolutional networks see" in at.title[0].value
    card = json.loads(models.SHIPPED_CARD.read_text())  # the file, not the page's reader
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{card['test_accuracy']:.2%}"
    assert metrics["Parameters"] == f"{card['params']:,}"
    guide = " ".join(m.value for m in at.markdown)
    assert len(shell.PAGE_GUIDE) == 8  # every page but About itself
    for page in shell.PAGE_GUIDE:
        assert f"**{page.title}**" in guide


def test_home_switches_the_sample_grid_to_fashion_mnist():
    at = run_page("pages/home.py")
    at.segmented_control(key="home_dataset").set_value("fashion_mnist").run()
    assert not at.exception
    grid = at.get("plotly_chart")[0].proto.spec
    fashion, digits = data.info("fashion_mnist").class_names, data.info("mnist").class_names
    assert any(f'"{name}"' in grid for name in fashion if name not in digits)


def test_router_runs_the_draw_page_by_default():
    at = run_page("app.py")
    assert not at.exception
    assert at.title[0].value == "Draw a digit"
