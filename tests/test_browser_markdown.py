"""Markdown in a shared link stays text in a real browser: no link to another site appears.

AppTest sees only the source text; whether a warning renders `[click me](https://...)` as a
live link can only be seen in the page a browser draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest

from tests.streamlit_server import serve

pytestmark = pytest.mark.browser

OFF_SITE_LINKS = """(host) => Array.from(document.querySelectorAll('a[href]'))
    .map((anchor) => anchor.href)
    .filter((href) => { try { return new URL(href).host !== host; } catch { return true; } })"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running.url


@pytest.mark.parametrize(
    "query",
    [
        {"ticker": "[click me](https://evil.example/q)"},
        {"ticker": "https://evil.example/bare"},
        {"units": "[x](https://evil.example/u)"},
        {"target": "www.evil.example"},
    ],
    ids=["markdown link", "bare address", "units", "www address"],
)
def test_a_link_parameter_never_becomes_a_link_to_another_site(server, browser, query) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(60_000)
    value = next(iter(query.values()))
    page.goto(
        f"{server}/train?" + "&".join(f"{name}={quote(text)}" for name, text in query.items())
    )
    warning = page.locator("[data-testid=stAlert]").filter(has_text="could not be used").first
    warning.wait_for()
    shown = warning.inner_text()
    # The whole page has run (the sidebar's data line is drawn last but one).
    page.locator("[data-testid=stSidebar]").get_by_text("Data: ").wait_for()
    off_site = page.evaluate(OFF_SITE_LINKS, urlsplit(server).netloc)
    context.close()
    assert off_site == []
    # The person reads what the link held (an invisible word joiner keeps an address unlinked).
    assert value in shown.replace("\N{WORD JOINER}", "")
