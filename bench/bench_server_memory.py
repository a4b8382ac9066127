"""Resident memory of one page server with N idle sessions, with and without a Dask cluster.

For each set-up, a real `streamlit run app.py` (tests/streamlit_server.serve): its memory before
any session; then N real browser tabs (Debian's Chromium), each its own session, open Train &
Predict: the first, then (once the warm-up has ended, as the server's log says, and 10 s of
idling) the memory, then the others, and after 10 s of idling the memory again; then one
session trains the quick demo, looks ahead on its result and opens the Inside page, and the
memory once more. With the cluster (a local scheduler and 2 workers,
as tests/dask_cluster.py starts them) the workers' memory is read too, and whether the server
imported TensorFlow (its /proc/PID/maps names libtensorflow once it did).

Last, what a class of 30 and of 300 would need, computed from these readings with the
assumptions printed beside them (on paper: no class was measured here).

    .venv/bin/python bench/bench_server_memory.py [--sessions 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dask_cluster import local_cluster
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve

SETTLE_SECONDS = 10
WARM_UP_LIMIT = 300
TRAINING_LIMIT = 600
WORKED = "after one session's work"
PEOPLE_PER_SERVER = 30
"""On paper: the sessions one page server holds (its Python runs every rerun on one core)."""
PEOPLE_PER_WORKER = 5
"""On paper: one worker (one core) for every five people, so that a lesson's 'everyone press
Train now' waits about five quick-demo trainings (bench/bench_room.py: ~10 s each here)."""


def resident_mb(pid: int) -> float:
    """A process's resident memory in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loaded_tensorflow(pid: int) -> bool:
    """Whether the process has TensorFlow's library mapped (it imported tensorflow)."""
    return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()


def worker_memory(started) -> float:
    """Resident MB of every worker and its nanny: each worker's process group (a nanny spawns
    its worker from another thread, so /proc's children lists miss it)."""
    groups = {process.pid for process in started.workers}
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in groups:
                total += resident_mb(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


def wait_for_log(server, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in server.log_tail() or text in server.log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


def open_session(browser, url: str):
    """A browser tab of its own (its own session) on Train & Predict, once drawn."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{url}/train")
    page.get_by_role("heading", name="Train & Predict").wait_for()
    return page


def measure(browser, sessions: int, environment: dict[str, str], folder: Path) -> dict:
    readings: dict = {}
    with serve(log=folder / "server.log", environment=environment) as server:
        time.sleep(2)
        readings["no session"] = resident_mb(server.pid)
        pages = [open_session(browser, server.url)]
        readings["warmed up"] = wait_for_log(server, "warmed up", WARM_UP_LIMIT)
        time.sleep(SETTLE_SECONDS)
        readings["one session"] = resident_mb(server.pid)
        pages += [open_session(browser, server.url) for _ in range(sessions - 1)]
        time.sleep(SETTLE_SECONDS)
        readings["idle sessions"] = resident_mb(server.pid)
        readings["tensorflow idle"] = loaded_tensorflow(server.pid)
        page = pages[0]
        page.get_by_role("button", name="Train", exact=True).click()
        # The look-ahead's caption: drawn once its forecasts (and bands, if any) are computed.
        page.get_by_text("it has not learned from the days after").first.wait_for(
            timeout=TRAINING_LIMIT * 1000
        )
        page.get_by_role("link", name="Inside the LSTM").click()
        page.get_by_text("Which past days mattered").wait_for(timeout=TRAINING_LIMIT * 1000)
        time.sleep(SETTLE_SECONDS)
        readings[WORKED] = resident_mb(server.pid)
        readings["tensorflow after"] = loaded_tensorflow(server.pid)
        for each in pages:
            each.context.close()
    return readings


def class_needs(people: int, server: dict, worker_mb: float | None) -> str:
    """Servers, workers, memory and cores for `people`, from one set-up's readings."""
    # The first session pays for the pages' imports (and, without a cluster, TensorFlow's warm
    # up): it is the server's base; each further one adds what a session holds.
    per_session = (server["idle sessions"] - server["one session"]) / (server["sessions"] - 1)
    base = server["one session"] - per_session
    work = server[WORKED] - server["idle sessions"]
    workers = math.ceil(people / PEOPLE_PER_WORKER)
    if worker_mb is None:
        # Without a cluster each server trains one run at a time: as many servers as the
        # cluster would have workers, for the same number of trainings at once.
        servers = max(math.ceil(people / PEOPLE_PER_SERVER), workers)
        held = people / servers
        memory = servers * base + people * (per_session + work)
        return (
            f"{servers} servers ({held:.0f} people each): {memory / 1024:.1f} GB, {servers} cores"
        )
    servers = math.ceil(people / PEOPLE_PER_SERVER)
    memory = servers * base + people * (per_session + work) + workers * worker_mb
    return (
        f"{servers} server(s) + {workers} workers: {memory / 1024:.1f} GB "
        f"({servers * base / 1024:.1f} servers' base, {people * (per_session + work) / 1024:.1f} "
        f"sessions, {workers * worker_mb / 1024:.1f} workers), {servers + workers} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="lstm-lab-bench-memory-"))
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with contextlib.ExitStack() as stack:
            (folder / "dask").mkdir()
            started = stack.enter_context(local_cluster(folder / "dask", arguments.workers))
            store = {"LSTM_LAB_STORE": str(folder / "with.sqlite")}
            print(f"with a cluster ({arguments.workers} workers) ...", flush=True)
            (folder / "with").mkdir()
            environment = {**store, "LSTM_LAB_DASK": started.address}
            results["with"] = measure(browser, arguments.sessions, environment, folder / "with")
            results["workers"] = worker_memory(started)
        print("without a cluster ...", flush=True)
        (folder / "without").mkdir()
        environment = {"LSTM_LAB_STORE": str(folder / "without.sqlite"), "LSTM_LAB_DASK": ""}
        results["without"] = measure(browser, arguments.sessions, environment, folder / "without")
        browser.close()
    report(results, arguments)


def report(results: dict, arguments: argparse.Namespace) -> None:
    sessions = arguments.sessions
    print(f"\nOne page server's resident MB, {sessions} idle sessions on Train & Predict")
    print(
        f"| set-up | no session | 1 session | {sessions} idle sessions | after one session's "
        "training, look-ahead, Inside | TensorFlow loaded (idle / after) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name in ("with", "without"):
        readings = results[name]
        readings["sessions"] = sessions
        print(
            f"| {name} a cluster | {readings['no session']:.0f} | {readings['one session']:.0f} "
            f"| {readings['idle sessions']:.0f} "
            f"| {readings[WORKED]:.0f} | "
            f"{readings['tensorflow idle']} / {readings['tensorflow after']} |"
        )
    print(
        f"workers ({arguments.workers}, with nannies, after the warm-up and the training): "
        f"{results['workers']:.0f} MB in all"
    )
    worker_mb = results["workers"] / arguments.workers
    ratio = results["with"]["idle sessions"] / results["without"]["idle sessions"]
    print(f"server with / without a cluster, idle sessions: {ratio:.2f}")
    for name in ("with", "without"):
        readings = results[name]
        per_session = (readings["idle sessions"] - readings["one session"]) / (sessions - 1)
        print(
            f"{name} a cluster: {per_session:.1f} MB per further idle session, "
            f"{readings[WORKED] - readings['idle sessions']:.0f} MB for one session's work"
        )
    print(
        f"\nOn paper ({PEOPLE_PER_SERVER} people per server, one worker per "
        f"{PEOPLE_PER_WORKER} people, every session as the one that worked):"
    )
    for people in (30, 300):
        with_cluster = class_needs(people, results["with"], worker_mb)
        print(f"  {people} people, with a cluster: {with_cluster}")
        print(f"  {people} people, no cluster:    {class_needs(people, results['without'], None)}")


if __name__ == "__main__":
    main()
