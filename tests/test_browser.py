"""A real browser: Debian's Chromium, driven by Playwright, against `streamlit run`."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.streamlit_server import serve

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.browser
BAR_VALUE = """() => {
    const bar = document.querySelector(
        '[data-testid=stMain] [data-testid=stProgress] [role=progressbar]');
    return bar ? bar.getAttribute('aria-valuenow') : null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `make run` starts it, on a free loopback port, for this module's tests."""
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running.url


def open_page(browser, url: str, timeout_ms: int = 60_000):
    """A fresh browser context (a new person) at 1400 x 2400, on `url`; close its context."""
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(url)
    return page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_person_trains_the_quick_demo_in_a_real_browser(server: str, browser) -> None:
    page = open_page(browser, f"{server}/market")
    page.get_by_role("heading", name="Market").wait_for()
    # Four facet titles drawn by plotly in the page.
    for title in ("Apple (AAPL)", "Alphabet (Google) (GOOG)", "Microsoft (MSFT)", "Amazon (AMZN)"):
        page.get_by_text(title, exact=True).first.wait_for()
    shot(page, "01_market")

    page.get_by_role("link", name="Train & Predict").click()
    page.get_by_role("heading", name="Train & Predict").wait_for()
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="Quick demo").click()
    page.get_by_role("button", name="Train", exact=True).click()

    bar = page.locator("[data-testid=stMain] [data-testid=stProgress] [role=progressbar]").first
    bar.wait_for()
    seen = []
    for _ in range(400):
        if page.get_by_text("Result:").count() > 0:
            break
        # One look in the page itself: the bar can vanish between two Playwright calls.
        value = page.evaluate(BAR_VALUE)
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
            if len(seen) == 2:
                shot(page, "02_training")
        page.wait_for_timeout(250)
    page.get_by_text("Result:").first.wait_for()
    assert len(seen) >= 2, f"the progress bar never moved: {seen}"
    assert [float(value) for value in seen] == sorted(float(value) for value in seen)
    page.get_by_text("On the held-out test period the LSTM's typical error is").wait_for()
    page.get_by_text("tomorrow = today (baseline)").first.wait_for()
    shot(page, "03_result")

    page.get_by_role("link", name="Market").click()
    page.get_by_role("heading", name="Market").wait_for()
    page.get_by_role("link", name="Train & Predict").click()
    page.get_by_text("Result:").first.wait_for()
    page.get_by_text("LSTM prediction").first.wait_for()
    shot(page, "04_back_to_result")
    page.context.close()


def test_uploading_files_in_a_real_browser(server: str, browser, tmp_path) -> None:
    """A bad CSV gets one sentence and loses nothing; a Yahoo export then replaces the data."""
    import pandas as pd

    page = open_page(browser, f"{server}/market")
    page.get_by_role("heading", name="Market").wait_for()
    bad = tmp_path / "notes.csv"
    bad.write_text("name,comment\nalice,hello\nbob,world\n")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(bad))
    page.get_by_text("The file notes.csv has no Date column").first.wait_for()
    page.get_by_text("Microsoft (MSFT)", exact=True).first.wait_for()
    page.get_by_text("Bundled snapshot").first.wait_for()
    shot(page, "05_bad_upload")

    snapshot = pd.read_csv(ROOT / "data" / "prices_2015-04-01_2021-03-31.csv")
    msft = snapshot[snapshot["Ticker"] == "MSFT"].drop(columns="Ticker").iloc[::-1]
    good = tmp_path / "MSFT.csv"
    msft.to_csv(good, index=False)
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(good))
    page.get_by_text("Your file MSFT.csv").first.wait_for()
    shot(page, "06_good_upload")
    page.context.close()


def test_a_sweep_shows_its_progress_under_the_button_in_a_real_browser(
    server: str, browser
) -> None:
    """Issue 15: the group's bar appears at once right below 'Run the sweep', then the heatmap."""
    page = open_page(browser, f"{server}/compare", timeout_ms=120_000)
    page.get_by_role("heading", name="Compare runs").wait_for()
    page.get_by_role("heading", name="Sweep lag and batch size").wait_for()
    shot(page, "07_compare_idle")

    button = page.get_by_role("button", name="Run the sweep")
    button.click()
    bar = page.locator("[data-testid=stMain] [data-testid=stProgress]").first
    bar.wait_for(timeout=10_000)
    assert "of 4" in bar.inner_text()
    button_box, bar_box = button.bounding_box(), bar.bounding_box()
    # Right where the person clicked: below the button, within a screen's height of it.
    assert 0 < bar_box["y"] - button_box["y"] < 600, (button_box, bar_box)
    page.get_by_role("button", name="Stop").first.wait_for()
    shot(page, "08_compare_sweep_running")

    heading = page.get_by_text(re.compile(r"^Sweep: .* error relative to the baseline$"))
    heading.wait_for()
    page.locator("[data-testid=stMain] .js-plotly-plot").last.wait_for()
    shot(page, "09_compare_sweep_result")
    # The main area scrolls inside the page: bring the heatmap into the picture.
    heading.scroll_into_view_if_needed()
    shot(page, "10_compare_sweep_heatmap")
    page.context.close()
