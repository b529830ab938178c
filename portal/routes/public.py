"""Public pages that need no session: health check, landing page, language switch."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import NotFound
from cases.retention import retention_periods
from portal.csrf import set_host_cookie
from portal.i18n import LANG_COOKIE, locale_from_tag, tag_for
from portal.openapi import openapi_document
from portal.templating import render


async def healthz(request: Request) -> Response:
    """Liveness for load balancers; says nothing else about the server."""
    return PlainTextResponse("ok")


async def landing(request: Request) -> Response:
    """The start page: what happens to a report, how long it is kept, and the ways in."""
    return await run_in_threadpool(_landing, request)


def _landing(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        periods = retention_periods(db)
        return render(
            request,
            "public/landing.html",
            {"retention_periods": periods, "onion_url": request.app.state.settings.onion_url},
        )


async def switch_language(request: Request) -> Response:
    """Remembers the chosen language in a cookie and goes back to the page it came from."""
    locale = locale_from_tag(request.path_params["code"])
    if locale is None or tag_for(locale) != request.path_params["code"]:
        raise NotFound
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    set_host_cookie(response, LANG_COOKIE, tag_for(locale))
    return response


def safe_next(target: str | None) -> str:
    """A same-site path to return to; anything else (another host, a scheme) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 0x20 or char == "\\" for char in target):
        return "/"
    return target


routes: list[BaseRoute] = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/", landing, methods=["GET"], name="landing"),
    Route("/lang/{code}", switch_language, methods=["GET"], name="switch_language"),
    Route("/api/v1/openapi.json", openapi_document, methods=["GET"]),
]
