"""Several people on one `streamlit run` server at once, and a tab closed in mid-training.

Run with `pytest -s` to see the measured times and the server's memory; no time is asserted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from lstm_core.config import TrainConfig
from tests.streamlit_server import Server, serve

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FACET_TITLES = ("Apple (AAPL)", "Alphabet (Google) (GOOG)", "Microsoft (MSFT)", "Amazon (AMZN)")
VERDICT = re.compile(r"held-out test period the LSTM's typical error is ([\d,]+\.\d\d)x")
RMSE_CARD = re.compile(r"LSTM typical error \(RMSE\)\s*\$([\d,]+\.\d\d)")
WAITING = "Waiting to start"
# Safety bound for every wait loop (in polls of POLL_MS), so a hung server cannot hang the suite.
POLL_MS = 500
MAX_POLLS = 2400  # 20 minutes: only a hung server gets there

TINY = TrainConfig(lag=20, batch_size=64, epochs=2, units=(8, 8), dense_units=4, seed=1)
THREE_USERS = (
    TINY,
    TINY.with_changes(lag=25, seed=2),
    TINY.with_changes(lag=30, seed=3),
)
# Long enough that, had it not stopped, the next training would wait minutes for the lock.
ORPHAN = TrainConfig(lag=120, batch_size=4, epochs=100, units=(64, 32), dense_units=16, seed=5)


def train_url(base: str, config: TrainConfig) -> str:
    """A link to the Train page that fills the form with `config` (as pages/train.py reads it)."""
    return f"{base}/train?{urlencode(config.to_query())}"


def rss_mb(pid: int) -> float:
    """The process's resident memory in MB, from /proc (psutil is not installed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for every session of the multi-user tests."""
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running


def open_train_page(browser, server: Server, config: TrainConfig):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(train_url(server.url, config))
    page.get_by_role("heading", name="Train & Predict").wait_for()
    page.get_by_role("button", name="Train", exact=True).wait_for()
    return context, page


def result_heading(page):
    return page.get_by_role("heading", name=re.compile(r"^Result:"))


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def progress_text(page) -> str:
    """The live progress line under the form ('Epoch 1 of 2 · ...' or 'Waiting to start...')."""
    # all_inner_texts does not wait: the bar can vanish between two looks when training ends.
    texts = page.locator("[data-testid=stMain] [data-testid=stProgress]").all_inner_texts()
    return texts[0] if texts else ""


def test_a_shared_link_opened_first_on_a_fresh_server_shows_the_app(tmp_path, browser) -> None:
    with serve(tmp_path / "streamlit.log") as fresh:
        context, page = open_train_page(browser, fresh, TINY)
        # The page's last line: the whole script has run, sidebar included.
        page.get_by_text("No model trained yet in this session").wait_for()
        navigation = page.locator("[data-testid=stSidebarNav]").inner_text().split("\n")
        data_line = page.locator("[data-testid=stSidebar]").get_by_text("Data: ").count()
        context.close()
    print(f"\nSidebar of a shared link opened first: {navigation}")
    # Each link's text starts with its Material icon's ligature name (such as "show_chart").
    labels = [line for line in navigation if line.strip() and not re.fullmatch(r"[a-z_]+", line)]
    assert labels == [
        "Lesson",
        "Market",
        "Train & Predict",
        "Compare runs",
        "Backtest",
        "Tune",
        "Inside the LSTM",
    ]
    assert data_line == 1


def test_three_people_train_at_once_and_each_gets_their_own_deterministic_result(
    server: Server, browser
) -> None:
    # A fourth person is already on the Market page.
    market_context = browser.new_context(viewport={"width": 1300, "height": 1000})
    market = market_context.new_page()
    market.set_default_timeout(120_000)
    market.goto(f"{server.url}/market")
    market.get_by_role("heading", name="Market").wait_for()

    sessions = [open_train_page(browser, server, config) for config in THREE_USERS]
    pages = [page for _, page in sessions]
    for page in pages:
        page.locator("[data-testid=stSidebar]").get_by_text("Bundled snapshot").wait_for()

    clicked: list[float] = []
    for page in pages:
        page.get_by_role("button", name="Train", exact=True).click()
        clicked.append(time.perf_counter())

    # While the three train, the fourth opens the Market page again and sees all of it.
    market_opened = time.perf_counter()
    market.goto(f"{server.url}/market")
    market.get_by_role("heading", name="Market").wait_for()
    for title in FACET_TITLES:
        market.get_by_text(title, exact=True).first.wait_for()
    market_seconds = time.perf_counter() - market_opened
    still_training = sum(result_heading(page).count() == 0 for page in pages)

    finished: dict[int, float] = {}
    saw_waiting: set[int] = set()
    saw_epoch: set[int] = set()
    for _ in range(MAX_POLLS):
        for index, page in enumerate(pages):
            if index in finished:
                continue
            if result_heading(page).count():
                finished[index] = time.perf_counter() - clicked[index]
                continue
            line = progress_text(page)
            if WAITING in line:
                saw_waiting.add(index)
            if line.startswith("Epoch"):
                saw_epoch.add(index)
        if len(finished) == len(pages):
            break
        pages[0].wait_for_timeout(POLL_MS)
    else:
        pytest.fail(f"not every session finished: {finished}\n{server.log_tail()}")

    print(
        f"\nMarket page with 4 facets drawn in {market_seconds:.1f} s while "
        f"{still_training} of 3 sessions were still training"
    )
    for index, config in enumerate(THREE_USERS):
        print(
            f"session {index + 1} ({config.label()}): result after {finished[index]:.1f} s; "
            f"queued message seen: {index in saw_waiting}; epoch progress seen: "
            f"{index in saw_epoch}"
        )

    shown: list[tuple[str, str]] = []
    for index, (page, config) in enumerate(zip(pages, THREE_USERS, strict=True)):
        # The cards come after the heading; wait for them rather than read a page mid-draw.
        page.get_by_text("LSTM typical error (RMSE)").wait_for()
        assert result_heading(page).count() == 1
        assert result_heading(page).inner_text() == f"Result: {config.label()}"
        text = main_text(page)
        # No session shows another's run, neither its heading nor its verdict.
        for other in THREE_USERS:
            if other != config:
                assert other.label() not in text, f"session {index + 1} shows {other.label()}"
        assert "Training was stopped" not in text
        match = VERDICT.search(text)
        assert match, f"no verdict sentence in session {index + 1}:\n{text[:2000]}"
        card = RMSE_CARD.search(text)
        assert card, f"no RMSE card in session {index + 1}:\n{text[:2000]}"
        shown.append((card.group(1), match.group(1)))
    for context, _ in sessions:
        context.close()
    market_context.close()

    # The same configs trained alone, here, must give the same dollars to the cent.
    from lstm_core.data import load_snapshot
    from lstm_core.model.pipeline import run_training

    series = load_snapshot().series("MSFT")
    alone = []
    for config in THREE_USERS:
        result = run_training(config, series)
        alone.append(
            (f"{result.metrics['lstm']['rmse']:,.2f}", f"{result.comparison['rmse_ratio']:.2f}")
        )
    print(f"(LSTM RMSE, ratio to baseline) in the browser: {shown}; trained alone: {alone}")
    assert shown == alone


def test_a_closed_tab_frees_the_server_for_the_next_person(server: Server, browser) -> None:
    rss_start = rss_mb(server.pid)
    orphan_context, orphan = open_train_page(browser, server, ORPHAN)
    orphan.get_by_role("button", name="Train", exact=True).click()

    # Wait until it really trains (holding the training lock) and has a time estimate.
    remaining = None
    for _ in range(MAX_POLLS):
        match = re.search(
            r"Epoch (\d+) of \d+ · batch (\d+) of \d+ · about ([\d,]+) s left",
            progress_text(orphan),
        )
        if match and (int(match.group(1)) > 1 or int(match.group(2)) >= 20):
            remaining = float(match.group(3).replace(",", ""))
            break
        orphan.wait_for_timeout(POLL_MS)
    assert remaining is not None, f"the long training never showed progress\n{server.log_tail()}"
    assert remaining >= 60, (
        f"the long training would end in {remaining:.0f} s anyway; it must be longer for this "
        "test to tell a stopped job from a finished one"
    )
    rss_training = rss_mb(server.pid)

    orphan_context.close()
    closed = time.perf_counter()

    context, page = open_train_page(browser, server, TINY.with_changes(seed=7))
    page.get_by_role("button", name="Train", exact=True).click()
    clicked = time.perf_counter() - closed
    first_progress = None
    stopped_at = None
    stop_line = f"training {ORPHAN.label()} stopped because its browser tab was closed"
    saw_waiting = False
    for _ in range(MAX_POLLS):
        if stopped_at is None and stop_line in server.log_tail():
            stopped_at = time.perf_counter() - closed
        if result_heading(page).count():
            break
        line = progress_text(page)
        saw_waiting = saw_waiting or WAITING in line
        if first_progress is None and line.startswith("Epoch"):
            first_progress = time.perf_counter() - closed
        page.wait_for_timeout(POLL_MS)
    else:
        pytest.fail(f"the next person's training never finished\n{server.log_tail()}")
    result_seconds = time.perf_counter() - closed
    rss_end = rss_mb(server.pid)

    progress_at = (
        "never (done between polls)" if first_progress is None else f"{first_progress:.1f} s"
    )
    stopped_text = "not yet" if stopped_at is None else f"{stopped_at:.1f} s"
    print(
        f"\nThe closed tab's training had about {remaining:.0f} s left. The server logged its "
        f"stop {stopped_text} after the tab closed; the "
        f"next person clicked Train at {clicked:.1f} s, waited for the lock: {saw_waiting}, "
        f"saw epoch progress at {progress_at} and the result at {result_seconds:.1f} s"
    )
    print(
        f"Server memory (VmRSS): {rss_start:.0f} MB before, {rss_training:.0f} MB while the "
        f"long training ran, {rss_end:.0f} MB after the next person's result"
    )
    assert result_heading(page).inner_text() == f"Result: {TINY.with_changes(seed=7).label()}"
    assert "Training was stopped" not in main_text(page)
    assert stop_line in server.log_tail(), server.log_tail()
    # Had the orphaned job kept the lock, the next training could not start before it ended.
    started = first_progress if first_progress is not None else result_seconds
    assert started < remaining / 2, (
        f"the next training started {started:.0f} s after the tab closed, while the closed "
        f"tab's training had about {remaining:.0f} s left: it was not stopped"
    )
    context.close()


def progress_position(page) -> tuple[int, int] | None:
    """(epoch, batch) from the progress line, or None while there is none."""
    match = re.search(r"Epoch (\d+) of \d+ · batch (\d+) of", progress_text(page))
    return (int(match.group(1)), int(match.group(2))) if match else None


def test_a_tab_paused_in_the_background_keeps_training(server: Server, browser) -> None:
    """Browsers slow or pause the timers of background tabs, and with them the page's reruns.

    Paused for longer than the page heartbeat's timeout (8 s), the tab is still connected, so
    its training must go on.
    """
    paused = ORPHAN.with_changes(seed=6)
    context, page = open_train_page(browser, server, paused)
    page.get_by_role("button", name="Train", exact=True).click()
    before = None
    for _ in range(MAX_POLLS):
        before = progress_position(page)
        if before is not None and before != (1, 0):
            break
        page.wait_for_timeout(POLL_MS)
    assert before is not None, f"the training never showed progress\n{server.log_tail()}"

    # Pausing the page's JavaScript stops its timers, as a browser's background throttling
    # does, while its connection to the server stays open. (Page.setWebLifecycleState's
    # "frozen" did not stop timers in headless chromium here.)
    devtools = context.new_cdp_session(page)
    devtools.send("Debugger.enable")
    devtools.send("Debugger.pause")
    time.sleep(12)
    devtools.send("Debugger.resume")
    devtools.send("Debugger.disable")

    after = before
    for _ in range(60):
        page.wait_for_timeout(POLL_MS)
        after = progress_position(page) or after
        if after > before:
            break
    print(f"\nProgress before the 12 s pause: {before}; after it: {after}")
    assert after > before, f"training did not go on after the pause\n{server.log_tail()}"
    assert f"training {paused.label()} stopped" not in server.log_tail()

    page.get_by_role("button", name="Stop").click()
    result_heading(page).wait_for()
    assert "Training was stopped" in main_text(page)
    context.close()
