"""Jinja2 rendering in the request's language, with the globals every page needs.

One environment per locale, each with its translations installed once: installing
gettext per request on a shared environment would race between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from babel.numbers import format_currency
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

import templates as templates_package
from portal import csrf
from portal.choice_labels import ACTION_LABELS, RISK_LABELS
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
        # The zone those times are in, for column headings ("When (Asia/Shanghai)").
        "zone_name": str(request.app.state.settings.timezone),
        "done_notice": notice_for(request),
        "format_money": partial(format_money, locale=locale),
        "file_size": file_size,
        "action_labels": ACTION_LABELS,
        "risk_labels": RISK_LABELS,
    }


def local_time(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """A stored naive-UTC time as people read it: in the organisation's zone, to the minute
    (to the second where the order of close events matters, as in the audit trail)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_money(minor: int, currency: str, *, locale: str) -> str:
    """Minor units as money for the reader's language: currency sign and grouping (Babel)."""
    return format_currency(Decimal(minor) / 100, currency, locale=locale)


def file_size(size: int) -> str:
    """A byte count as people read it: B under 1 KiB, then KiB, then MiB (binary units)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


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
