"""The real app (middleware, auth, JSON) under uvicorn in a thread, for in-process benches."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.settings import Secret, Settings


@dataclass
class ThreadedServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve(url: str, engine: Engine, secret: bytes, prefix: str) -> ThreadedServer:
    """Serve the portal on a free loopback port, on this engine's database, until stopped."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    settings = Settings.for_tests(data_dir, url, base_url=base_url, secret_key=Secret(secret))
    config = uvicorn.Config(
        create_app(settings, engine=engine), log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return ThreadedServer(base_url, server, thread)
