"""The Tune page in a real browser (Debian's Chromium): a two-trial study, live then finished."""

from collections.abc import Iterator

import pytest

from tests.streamlit_server import serve
from tests.test_browser import shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `make run` starts it, on a free loopback port, with its own run store."""
    folder = tmp_path_factory.mktemp("tune_server")
    with serve(
        folder / "streamlit.log", {"LSTM_LAB_STORE": str(folder / "runs.sqlite")}
    ) as running:
        yield running.url


def test_a_person_runs_a_small_study_and_sees_what_mattered(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{server}/tune")
    page.get_by_role("heading", name="Tune").first.wait_for()
    page.get_by_role("spinbutton", name="Trials").fill("2")
    page.get_by_role("spinbutton", name="Epochs per trial (when not searched)").fill("1")
    page.get_by_role("button", name="Start the study").click()
    # Live: the trial counter under the button, then the history once a trial has finished.
    page.get_by_text("Trial 1 of 2").first.wait_for()
    page.get_by_text("Each trial's error on the validation period").first.wait_for()
    shot(page, "09_tune_live")
    page.get_by_text("Held-out test: the only test figure of this study").wait_for()
    page.get_by_text("Which settings mattered for the validation error").first.wait_for()
    page.get_by_role("button", name="Train this").wait_for()
    text = page.locator("[data-testid=stMain]").inner_text()
    # The study never names a test figure before its end, and names exactly one then.
    assert text.count("the only test figure") == 1
    page.set_viewport_size({"width": 1400, "height": 4200})
    shot(page, "10_tune_done")
    context.close()
