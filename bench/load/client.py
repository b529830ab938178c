"""A light load generator: keep-alive HTTP/1.1 connections on asyncio, one coroutine a client.

The bench measures the server against a bound set by the machine's cores, and the clients
run on the same cores. A client that spends 3 ms of CPU per request in a full HTTP library
(httpx, in threads) takes a tenth of the budget the server is judged by; this one writes
each request as bytes and reads the answer's head and body, about a tenth of that.
Real reporters' browsers are not on the server's machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)


class Connection:
    """One keep-alive connection to host:port; reconnects after an error or a close."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        try:
            self.writer.write(head + body)
            status, length, close = await self._head()
            payload = await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            return 0, b""
        if close:
            await self.close()
        return status, payload

    async def _head(self) -> tuple[int, int, bool]:
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        return status, length, close

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def run_clients(
    urls: list[str],
    path: str,
    clients: int,
    seconds: float,
    make_body: Callable[[int, int], dict[str, Any]],
    keep: int = 201,
) -> Tally:
    """`clients` connections (client i on urls[i % len(urls)]) POST JSON for `seconds`;
    the bodies of answers with status `keep` are returned for the caller to read."""
    tally = Tally()

    async def client(index: int, end: float) -> None:
        connection = Connection(urls[index % len(urls)])
        n = 0
        while time.monotonic() < end:
            body = json.dumps(make_body(index, n)).encode()
            started = time.perf_counter()
            status, payload = await connection.post_json(path, body)
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            if status == keep:
                tally.bodies.append(payload)
            n += 1
        await connection.close()

    async def main() -> None:
        end = time.monotonic() + seconds
        await asyncio.gather(*(client(i, end) for i in range(clients)))

    asyncio.run(main())
    return tally


__all__ = ["Connection", "Tally", "run_clients"]
