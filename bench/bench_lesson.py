"""How long the Lesson makes a room wait: each step's time from Next to its chart drawn.

In a real browser (Debian's Chromium) against `streamlit run` on a fresh server: the first step
from opening the link (cold server, and again as a second visitor), then each Next to the next
step's chart (step 5 from the guess, since its chart comes after one), and whether the server
has TensorFlow loaded after the whole walk (it should not). Prints the numbers, a summary last.

    .venv/bin/python bench/bench_lesson.py [--walks 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pages.sections.lesson_steps import STEPS
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve
from tests.test_browser_lesson import drawn, tensorflow_loaded


def open_lesson(browser, url: str):
    """A new visitor's page on the lesson's first step, and the seconds until its heading and
    until its chart (the browser loads the chart library for a page's first chart)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=f"Lesson · {STEPS[0][0]}").wait_for()
    heading = time.perf_counter() - started
    drawn(page, 1)
    return context, page, heading, time.perf_counter() - started


def walk(page) -> dict[int, float]:
    """Next through steps 2 to 10; seconds from each click to the step's chart drawn."""
    seconds = {}
    for step in range(2, len(STEPS) + 1):
        started = time.perf_counter()
        page.get_by_role("button", name="Next").first.click()
        if step == 5:
            page.get_by_role("heading", name=f"Lesson · {STEPS[4][0]}").wait_for()
            started = time.perf_counter()
            page.get_by_role("button", name="Batch 1").click()
        drawn(page, step)
        seconds[step] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--walks", type=int, default=2, help="Visitors walking every step.")
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    walks: list[dict[int, float]] = []
    with serve() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        firsts = []
        for visitor in range(arguments.walks):
            context, page, heading, first = open_lesson(browser, server.url)
            firsts.append(first)
            print(
                f"visitor {visitor + 1}: step 1's heading {heading:.2f} s and chart {first:.2f} s "
                "after opening the link"
            )
            walks.append(walk(page))
            print("  Next to chart, s:", {step: round(s, 2) for step, s in walks[-1].items()})
            context.close()
        loaded = tensorflow_loaded(server.pid)
        browser.close()
    later = [seconds for one_walk in walks for seconds in one_walk.values()]
    print(
        f"Summary: step 1 {firsts[0]:.1f} s on a cold server, {firsts[-1]:.1f} s for visitor "
        f"{len(firsts)}; Next to chart: median {statistics.median(later):.2f} s, slowest "
        f"{max(later):.2f} s over {len(later)} steps; TensorFlow loaded after the walks: {loaded}"
    )


if __name__ == "__main__":
    main()
