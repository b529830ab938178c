"""Operators' endpoints: readiness and Prometheus metrics (liveness is /healthz in public.py).

``/readyz`` says whether this process can serve: the database answers and its schema is the
one this code expects. ``/metrics`` exists only when ``PORTAL_METRICS_TOKEN`` is set, and then
answers only a request that carries it as a bearer token (Prometheus' ``authorization``
setting); what it shows identifies no one (portal/metrics.py).
"""

from __future__ import annotations

import hmac
import time

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import NotFound
from portal.deps import clock_of, settings_of
from portal.metrics import database_gauges, render
from portal.migrations import pending

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def readyz(request: Request) -> Response:
    """200 ``ready`` when the database answers and no migration is pending; else 503 and why."""
    problem = await run_in_threadpool(_readiness_problem, request)
    if problem:
        return PlainTextResponse(problem, status_code=503)
    return PlainTextResponse("ready")


def _readiness_problem(request: Request) -> str:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        behind = pending(engine)
    except Exception:  # any failure to reach the database is "not ready", never a traceback
        return "database unreachable"
    return "migrations pending" if behind else ""


async def metrics(request: Request) -> Response:
    """The Prometheus exposition; 404 unless configured, 401 without the right bearer token."""
    token = settings_of(request).metrics_token
    if token is None:
        raise NotFound
    presented = request.headers.get("authorization", "")
    expected = b"Bearer " + token.reveal()
    if not hmac.compare_digest(presented.encode(), expected):
        # Answered here, not by raising: /metrics is no page, so no login redirect applies.
        return PlainTextResponse(
            "unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    body = await run_in_threadpool(_exposition, request)
    return Response(body, media_type=PROMETHEUS_TEXT)


def _exposition(request: Request) -> str:
    state = request.app.state
    now = clock_of(request).now()
    with unit_of_work(state.db) as db:
        gauges = database_gauges(db, now, settings_of(request).timezone)
    loop = getattr(state, "job_loop", None)
    last = getattr(loop, "last_round", None)
    age = time.monotonic() - last if last is not None else -1.0
    return render(state.metrics.published(now), gauges, age)


routes: list[BaseRoute] = [
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
