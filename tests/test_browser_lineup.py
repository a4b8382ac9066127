"""The Compare page's lineup in a real browser: trained, charted, and the sentence shown."""

from collections.abc import Iterator

import pytest

from tests.streamlit_server import serve
from tests.test_browser import open_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running.url


def test_a_lineup_of_one_seed_per_model_in_a_real_browser(server: str, browser) -> None:
    page = open_page(browser, f"{server}/compare", timeout_ms=240_000)
    heading = page.get_by_role("heading", name="Is the LSTM worth it? A lineup")
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    # One seed per model keeps the four trainings short.
    page.get_by_role("slider", name="Seeds per model").focus()
    page.keyboard.press("Home")
    page.get_by_role("button", name="Train the lineup").click()
    sentence = page.get_by_text("the best mean ratio to persistence is")
    sentence.wait_for()
    chart = page.locator("[data-testid=stMain] .js-plotly-plot").last
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    shot(page, "30_compare_lineup")
    text = chart.inner_text()
    for name in ("LSTM", "GRU", "SimpleRNN", "Ridge (linear)", "tomorrow = today"):
        assert name in text
    assert "Train each model with at least 2 seeds" in sentence.inner_text()
    page.context.close()


def test_a_lineup_of_input_sets_with_shuffled_controls_in_a_real_browser(
    server: str, browser
) -> None:
    page = open_page(browser, f"{server}/compare", timeout_ms=300_000)
    heading = page.get_by_role("heading", name="Is the LSTM worth it? A lineup")
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    page.get_by_role("slider", name="Seeds per model").focus()
    page.keyboard.press("Home")
    form = page.locator("[data-testid=stForm]").filter(has_text="What the networks see")
    # The LSTM and the ridge only (Backspace drops the last chosen kinds), to keep this short.
    form.locator("[data-testid=stMultiSelect]").first.click()
    for _ in range(3):
        page.keyboard.press("Backspace")
    page.get_by_role("option", name="Ridge (linear)").click()
    page.keyboard.press("Escape")
    form.locator("[data-testid=stMultiSelect]").last.click()
    page.get_by_role("option", name="Close, volume, range and market").click()
    page.keyboard.press("Escape")
    form.get_by_text("Shuffled control for each extra input").click()
    page.get_by_role("button", name="Train the lineup").click()
    verdict = page.get_by_text("its shuffled copy on the validation period").first
    verdict.wait_for()
    table = page.locator("[data-testid=stDataFrame]").last
    table.scroll_into_view_if_needed()
    shot(page, "31_compare_lineup_inputs")
    sentences = page.get_by_text("its shuffled copy on the validation period").all_inner_texts()
    # Two model kinds x three extra inputs, one sentence each.
    assert len(sentences) == 6
    assert any(text.startswith("LSTM + volume+range+market: volume") for text in sentences)
    assert any(text.startswith("Ridge (linear) + volume+range+market: range") for text in sentences)
    assert not any(text.startswith(("GRU", "SimpleRNN")) for text in sentences)
    chart = page.locator("[data-testid=stMain] .js-plotly-plot").last.inner_text()
    assert "LSTM + volume+range+market (market shuffled)" in chart
    page.context.close()
