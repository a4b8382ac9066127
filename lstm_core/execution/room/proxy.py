"""nginx in front of several page servers: sticky sessions by a seat cookie, WebSockets upgraded.

Each browser tab of Streamlit is one WebSocket session held by one server; its uploads and
media must reach that same server. nginx's `hash ... consistent` on a cookie of its own (the
"seat") keeps every request of a browser on one server, and spreads browsers that share one
address (a class behind one router), which `ip_hash` would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SEAT_COOKIE = "lab_seat"
"""The cookie nginx sets on a browser's first request; its value picks the browser's server."""

UPLOAD_LIMIT_MB = 60
"""nginx's request-body limit: above the app's 50 MB file limit, so the app says no itself."""


def nginx_config(
    listen_host: str, listen_port: int, server_ports: Sequence[int], folder: Path
) -> str:
    """The whole nginx.conf for one room: logs, pid and temporary files under `folder`.

    A browser without a valid seat cookie gets nginx's random request id as its seat (and the
    cookie), so its first request and all later ones hash to the same server. The access log
    names each request's seat and server, which is how a person (or a test) sees the spread.
    """
    if not server_ports:
        raise ValueError("a room needs at least one page server")
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in server_ports)
    temporary = folder / "nginx-temp"
    return f"""# Written by lstm_core.execution.room; rewritten on every `make room`.
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"} warn;

events {{
    worker_connections 1024;
}}

http {{
    log_format room '$remote_addr seat=$lab_seat server=$upstream_addr '
                    '"$request" $status $request_time';
    access_log {folder / "nginx-access.log"} room;
    client_body_temp_path {temporary / "body"};
    proxy_temp_path {temporary / "proxy"};
    fastcgi_temp_path {temporary / "fastcgi"};
    uwsgi_temp_path {temporary / "uwsgi"};
    scgi_temp_path {temporary / "scgi"};
    client_max_body_size {UPLOAD_LIMIT_MB}m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    # Only a value nginx could have made is taken back; anything else gets a new seat.
    map $cookie_{SEAT_COOKIE} $lab_seat {{
        "~^[0-9a-f]{{32}}$" $cookie_{SEAT_COOKIE};
        default $request_id;
    }}

    upstream lab_servers {{
        hash $lab_seat consistent;
{servers}
    }}

    server {{
        listen {listen_host}:{listen_port};

        location / {{
            proxy_pass http://lab_servers;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # A training's page stays open for minutes with nothing to send.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
            add_header Set-Cookie "{SEAT_COOKIE}=$lab_seat; Path=/; HttpOnly; SameSite=Lax" always;
        }}
    }}
}}
"""


def temporary_folders(folder: Path) -> list[Path]:
    """The folders nginx's workers write request bodies and buffers to."""
    return [folder / "nginx-temp" / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")]
