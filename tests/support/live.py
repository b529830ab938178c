"""The app under uvicorn in a background thread, on 127.0.0.1 and a port of its own."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from .availability import bound_socket


@dataclass
class LiveServer:
    """A running server: `url` is its base URL, e.g. http://127.0.0.1:40123 (no trailing /)."""

    url: str
    database_url: str
    settings: Any
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "the live server did not stop"


def start_live_server(app_for: Any, database_url: str, settings_for: Any) -> LiveServer:
    """Bind a free port first, then build settings and app knowing their own address, then serve.

    `settings_for(base_url)` returns Settings; `app_for(settings)` returns the ASGI app.
    """
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_for(base_url)
    config = uvicorn.Config(
        app_for(settings),
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="auto",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the live server on {base_url} did not start")
        time.sleep(0.02)
    return LiveServer(base_url, database_url, settings, server, thread)
