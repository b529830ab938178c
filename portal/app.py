"""The application factory: settings in, a configured Starlette app out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cases.db import make_engine, session_factory
from portal.errors import exception_handlers
from portal.jobs import job_loop
from portal.middleware import BodyLimit, ErrorPages, SecurityHeaders
from portal.routes import all_routes
from portal.settings import MIB, Settings
from portal.templating import STATIC_DIR, Templating

# Paths (and everything under them) that stream file uploads and so may receive
# bodies up to the per-report upload limit. Add an entry with each upload endpoint.
UPLOAD_PATHS: tuple[str, ...] = (
    "/report",
    "/status/evidence",
    "/api/v1/reporter/attachments",
    "/staff/cases/",
    "/admin/directory",
)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    upload_paths: Sequence[str] = UPLOAD_PATHS,
) -> Starlette:
    """The portal app; it makes (and later disposes) an engine unless one is passed in."""
    owns_engine = engine is None
    db_engine = engine if engine is not None else make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        clock = getattr(app.state, "clock", None)
        loop = job_loop(settings, app.state.db, clock) if settings.run_jobs else None
        if loop is not None:
            loop.start()
        yield
        if loop is not None:
            loop.stop()
        if owns_engine:
            db_engine.dispose()

    app = Starlette(
        debug=False,
        routes=[*all_routes(), Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")],
        middleware=_middleware(settings, upload_paths),
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db_engine
    app.state.db = session_factory(db_engine, settings.secret_key.reveal())
    app.state.templates = Templating()
    return app


def _middleware(settings: Settings, upload_paths: Sequence[str]) -> list[Middleware]:
    """Outermost first: headers wrap everything, so error and 413 pages carry them too."""
    limits = settings.limits
    return [
        Middleware(SecurityHeaders, https=settings.https),
        Middleware(
            BodyLimit,
            json_limit=limits.max_json_body,
            form_limit=limits.max_form_body,
            # Multipart framing and the form's other fields need room beyond the files.
            upload_limit=limits.upload_max_report + MIB,
            upload_paths=upload_paths,
        ),
        Middleware(ErrorPages),
    ]
