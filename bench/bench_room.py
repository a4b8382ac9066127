"""A class in a room, measured: N browser sessions train the quick demo at once through nginx.

Phase 1 starts `make room`'s pieces (2 page servers, 2 Dask workers by default) in a temporary
folder, gives each of N real browsers (Debian's Chromium, each its own cookies) a seat, and
has every browser train the quick demo with its own seed. It checks that the seats spread
over the servers, that every session's result is its own seed's, and that all N runs are in
the room's one PostgreSQL store. Phase 2 does the same on one page server without a cluster.
It prints each server's resident memory idle and after, and both phases' wall times.
In the room, two of the sessions (on different servers) then train again, and one of their
servers is killed mid-training: the bench checks that its browser reconnects to the other
server, which says the training was interrupted, and that no saved run is lost.

    .venv/bin/python bench/bench_room.py [--sessions 6] [--servers 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core.config import QUICK_DEMO
from lstm_core.execution.room import SEAT_COOKIE, RoomPlan, start_room, stop_room
from lstm_core.execution.room.processes import free_port
from lstm_core.experiments.store import RunStore
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS

SEAT_LINE = re.compile(r"seat=(?P<seat>\S+) server=(?P<server>\S+) ")
TRAINING_LIMIT_SECONDS = 900


def resident_mb(pid: int) -> float:
    """A process's resident memory in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_memory(folder: Path) -> dict[str, float]:
    return {
        pid_file.stem: resident_mb(int(pid_file.read_text().split()[0]))
        for pid_file in sorted(folder.glob("server-*.pid"))
    }


def seats_by_server(url: str, folder: Path, count: int) -> list[str]:
    """`count` seats, taken in turn from each server, found by asking nginx with many seats."""
    candidates = [f"{number:032x}" for number in range(1, 61)]
    for seat in candidates:
        request = urllib.request.Request(
            f"{url}_stcore/health", headers={"Cookie": f"{SEAT_COOKIE}={seat}"}
        )
        urllib.request.urlopen(request, timeout=10).read()
    groups: dict[str, list[str]] = {}
    for line in (folder / "nginx-access.log").read_text().splitlines():
        match = SEAT_LINE.search(line)
        if (
            match
            and match["seat"] in candidates
            and match["seat"] not in groups.get(match["server"], [])
        ):
            groups.setdefault(match["server"], []).append(match["seat"])
    ordered = [seat for turn in zip(*groups.values(), strict=False) for seat in turn]
    return ordered[:count]


def open_train_page(page, url: str, seed: int) -> None:
    """The Train page with the quick demo and `seed` already chosen (by its link)."""
    config = QUICK_DEMO.with_changes(ticker="MSFT", seed=seed)
    query = "&".join(f"{key}={value}" for key, value in config.to_query().items())
    page.goto(f"{url}train?{query}")
    page.get_by_role("heading", name="Train & Predict").wait_for()


def train_in_browsers(browser, url: str, seats: list[str]) -> tuple[float, list]:
    """Every browser trains the quick demo with its own seed; returns the wall time and the
    pages, still open."""
    pages = []
    for index, seat in enumerate(seats):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": SEAT_COOKIE, "value": seat, "url": url}])
        page = context.new_page()
        page.set_default_timeout(120_000)
        open_train_page(page, url, 1000 + index)
        pages.append(page)
    started = time.perf_counter()
    for page in pages:
        page.get_by_role("button", name="Train", exact=True).click()
    waiting = set(range(len(pages)))
    while waiting and time.perf_counter() - started < TRAINING_LIMIT_SECONDS:
        for index in sorted(waiting):
            if pages[index].get_by_text("Result:").count():
                waiting.discard(index)
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    if waiting:
        raise SystemExit(f"{len(waiting)} session(s) had no result after {seconds:.0f} s")
    for index, page in enumerate(pages):
        title = page.get_by_text("Result:").first.inner_text()
        if f"seed {1000 + index}" not in title:
            raise SystemExit(f"session {index + 1} shows another session's result: {title}")
    return seconds, pages


def kill_mid_training(pages: list, url: str, folder: Path, store: RunStore) -> dict:
    """Two sessions on different servers train again; the first one's server is killed
    while it trains. Returns what the person saw and what the store kept."""
    seat_servers = {
        match["seat"]: match["server"]
        for line in (folder / "nginx-access.log").read_text().splitlines()
        if (match := SEAT_LINE.search(line))
    }
    room = json.loads((folder / "room.json").read_text())
    pid_files = {
        f"127.0.0.1:{port}": folder / f"server-{number}.pid"
        for number, port in enumerate(room["servers"], start=1)
    }
    victim, survivor = pages[0], pages[1]
    victim_seat = next(c["value"] for c in victim.context.cookies() if c["name"] == SEAT_COOKIE)
    saved_before = set(store.table()["id"])
    for index, page in enumerate((victim, survivor)):
        open_train_page(page, url, 2000 + index)
        page.get_by_role("button", name="Train", exact=True).click()
    victim.get_by_text("Epoch 1 of").first.wait_for(timeout=180_000)
    pid = int(pid_files[seat_servers[victim_seat]].read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    killed = time.perf_counter()
    victim.get_by_text("was interrupted").first.wait_for(timeout=180_000)
    told = time.perf_counter() - killed
    victim.screenshot(path=str(folder.parent / "bench-room-interrupted.png"), full_page=True)
    survivor.get_by_text("Result:").first.wait_for(timeout=300_000)
    survivor_title = survivor.get_by_text("Result:").first.inner_text()
    saved_runs(store, len(saved_before) + 1)
    saved_after = set(store.table()["id"])
    return {
        "told_after": told,
        "lost": len(saved_before - saved_after),
        "kept": len(saved_before & saved_after),
        "survivor_result": "seed 2001" in survivor_title,
        "new": len(saved_after - saved_before),
    }


def saved_runs(store: RunStore, expected: int, seconds: float = 30.0) -> int:
    """How many runs the store holds once `expected` are there, or after `seconds`.

    A page saves its run on the rerun that shows it, a moment after "Result:" appears.
    """
    deadline = time.monotonic() + seconds
    count = len(store.table())
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        count = len(store.table())
    return count


def run_phase(browser, plan: RoomPlan, sessions: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lstm-lab-bench-room-"))
    try:
        room = start_room(plan, folder, say=lambda sentence: print("  " + sentence))
        if plan.workers:
            from distributed import Client

            with Client(room["scheduler"], timeout=30) as client:
                client.wait_for_workers(plan.workers, timeout=300)
        time.sleep(15)  # the page servers' warm-up
        idle = server_memory(folder)
        seats = seats_by_server(room["url"], folder, sessions)
        servers = {
            match["server"]
            for line in (folder / "nginx-access.log").read_text().splitlines()
            if (match := SEAT_LINE.search(line)) and match["seat"] in seats
        }
        seconds, pages = train_in_browsers(browser, room["url"], seats)
        after = server_memory(folder)
        store = RunStore(room["store"])
        runs = saved_runs(store, sessions)
        killed = kill_mid_training(pages, room["url"], folder, store) if plan.servers > 1 else None
        for page in pages:
            page.context.close()
    finally:
        stop_room(folder, remove_database=True)
    return {
        "idle": idle,
        "after": after,
        "seconds": seconds,
        "runs": runs,
        "servers": servers,
        "killed": killed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phases = {
            "room": RoomPlan(
                servers=arguments.servers, workers=arguments.workers, port=free_port()
            ),
            "one server, no cluster": RoomPlan(servers=1, workers=0, port=free_port()),
        }
        results = {}
        for name, plan in phases.items():
            print(f"{name}: {plan.servers} server(s), {plan.workers} worker(s)")
            results[name] = run_phase(browser, plan, arguments.sessions)
        browser.close()
    print(
        f"\n{arguments.sessions} sessions, quick demo each "
        f"(MSFT, seeds 1000-{999 + arguments.sessions})"
    )
    print("| set-up | servers used | runs in the store | wall time | resident MB idle -> after |")
    print("| --- | --- | --- | --- | --- |")
    for name, result in results.items():
        memory = ", ".join(
            f"{server} {result['idle'][server]:.0f} -> {result['after'][server]:.0f}"
            for server in result["idle"]
        )
        print(
            f"| {name} | {len(result['servers'])} | {result['runs']} | "
            f"{result['seconds']:.1f} s | {memory} |"
        )
    room, single = results["room"]["seconds"], results["one server, no cluster"]["seconds"]
    print(f"\nwall time, room / one server: {room / single:.2f}")
    killed = results["room"]["killed"]
    if killed:
        print(
            f"a server killed mid-training: its browser was told 'interrupted' "
            f"{killed['told_after']:.1f} s later; saved runs kept {killed['kept']}, "
            f"lost {killed['lost']}; the other server's session got its own result: "
            f"{killed['survivor_result']} ({killed['new']} new run(s) saved)"
        )


if __name__ == "__main__":
    main()
