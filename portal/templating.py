"""Jinja2 rendering in the request's language, with the globals every page needs.

One environment per locale, each with its translations installed once: installing
gettext per request on a shared environment would race between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

import templates as templates_package
from portal import csrf
from portal.i18n import LOCALES, request_locale, tag_for, translations
from portal.notices import notice_for

TEMPLATES_DIR = Path(templates_package.__path__[0])
STATIC_DIR = TEMPLATES_DIR / "static"

# Endonyms: each language is named in itself, so they are deliberately not translated.
_LANGUAGE_NAMES = {"en": "English", "zh_CN": "中文"}


class Templating:
    """Renders templates in the request's locale: ``templates.TemplateResponse(request, name)``."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._by_locale = {
            locale: Jinja2Templates(
                env=_environment(directory, locale), context_processors=[page_context]
            )
            for locale in LOCALES
        }

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Renders now; sets the CSRF cookie if the page made a token from a new one."""
        templates = self._by_locale[request_locale(request)]
        response = templates.TemplateResponse(
            request, name, context, status_code=status_code, headers=headers
        )
        csrf.set_cookie_if_new(request, response)
        return response


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """The short form route handlers use: ``return render(request, "public/landing.html")``."""
    templating: Templating = request.app.state.templates
    return templating.TemplateResponse(request, name, context, status_code=status_code)


def page_context(request: Request) -> dict[str, Any]:
    """Globals of every page: language, switch links, the CSRF field maker."""
    locale = request_locale(request)
    return {
        "lang": tag_for(locale),
        "locale": locale,
        "lang_links": language_links(request, locale),
        "csrf_field": partial(csrf.csrf_field, request),
        "local_time": partial(local_time, zone=request.app.state.settings.timezone),
        "done_notice": notice_for(request),
    }


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored naive-UTC time as people read it: in the organisation's zone, to the minute."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def language_links(request: Request, current: str) -> list[dict[str, Any]]:
    """One link per language that switches and comes back to this page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    back = quote(here, safe="/")
    return [
        {
            "label": _LANGUAGE_NAMES[locale],
            "tag": tag_for(locale),
            "href": f"/lang/{tag_for(locale)}?next={back}",
            "current": locale == current,
        }
        for locale in LOCALES
    ]


def _environment(directory: Path, locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Multi-line {% trans %} blocks read as one line in the catalogue.
    env.policies["ext.i18n.trimmed"] = True
    # The i18n extension adds this method at runtime, so the type stubs do not know it.
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env
