"""read_upload in blocks: one block is parsed in a worker thread while the next is read.

The body arrives here as many small ASGI messages (as from a socket), so the reader goes
through several blocks of `BLOCK` bytes; a sink records what reaches the store.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import anyio
import pytest
from starlette.requests import ClientDisconnect, Request

from cases.reports.attachments import StoredFile
from portal.errors import TooLarge
from portal.uploads import BLOCK, ParsedUpload, UploadLimits, read_upload

BOUNDARY = "blocktestboundary"
PIECE = 64 * 1024


class Sink:
    """A file sink that records every call, in order, with the thread that made it."""

    def __init__(self, events: list[str], slow: float = 0.0) -> None:
        self.data = bytearray()
        self.events = events
        self.slow = slow
        self.busy = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.busy:
            time.sleep(self.slow)
            self.data += data
            self.events.append("write")

    def finish(self) -> StoredFile:
        self.events.append("finish")
        return StoredFile("id", "f.bin", len(self.data), "", "application/octet-stream", False)

    def abort(self) -> None:
        assert self.busy.acquire(blocking=False), "abort ran while a block was being written"
        self.busy.release()
        self.events.append("abort")


def _body(payload: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="f.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + payload + f"\r\n--{BOUNDARY}--\r\n".encode()


def _read(body: bytes, sink: Sink, limits: UploadLimits, cut_at: int | None = None) -> Any:
    """Run read_upload on `body` sent in PIECE-sized messages (a disconnect at `cut_at`)."""
    pieces = [body[i : i + PIECE] for i in range(0, len(body), PIECE)]
    if cut_at is not None:
        pieces = pieces[:cut_at]

    async def receive() -> dict[str, Any]:
        if not pieces:
            return {"type": "http.disconnect"}
        piece = pieces.pop(0)
        more = bool(pieces) or cut_at is not None
        return {"type": "http.request", "body": piece, "more_body": more}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
    }

    async def main() -> ParsedUpload:
        request = Request(scope, receive)
        return await read_upload(request, limits, lambda *_: sink, csrf_purpose=None)

    return anyio.run(main)


LIMITS = UploadLimits(max_file=64 * BLOCK, max_total=64 * BLOCK, max_files=1)


def test_file_of_many_blocks_reaches_the_sink_whole_and_in_order() -> None:
    """Bytes read in several blocks, parsed while the next is read, arrive whole and in order."""
    events: list[str] = []
    sink = Sink(events)
    payload = os.urandom(5 * BLOCK + 777)

    parsed = _read(_body(payload), sink, LIMITS)

    assert bytes(sink.data) == payload
    assert events[-1] == "finish"
    assert "abort" not in events
    assert parsed.files[0].size == len(payload)


def test_limit_crossed_in_a_later_block_aborts_the_file() -> None:
    """A limit crossed in the third block raises TooLarge and the file is aborted, not finished."""
    events: list[str] = []
    sink = Sink(events)
    limits = UploadLimits(max_file=2 * BLOCK + BLOCK // 2, max_total=64 * BLOCK, max_files=1)

    with pytest.raises(TooLarge):
        _read(_body(os.urandom(6 * BLOCK)), sink, limits)

    assert events[-1] == "abort"
    assert "finish" not in events
    assert len(sink.data) <= limits.max_file


def test_disconnect_while_a_block_is_being_fed_aborts_after_that_block() -> None:
    """A client gone while a block is still parsed: the file is deleted only after that block."""
    events: list[str] = []
    sink = Sink(events, slow=0.05)

    with pytest.raises(ClientDisconnect):
        _read(_body(os.urandom(6 * BLOCK)), sink, LIMITS, cut_at=3 * BLOCK // PIECE + 2)

    assert events.count("abort") == 1
    assert events[-1] == "abort"
    assert "finish" not in events
