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
from cases.errors import Unauthorized
from portal.bootstrap import warn_role_conflicts
from portal.deps import Deps
from portal.errors import exception_handlers
from portal.gate import StaffFirst
from portal.held_log import HourlyFlush
from portal.jobs import job_loop
from portal.metrics import Metrics, Registry
from portal.middleware import BodyLimit, ErrorPages, SecurityHeaders
from portal.routes import all_routes
from portal.routes.admin import DIRECTORY_MAX_BYTES
from portal.settings import MIB, Settings
from portal.signin import unauthorized
from portal.templating import STATIC_DIR, Templating

# The endpoints that stream file uploads, named exactly ({param} is one path segment): only
# these may receive bodies up to the per-report upload limit. Add each new upload endpoint.
UPLOAD_PATHS: tuple[str, ...] = (
    "/report",
    "/status/evidence",
    "/api/v1/reporter/attachments",
    "/staff/cases/{case_id}/evidence",
)
# The directory CSV is parsed in memory, so its endpoint has a limit of its own.
DIRECTORY_PATH = "/admin/directory"
# The report form keeps every typed word when its files are refused: the streaming parser
# (portal/uploads.py, keep_fields) deletes what it stored and reads on for the text fields,
# storing nothing more. So a body over the files' limit is read (and dropped) up to this
# much further before the connection is refused with the plain "too large" page.
KEEP_WORDS_PATH = "/report"
KEEP_WORDS_DRAIN_MIN = 256 * MIB


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
        warn_role_conflicts(app.state.db)
        loop = job_loop(settings, app.state.db, clock) if settings.run_jobs else None
        app.state.job_loop = loop
        if loop is not None:
            loop.start()
        flush = HourlyFlush()
        flush.start()
        yield
        flush.stop()
        if loop is not None:
            loop.stop()
        if owns_engine:
            db_engine.dispose()

    registry = Registry(settings.timezone)
    app = Starlette(
        debug=False,
        routes=[*all_routes(), Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")],
        middleware=_middleware(settings, upload_paths, registry),
        exception_handlers={**exception_handlers(), Unauthorized: unauthorized},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db_engine
    app.state.db = session_factory(db_engine, settings.secret_key.reveal())
    app.state.templates = Templating()
    app.state.metrics = registry
    app.state.job_loop = None
    app.state.deps = Deps.build(settings, db_engine)
    return app


def upload_limits(settings: Settings, upload_paths: Sequence[str]) -> dict[str, int]:
    """Each upload endpoint's body limit: the files plus room for framing and other fields."""
    limits = settings.limits
    room = MIB
    found = {
        **dict.fromkeys(upload_paths, limits.upload_max_report + room),
        DIRECTORY_PATH: DIRECTORY_MAX_BYTES + room,
    }
    if KEEP_WORDS_PATH in found:
        found[KEEP_WORDS_PATH] += max(KEEP_WORDS_DRAIN_MIN, limits.upload_max_report)
    return found


def _middleware(
    settings: Settings, upload_paths: Sequence[str], registry: Registry
) -> list[Middleware]:
    """Outermost first: metrics time everything; headers wrap everything else, so error and
    413 pages carry them too.

    The staff gate sits inside the error pages (a database failure there is a 500 page)
    and after the body limit, so an oversized declared body is refused without a query.
    """
    limits = settings.limits
    return [
        Middleware(Metrics, registry=registry),
        Middleware(SecurityHeaders, https=settings.https, onion_url=settings.onion_url),
        Middleware(
            BodyLimit,
            json_limit=limits.max_json_body,
            form_limit=limits.max_form_body,
            upload_limits=upload_limits(settings, upload_paths),
            body_timeout=limits.body_timeout_seconds,
        ),
        Middleware(ErrorPages),
        Middleware(StaffFirst),
    ]
