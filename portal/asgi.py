"""The ASGI entry point uvicorn imports in each worker process."""

from __future__ import annotations

from starlette.types import ASGIApp

from portal.app import create_app
from portal.settings import Settings
from portal.trial import TrialMode


def make_app() -> ASGIApp:
    settings = Settings.from_environ()
    # A server started some other way (uvicorn portal.asgi:make_app) is refused the same way.
    settings.check_serving()
    app = create_app(settings)
    if settings.insecure_http:
        return TrialMode(app, settings.base_url)
    return app
