from streamlit.testing.v1 import AppTest

from cnnviz import ui
from tests.conftest import ROOT


def run_page(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=120).run()


def test_home_shows_the_guide_the_model_card_and_samples():
    at = run_page("pages/home.py")
    assert not at.exception
    assert "how convolutional networks see" in at.title[0].value
    card = ui.shipped_card()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{card['test_accuracy']:.2%}"
    assert metrics["Parameters"] == f"{card['params']:,}"
    guide = " ".join(m.value for m in at.markdown)
    for title, _ in ui.PAGE_GUIDE:
        assert f"**{title}**" in guide
    assert ui.PAGE_GUIDE


def test_home_switches_the_sample_grid_to_fashion_mnist():
    at = run_page("pages/home.py")
    at.segmented_control(key="home_dataset").set_value("fashion_mnist").run()
    assert not at.exception
    assert at.session_state["home_dataset"] == "fashion_mnist"


def test_router_runs_the_draw_page_by_default():
    at = run_page("app.py")
    assert not at.exception
    assert at.title[0].value == "Draw a digit"
