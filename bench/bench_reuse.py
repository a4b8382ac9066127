"""Never train the same run twice: a repeated 4-run seed group in a new session.

Session 1 (its own process) trains the quick demo's settings over 4 seeds on the Compare page
through AppTest, into an empty run store. Session 2 (a fresh process, as a new browser tab after
a server restart) opens the Compare page and clicks the same button: the bench times that click
until the seed summary is drawn, and the whole new session (first page run included), and counts
the trainings (run_training wrapped). Goal: under 2 s, nothing trained.

    .venv/bin/python bench/bench_reuse.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SESSION = """
import json, sys, time
from streamlit.testing.v1 import AppTest
from lstm_core.config import QUICK_DEMO
from lstm_core.model import pipeline

trainings = []
real = pipeline.run_training
def counted(config, series, **options):
    trainings.append(config.seed)
    return real(config, series, **options)
pipeline.run_training = counted

started = time.perf_counter()
at = AppTest.from_file(sys.argv[1], default_timeout=600)
at.session_state["train_settings"] = QUICK_DEMO
at.switch_page("pages/compare.py").run()
at.slider(key="seed_count").set_value(4).run()
opened = time.perf_counter() - started
clicked = time.perf_counter()
next(b for b in at.button if b.label.startswith("Your last settings")).click().run()
while "training_job" in at.session_state and not at.session_state["training_job"].collected:
    time.sleep(0.5)
    at.run()
click_to_summary = time.perf_counter() - clicked
summary = [str(e.value) for e in at.markdown if str(e.value).endswith(" seeds")]
print(json.dumps({
    "open_seconds": opened,
    "click_to_summary_seconds": click_to_summary,
    "session_seconds": time.perf_counter() - started,
    "trainings": len(trainings),
    "summary": summary,
    "said": [str(e.value) for e in at.info if "saved" in str(e.value)],
    "errors": len(at.exception),
}))
"""


def session(store: Path) -> dict:
    """One new session in a fresh process, against `store`."""
    environment = dict(os.environ, LSTM_LAB_STORE=str(store), TF_CPP_MIN_LOG_LEVEL="2")
    output = subprocess.run(
        [sys.executable, "-c", SESSION, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment | {"PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "runs.sqlite"
        first = session(store)
        print("session 1 (trains):", json.dumps(first))
        second = session(store)
        print("session 2 (repeat):", json.dumps(second))
    print(
        f"Repeated 4-run seed group in a new session: {second['click_to_summary_seconds']:.2f} s "
        f"from click to summary ({second['session_seconds']:.2f} s for the whole session, page "
        f"opening included), {second['trainings']} trainings; the first session trained "
        f"{first['trainings']} runs in {first['click_to_summary_seconds']:.1f} s."
    )


if __name__ == "__main__":
    main()
