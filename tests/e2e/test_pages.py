import pytest

from cnnviz.ui import shell
from tests.e2e.conftest import assert_no_exception, screenshot, serve, visible, wait_for_app

pytestmark = pytest.mark.e2e


def url_path(script: str) -> str:
    return script.split("/")[-1].removesuffix(".py")


@pytest.mark.parametrize("script, title", [(p.path, p.title) for p in shell.PAGES])
def test_every_page_renders_without_exception(page, app_url, script, title):
    target = app_url if script == shell.PAGES[0].path else f"{app_url}/{url_path(script)}"
    page.goto(target)
    wait_for_app(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for other in (p.title for p in shell.PAGES):
        nav.get_by_text(other, exact=True).wait_for(state="visible")
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1800})
    wait_for_app(page)
    screenshot(page, f"page-{url_path(script)}")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the same page reads
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, f"phone-{url_path(script)}")


def test_about_page_shows_model_card_metrics(page, app_url):
    page.goto(f"{app_url}/home")
    wait_for_app(page)
    visible(page, "The shipped model")
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    metric.wait_for(state="visible")
    assert metric.inner_text().strip().endswith("%")


def test_deep_link_on_a_fresh_server_gets_the_router(page, tmp_path):
    """Streamlit runs a `pages/` script bare until some session calls st.navigation."""
    with serve(tmp_path) as url:
        page.goto(f"{url}/pool")
        wait_for_app(page)
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("Pooling lab", exact=True).wait_for(state="visible")
        assert nav.get_by_text("app", exact=True).count() == 0
        visible(page, "Pooling shrinks a feature map")
        assert_no_exception(page)
