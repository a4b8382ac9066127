"""A class room on one machine: PostgreSQL for the shared run store, a Dask scheduler and
workers, several Streamlit page servers, and nginx in front with sticky sessions.

proxy      nginx's configuration: a seat cookie hashed to a server, WebSockets upgraded
processes  background processes with logs and pid files, bounded waits
database   the room's PostgreSQL, kept between rooms
launch     start and stop the whole room (`make room`, `make room-stop`)
"""

from lstm_core.execution.room.launch import ROOM_FOLDER, RoomPlan, start_room, stop_room
from lstm_core.execution.room.processes import RoomError
from lstm_core.execution.room.proxy import SEAT_COOKIE, nginx_config

__all__ = [
    "ROOM_FOLDER",
    "SEAT_COOKIE",
    "RoomError",
    "RoomPlan",
    "nginx_config",
    "start_room",
    "stop_room",
]
