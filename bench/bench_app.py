"""What a person waits for: the Market page's render, and Train's first visible progress.

(a) The Market page's script run through AppTest in a fresh process: cold (imports included)
and warm (median of 5 reruns), and whether TensorFlow got imported. (b) In a real browser
(Debian's Chromium) against `streamlit run`: the time from clicking Train (quick demo) to the
first progress bar, to the bar first moving, and to the result, for a first training (which
imports TensorFlow) and a second one in the same server; and the most progress-bar changes
seen in any one second. Prints the numbers, a summary last.

    .venv/bin/python bench/bench_app.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port

ROOT = Path(__file__).resolve().parent.parent

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


def train_in_browser(page, url: str) -> dict:
    page.goto(url)
    page.get_by_role("heading", name="Train & Predict").wait_for()
    bar = page.locator("[data-testid=stMain] [data-testid=stProgress] [role=progressbar]")
    started = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    times: dict = {"bar": None, "moved": None, "result": None}
    changes: dict[int, int] = {}
    last = None
    while time.perf_counter() - started < 600:
        elapsed = time.perf_counter() - started
        if page.get_by_text("Result:").count():
            times["result"] = elapsed
            break
        if bar.count():
            times["bar"] = times["bar"] or elapsed
            value = bar.first.get_attribute("aria-valuenow")
            if value not in (None, "0") and times["moved"] is None:
                times["moved"] = elapsed
            if value != last and last is not None:
                changes[int(elapsed)] = changes.get(int(elapsed), 0) + 1
            last = value
        page.wait_for_timeout(25)
    times["max_changes_per_second"] = max(changes.values(), default=0)
    return times


def main() -> None:
    market = market_render()
    print(
        f"Market page: cold {market['cold']:.2f} s, warm {market['warm']:.3f} s, "
        f"TensorFlow imported: {market['tensorflow']}"
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "LSTM_LAB_STORE": "/tmp/bench_app.sqlite"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            first = train_in_browser(page, f"{url}/train")
            second = train_in_browser(page, f"{url}/train?seed=7")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, times in (("first", first), ("second", second)):
        print(
            f"{name} training (quick demo): bar after {times['bar']:.2f} s, moving after "
            f"{times['moved']:.2f} s, result after {times['result']:.2f} s, "
            f"at most {times['max_changes_per_second']} bar changes in one second"
        )
    print(
        f"summary: market render cold {market['cold']:.2f} s / warm {market['warm']:.3f} s "
        f"(TensorFlow imported: {market['tensorflow']}); click to first progress "
        f"{first['bar']:.2f} s first run, {second['bar']:.2f} s second; max UI updates/s "
        f"{max(first['max_changes_per_second'], second['max_changes_per_second'])}"
    )


if __name__ == "__main__":
    main()
