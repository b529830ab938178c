"""The yardstick: a plain Starlette app that takes a multipart upload to disk (request.form())."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def upload(request: Request) -> JSONResponse:
    # Starlette spools each file part to a temporary file on disk as it arrives.
    form = await request.form(max_files=1)
    file = form["file"]
    assert not isinstance(file, str)
    size = file.size
    await form.close()
    return JSONResponse({"size": size}, status_code=201)


async def upload_durable(request: Request) -> JSONResponse:
    """The same, but the file is fsynced before the 201 (as the portal's last commit is)."""
    form = await request.form(max_files=1)
    file = form["file"]
    assert not isinstance(file, str)
    size = file.size
    file.file.flush()
    os.fsync(file.file.fileno())
    await form.close()
    return JSONResponse({"size": size}, status_code=201)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse("ok")


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/upload", upload, methods=["POST"]),
            Route("/upload-durable", upload_durable, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )
