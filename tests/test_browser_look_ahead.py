"""The Backtest page and the Look ahead section in a real browser (Debian's Chromium)."""

from collections.abc import Iterator

import pytest

from tests.streamlit_server import serve
from tests.test_browser import shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `make run` starts it, on a free loopback port."""
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running.url


def test_a_person_backtests_the_quick_demo_and_looks_ahead(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{server}/market")
    page.get_by_role("heading", name="Market").wait_for()

    page.get_by_role("link", name="Backtest").click()
    page.get_by_role("heading", name="Backtest").first.wait_for()
    page.get_by_role("combobox", name="Settings").click()
    page.get_by_role("option", name="Quick demo").click()
    folds = page.get_by_role("slider", name="Folds")
    folds.focus()
    for _ in range(3):  # from 5 down to 2
        folds.press("ArrowLeft")
    page.get_by_role("button", name="Run backtest").click()
    page.get_by_text("Fold 1 of 2").first.wait_for()
    page.get_by_text("Over 2 test blocks the LSTM's one-day error was on average").wait_for()
    page.get_by_text("One-day error of each fold").first.wait_for()
    page.get_by_text("Typical error by days ahead").first.wait_for()
    shot(page, "07_backtest")

    page.get_by_role("link", name="Train & Predict").click()
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="Quick demo").click()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("heading", name="Look ahead").wait_for()
    page.get_by_text("The next 10 trading days").first.wait_for()
    # The quick demo keeps no validation period: the line comes alone, and the page says why.
    page.get_by_text("The line comes without bands.").wait_for()
    # The page scrolls inside its main block, so a full-page shot would stop at the viewport.
    page.set_viewport_size({"width": 1400, "height": 4200})
    shot(page, "08_look_ahead")
    context.close()
