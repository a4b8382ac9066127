"""What a person waits for: the Market page's render, and Train's first visible progress.

(a) The Market page's script run through AppTest in a fresh process: cold (imports included)
and warm (median of 5 reruns), and whether TensorFlow got imported. (b) In a real browser
(Debian's Chromium) against `streamlit run`: the time from clicking Train (quick demo) to the
first progress bar, to the bar first moving, and to the result, for a first training and a
second one in the same server, and the ratio of their click-to-result times (goal <= 1.3);
and the most progress-bar changes seen in any one second. Prints the numbers, a summary last.

The first training comes as a person's does: the app opens on the Market page, the person
reads it for READ_SECONDS, then goes to Train. Meanwhile the app loads TensorFlow and the
quick demo's model in the background (lstm_core/model/warmup.py); `--read-seconds 0` clicks at once.

    .venv/bin/python bench/bench_app.py [--read-seconds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parent.parent
READ_SECONDS = 10.0
"""How long the bench's person looks at the Market page before going to Train."""

MARKET_SCRIPT = """
import json, statistics, sys, time
from streamlit.testing.v1 import AppTest
started = time.perf_counter()
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
cold = time.perf_counter() - started
warm = []
for _ in range(5):
    started = time.perf_counter()
    at.run()
    warm.append(time.perf_counter() - started)
print(json.dumps({"cold": cold, "warm": statistics.median(warm),
                  "tensorflow": "tensorflow" in sys.modules, "errors": len(at.exception)}))
"""


def market_render() -> dict:
    output = subprocess.run(
        [sys.executable, "-c", MARKET_SCRIPT, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


PROBE = """() => {
    const bar = document.querySelector(
        '[data-testid=stMain] [data-testid=stProgress] [role=progressbar]');
    const headings = document.querySelectorAll('[data-testid=stMain] :is(h1, h2, h3, h4)');
    const result = [...headings].some((heading) => heading.textContent.includes('Result:'));
    const trained = result ? document.body.innerText.match(/trained in ([0-9.]+) s/) : null;
    return {bar: bar !== null, value: bar ? bar.getAttribute('aria-valuenow') : null, result,
            fit: trained ? parseFloat(trained[1]) : null};
}"""
"""One look at the page: is the main progress bar there, its value, is the result shown."""


def most_in_one_second(moments: list[float]) -> int:
    """The most of `moments` (seconds, ascending) that fall in any one-second window."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def train_in_browser(page, url: str) -> dict:
    """Click Train on a fresh Train page and time what the person sees, polling every 25 ms."""
    page.goto(url)
    page.get_by_role("heading", name="Train & Predict").wait_for()
    started = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    times: dict = {"bar": None, "moved": None, "result": None, "fit": None}
    changes: list[float] = []
    last = None
    while time.perf_counter() - started < 600:
        seen = page.evaluate(PROBE)
        elapsed = time.perf_counter() - started
        if seen["result"]:
            times["result"] = elapsed
            # The page's own "trained in X s": model.fit alone, as the server timed it.
            for _ in range(200):
                if seen["fit"] is not None:
                    break
                page.wait_for_timeout(25)
                seen = page.evaluate(PROBE)
            times["fit"] = seen["fit"]
            break
        if seen["bar"]:
            times["bar"] = times["bar"] or elapsed
            value = seen["value"]
            if times["moved"] is None and value is not None and float(value) > 0:
                times["moved"] = elapsed
            if last is not None and value != last:
                changes.append(elapsed)
            last = value
        page.wait_for_timeout(25)
    times["changes"] = len(changes)
    times["max_changes_per_second"] = most_in_one_second(changes)
    return times


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read-seconds", type=float, default=READ_SECONDS)
    read_seconds = parser.parse_args().read_seconds
    market = market_render()
    print(
        f"Market page: cold {market['cold']:.2f} s, warm {market['warm']:.3f} s, "
        f"TensorFlow imported: {market['tensorflow']}"
    )
    if market["errors"]:
        print(f"(the Market page raised {market['errors']} exception(s) under AppTest)")
    store = Path(tempfile.mkdtemp(prefix="bench_app_")) / "runs.sqlite"
    with serve(environment={"LSTM_LAB_STORE": str(store)}) as server:
        url = server.url
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/market")
            page.get_by_role("heading", name="Market").wait_for()
            page.wait_for_timeout(read_seconds * 1000)
            first = train_in_browser(page, f"{url}/train")
            second = train_in_browser(page, f"{url}/train?seed=7")
            browser.close()
    for name, times in (("first", first), ("second", second)):
        print(
            f"{name} training (quick demo): bar after {seconds(times['bar'])}, moving after "
            f"{seconds(times['moved'])}, result after {seconds(times['result'])} "
            f"(model.fit itself: {seconds(times['fit'])}); "
            f"{times['changes']} bar changes, at most {times['max_changes_per_second']} "
            "in any one second"
        )
    most = max(first["max_changes_per_second"], second["max_changes_per_second"])
    ratio = (
        first["result"] / second["result"]
        if first["result"] is not None and second["result"] is not None
        else float("nan")
    )
    print(
        f"first / second quick demo, click to result: {seconds(first['result'])} / "
        f"{seconds(second['result'])}, ratio {ratio:.2f} (goal <= 1.3; Market read for "
        f"{read_seconds:g} s first)"
    )
    print(
        f"summary: market render cold {market['cold']:.2f} s / warm {market['warm']:.3f} s "
        f"(TensorFlow imported: {market['tensorflow']}); click to bar / moving / result: "
        f"first {seconds(first['bar'])} / {seconds(first['moved'])} / "
        f"{seconds(first['result'])}, second {seconds(second['bar'])} / "
        f"{seconds(second['moved'])} / {seconds(second['result'])} (ratio {ratio:.2f}); "
        f"max UI updates in one second {most} (goal <= 10)"
    )


if __name__ == "__main__":
    main()
