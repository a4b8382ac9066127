"""`room start` / `room stop`: a class's set-up on this machine (what `make room` runs)."""

from __future__ import annotations

import argparse

from lstm_core.cli.options import Parser
from lstm_core.execution.room import RoomPlan, start_room, stop_room


def add_room_arguments(room: argparse.ArgumentParser) -> None:
    """`room start --servers N --workers M --port P` and `room stop`."""
    actions = room.add_subparsers(dest="action", required=True, parser_class=Parser)
    start = actions.add_parser("start", help="start the room (logs and pids in runs/room/)")
    start.add_argument("--servers", type=int, default=RoomPlan.servers)
    start.add_argument("--workers", type=int, default=RoomPlan.workers)
    start.add_argument("--port", type=int, default=RoomPlan.port, help="nginx's port")
    start.add_argument(
        "--host", default=RoomPlan.host, help="nginx's address (0.0.0.0: other machines too)"
    )
    actions.add_parser("stop", help="stop every piece of the room (the database's data stays)")


def room_command(arguments: argparse.Namespace) -> int:
    if arguments.action == "stop":
        for note in stop_room():
            print(note)
        print("The room is stopped; its runs stay in its database for the next room.")
        return 0
    plan = RoomPlan(
        servers=arguments.servers, workers=arguments.workers, port=arguments.port,
        host=arguments.host,
    )  # fmt: skip
    start_room(plan)
    return 0
