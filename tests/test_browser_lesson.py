"""The Lesson walked in a real browser at a teacher's pace, with a screenshot of every step.

Also measures each step's time from Next to its chart drawn (the first step from opening the
link on a cold server) and writes them to artifacts/lesson_timings.json; nothing is asserted on
them. The server must not have loaded TensorFlow after the whole walk.
"""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pages.sections.lesson_steps import STEPS
from tests.streamlit_server import Server, serve

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
TIMINGS = ROOT / "artifacts" / "lesson_timings.json"
READING_SECONDS = 1.5
"""How long the walk stays on each step, as a teacher talking over it would (shortened)."""

pytestmark = pytest.mark.browser
CHART_KEYS = {
    1: "lesson_facets",
    2: "lesson_window",
    3: "lesson_gates",
    4: "lesson_model_one",
    5: "lesson_guess_chart",
    6: "lesson_errors",
    7: "lesson_changes",
    8: "lesson_seeds",
    9: "lesson_fan",
}
"""The chart each step draws (step 5's only after a guess; step 10 has links instead)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as running:
        yield running


def tensorflow_loaded(pid: int) -> bool:
    """Whether the server process has TensorFlow's library mapped into its memory."""
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


def drawn(page, step: int) -> None:
    """Wait for step `step`'s heading and its chart's plot (or step 10's links)."""
    title = STEPS[step - 1][0]
    page.get_by_role("heading", name=f"Lesson · {title}").wait_for()
    if step in CHART_KEYS:
        page.locator(f".st-key-{CHART_KEYS[step]} .main-svg").first.wait_for()
    else:
        page.get_by_role("link", name="Train the Recommended model yourself").wait_for()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_teacher_walks_the_whole_lesson(server: Server, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    timings: dict[str, float] = {}
    opened = time.perf_counter()
    page.goto(server.url)
    drawn(page, 1)
    timings["1 (cold server, from opening the link)"] = time.perf_counter() - opened
    assert "step=1" in page.url
    for step in range(1, len(STEPS) + 1):
        if step > 1:
            started = time.perf_counter()
            page.get_by_role("button", name="Next").first.click()
            if step == 5:
                page.get_by_role("heading", name=f"Lesson · {STEPS[4][0]}").wait_for()
                timings["5 (question shown)"] = time.perf_counter() - started
                page.get_by_text("Next works without a guess").wait_for()
                shot(page, "lesson_05_question")
                started = time.perf_counter()
                page.get_by_role("button", name="Batch 200").click()
            drawn(page, step)
            timings[str(step)] = time.perf_counter() - started
            assert f"step={step}" in page.url
        page.get_by_text(f"{step} of {len(STEPS)}", exact=True).first.wait_for()
        page.wait_for_timeout(READING_SECONDS * 1000)
        shot(page, f"lesson_{step:02d}")
    assert page.get_by_text("does better").count() == 0  # the answer belongs to step 5 only
    assert not tensorflow_loaded(server.pid)

    page.get_by_role("button", name="Start over").first.click()
    drawn(page, 1)
    assert "step=1" in page.url
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps({k: round(v, 2) for k, v in timings.items()}, indent=1))
    print("Next to chart drawn, seconds:", json.dumps(timings))
    context.close()


def test_a_shared_link_opens_at_its_step_in_presenting_mode(server: Server, browser) -> None:
    """Runs after the walk: the Train page it visits warms TensorFlow up, as it should."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server.url}/?step=9&present=1")
    drawn(page, 9)
    zoom = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stMainBlockContainer]')).zoom"
    )
    assert float(zoom) >= 1.25
    shot(page, "lesson_09_presenting")
    # Step 10's link opens the Train page with the Recommended settings and their reference
    # result; Presenting hides the Advanced settings there, and Presenting off shows them.
    page.get_by_role("button", name="Next").first.click()
    page.get_by_role("link", name="Train the Recommended model yourself").click()
    page.get_by_role("heading", name="Train & Predict").wait_for()
    page.get_by_role("heading", name="Result trained in advance").wait_for()
    page.get_by_text("learns daily changes, validation 10%, patience 3").first.wait_for()
    page.get_by_role("button", name="Train", exact=True).wait_for()
    # The form's own Advanced settings (a reopened saved run may show another "Advanced").
    advanced = page.locator("[data-testid=stForm]").get_by_text("Advanced", exact=True).first
    assert advanced.is_hidden()
    page.get_by_text("Presenting", exact=True).click()
    advanced.wait_for()
    page.goto(f"{server.url}/?step=eleven")
    page.get_by_text("so the lesson starts at step 1").wait_for()
    drawn(page, 1)
    context.close()
