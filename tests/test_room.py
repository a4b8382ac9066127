"""A class room for real: PostgreSQL, two page servers and nginx in front, with sticky seats.

Starts a real room in a temporary folder on free ports (no Dask workers: they would spend half
a minute importing TensorFlow and add nothing this test looks at), checks that nginx spreads
seats over both servers and keeps each seat on its server, opens the app through nginx in two
real browsers whose WebSockets reach their own servers, and stops everything after.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lstm_core.execution.room import SEAT_COOKIE, RoomPlan, nginx_config, start_room, stop_room
from lstm_core.execution.room.processes import free_port, port_open
from lstm_core.experiments.store import RunStore

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ACCESS_LINE = re.compile(r"seat=(?P<seat>\S+) server=(?P<server>\S+) \"(?P<request>[^\"]*)\"")


def test_nginx_accepts_the_generated_configuration(tmp_path) -> None:
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is missing: `make test` installs it with apt-get")
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config("127.0.0.1", free_port(), [8501, 8502, 8503], tmp_path))
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx-temp" / name).mkdir(parents=True)
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    text = config.read_text()
    assert text.count("server 127.0.0.1:850") == 3
    assert "hash $lab_seat consistent;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text


@pytest.mark.parametrize(
    ("plan", "sentence"),
    [
        ({"servers": 0}, "A room needs 1 to 16 page servers, got 0."),
        ({"workers": -1}, "A room takes 0 to 16 Dask workers, got -1."),
        ({"port": 70000}, "The room's port must be 1 to 65535, got 70000."),
    ],
)
def test_impossible_rooms_are_refused_in_one_sentence(plan, sentence) -> None:
    with pytest.raises(ValueError, match=re.escape(sentence)):
        RoomPlan(**plan)


def test_a_taken_port_moves_the_room_to_the_next_free_one() -> None:
    import socket

    from lstm_core.execution.room.launch import next_free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert next_free_port("127.0.0.1", port) > port


def seat_server(url: str, seat: str) -> str:
    """Ask nginx for the health check with this seat; the server that answered, from the log."""
    request = urllib.request.Request(
        f"{url}_stcore/health", headers={"Cookie": f"{SEAT_COOKIE}={seat}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"ok"


def access_log(folder: Path) -> list[dict[str, str]]:
    return [
        match.groupdict()
        for match in map(ACCESS_LINE.search, (folder / "nginx-access.log").read_text().splitlines())
        if match
    ]


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    folder = tmp_path_factory.mktemp("room")
    plan = RoomPlan(servers=2, workers=0, port=free_port())
    try:
        described = start_room(plan, folder, say=lambda sentence: None)
        yield folder, described
    finally:
        stop_room(folder, remove_database=True)
    assert not port_open("127.0.0.1", plan.port)
    assert not list(folder.glob("*.pid"))


def test_seats_spread_over_both_servers_and_stay_on_theirs(room) -> None:
    folder, described = room
    seats = [f"{number:032x}" for number in range(1, 41)]
    for _ in range(2):
        for seat in seats:
            seat_server(described["url"], seat)
    servers_of: dict[str, set[str]] = {}
    for line in access_log(folder):
        if line["seat"] in seats:
            servers_of.setdefault(line["seat"], set()).add(line["server"])
    assert all(len(servers) == 1 for servers in servers_of.values())
    used = {next(iter(servers)) for servers in servers_of.values()}
    assert used == {f"127.0.0.1:{port}" for port in described["servers"]}
    # Every server writes the one PostgreSQL store of the room.
    assert described["store"].startswith("postgresql+psycopg://")
    assert RunStore(described["store"]).table().empty


def test_two_browsers_reach_their_own_servers_through_nginx(room, browser) -> None:
    folder, described = room
    first_server = {}
    for line in access_log(folder):
        first_server.setdefault(line["server"], line["seat"])
    seats = list(first_server.values())[:2]
    assert len(seats) == 2, "the spread test runs first and fills both servers"
    for seat in seats:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        context.add_cookies([{"name": SEAT_COOKIE, "value": seat, "url": described["url"]}])
        page = context.new_page()
        page.goto(f"{described['url']}market")
        page.get_by_role("heading", name="Market").wait_for(timeout=90_000)
        context.close()
    # nginx logs a WebSocket when it closes, a moment after its browser did.
    streams: dict[str, str] = {}
    for _ in range(60):
        streams = {
            line["seat"]: line["server"]
            for line in access_log(folder)
            if "/_stcore/stream" in line["request"]
        }
        if set(seats) <= set(streams):
            break
        time.sleep(0.25)
    for seat in seats:
        expected = next(server for server, first in first_server.items() if first == seat)
        assert streams[seat] == expected
