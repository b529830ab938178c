"""The ASGI entry point uvicorn imports in each worker process."""

from __future__ import annotations

from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings


def make_app() -> Starlette:
    return create_app(Settings.from_environ())
