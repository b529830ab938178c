"""Statistics pages, CSV exports and API: for analysts, admins and auditors (403 for the rest).

Thin: the filters are parsed from the query string, cases/stats/ computes and suppresses,
the page draws the figures as inline SVG charts beside their tables. A refused filter (it
would single out fewer than 5 cases) is a 422 with the reason, on the page and in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.audit.service import AuditLog
from cases.db import unit_of_work
from cases.errors import Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.stats import THRESHOLD, Statistics, StatisticsService, StatsFilters, parse_filters
from cases.stats.tables import SUPPRESSED, TABLES, table_csv
from portal.auth import require_staff
from portal.charts import Chart, bar_chart
from portal.deps import clock_of, server_secret, settings_of
from portal.downloads import csv_response
from portal.i18n import N_, request_locale, translator
from portal.openapi import api_operation
from portal.routes.staff import OUTCOME_LABELS
from portal.shapes import schema
from portal.shapes.statistics import StatisticsOut
from portal.templating import render

TAGS = ("statistics",)
FILTER_PARAMS = ("year", "from", "to", "channel", "category")
FIELD_MESSAGES = {
    "bad_year": N_("Write a year such as 2025."),
    "before_from": N_("The last year must not come before the first."),
    "too_long": N_("This is too long."),
    "too_few": N_("These filters would narrow the statistics to fewer than 5 cases: widen them."),
}
KIND_LABELS = {"report": N_("Report"), "retaliation": N_("Retaliation complaint")}
OUTCOME_KEY_LABELS = {**{str(k): v for k, v in OUTCOME_LABELS.items()}, "none": N_("Not yet")}
AGE_LABELS = {
    "0-7": N_("Up to 7 days"),
    "8-30": N_("8 to 30 days"),
    "31-90": N_("31 to 90 days"),
    "91-365": N_("91 days to a year"),
    "366+": N_("Over a year"),
}
STAGE_LABELS = {"offered": N_("Offered"), "accepted": N_("Accepted"), "paid": N_("Paid")}
TABLE_TITLES = {
    "summary": N_("Summary"),
    "months": N_("Reports per month"),
    "channels": N_("Reports per channel"),
    "categories": N_("Reports per category"),
    "outcomes": N_("Reports per outcome"),
    "kinds": N_("Reports and retaliation complaints"),
    "open_by_age": N_("Open cases by age"),
    "rewards": N_("Rewards"),
}
# The domain's message for a refused filter (cases/stats/service.py), for the catalogue.


def statistics_service(request: Request, db: Session) -> StatisticsService:
    settings, clock = settings_of(request), clock_of(request)
    return StatisticsService(
        db, clock, AuditLog(db, clock, server_secret(settings)), settings.timezone
    )


def filters_from(params: QueryParams) -> StatsFilters:
    return parse_filters(*(params.get(name, "") for name in FILTER_PARAMS))


def answer(request: Request, db: Session, me: StaffPrincipal) -> Statistics:
    return statistics_service(request, db).answer(me, filters_from(request.query_params))


# --- JSON ----------------------------------------------------------------------------------


async def statistics_endpoint(request: Request) -> Response:
    def run() -> dict[str, Any]:
        with unit_of_work(request.app.state.db) as db:
            stats = answer(request, db, require_staff(request, db))
            return StatisticsOut.of(stats, THRESHOLD).model_dump(mode="json")

    return JSONResponse(await run_in_threadpool(run))


STATISTICS_SUMMARY = (
    "Statistics of clear metadata: per month, channel, category, outcome; deadlines met; "
    "durations; rewards; open cases by age. Filters year (or from, to: years), channel, "
    "category. Figures under 5 are suppressed; filters that single out fewer than 5 cases: 422"
)
statistics_api = api_operation(
    "getStatistics",
    STATISTICS_SUMMARY,
    responses={200: schema(StatisticsOut)},
    errors=(401, 403, 422),
    bearer=True,
    tags=TAGS,
)(statistics_endpoint)


async def _audit_statistics(request: Request) -> Response:
    return await statistics_endpoint(request)


# The auditors' former address answers the same suppressed figures.
audit_statistics_api = api_operation(
    "getCaseStatistics",
    "The same answer as getStatistics (the auditors' former address)",
    responses={200: schema(StatisticsOut)},
    errors=(401, 403, 422),
    bearer=True,
    tags=("audit",),
)(_audit_statistics)


# --- pages ---------------------------------------------------------------------------------

Page = Callable[[Request, Session, StaffPrincipal], Response]


def staff_page(page: Page) -> Callable[[Request], Any]:
    """A GET page run in a thread with the signed-in staff member."""

    def run(request: Request) -> Response:
        with unit_of_work(request.app.state.db) as db:
            return page(request, db, require_staff(request, db))

    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(run, request)

    return endpoint


def common(request: Request, db: Session, me: StaffPrincipal) -> dict[str, Any]:
    service = statistics_service(request, db)
    locale = request_locale(request)
    return {
        "me": me,
        "names": service.names(locale),
        "channels": service.channels(locale),
        "query": {k: request.query_params.get(k, "") for k in FILTER_PARAMS},
        "query_string": request.url.query,
        "threshold": THRESHOLD,
        "suppressed": SUPPRESSED,
        "field_messages": FIELD_MESSAGES,
        "kind_labels": KIND_LABELS,
        "outcome_labels": OUTCOME_KEY_LABELS,
        "age_labels": AGE_LABELS,
        "stage_labels": STAGE_LABELS,
        "table_titles": TABLE_TITLES,
    }


def statistics_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    context = common(request, db, me)
    try:
        stats = answer(request, db, me)
    except Invalid as refused:
        context.update(stats=None, errors=refused.fields, charts={})
        return render(request, "statistics/index.html", context, status_code=422)
    context.update(stats=stats, errors={}, charts=charts(request, stats, context))
    return render(request, "statistics/index.html", context)


def annual_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    context = common(request, db, me)
    service = statistics_service(request, db)
    asked = request.query_params.get("year", "")
    year = asked or str(service.today().year - 1)
    try:
        stats = service.answer(me, parse_filters(year))
    except Invalid as refused:
        context.update(stats=None, errors=refused.fields, year=year)
        # The default year (last year) with too few cases is a page that says so, not an error.
        status = 422 if asked else 200
        return render(request, "statistics/annual.html", context, status_code=status)
    context.update(stats=stats, errors={}, year=year)
    return render(request, "statistics/annual.html", context)


def charts(request: Request, stats: Statistics, context: dict[str, Any]) -> dict[str, Chart]:
    """The SVG charts of the page, labelled in the reader's language."""
    _ = translator(request)
    suppressed, names = context["suppressed"], context["names"]

    def named(key: str) -> str:
        return str(names.get(key, key))

    def chart(name: str, rows: list[tuple[str, Any]], **options: Any) -> Chart:
        return bar_chart(f"chart-{name}", _(TABLE_TITLES[name]), rows, suppressed, **options)

    return {
        "months": chart("months", [(m.month, m.reports) for m in stats.per_month]),
        "channels": chart("channels", [(named(r.key), r.figure) for r in stats.per_channel]),
        "categories": chart("categories", [(named(r.key), r.figure) for r in stats.per_category]),
        "outcomes": chart(
            "outcomes", [(_(OUTCOME_KEY_LABELS[r.key]), r.figure) for r in stats.per_outcome]
        ),
        "open_by_age": chart(
            "open_by_age", [(_(AGE_LABELS[r.key]), r.figure) for r in stats.open_by_age]
        ),
        "acknowledged": bar_chart(
            "chart-acknowledged",
            _("Acknowledged within 7 days, per month"),
            [(m.month, m.acknowledged_in_time) for m in stats.per_month],
            suppressed,
            unit="%",
            scale_max=100,
        ),
        "feedback": bar_chart(
            "chart-feedback",
            _("Feedback within 3 months, per month"),
            [(m.month, m.feedback_in_time) for m in stats.per_month],
            suppressed,
            unit="%",
            scale_max=100,
        ),
    }


def csv_export(request: Request, db: Session, me: StaffPrincipal) -> Response:
    name = request.path_params["table"]
    if name not in TABLES:
        raise NotFound()
    stats = answer(request, db, me)
    names = statistics_service(request, db).names(request_locale(request))
    return csv_response(table_csv(stats, name, names), f"statistics-{name}.csv")


def former_page(request: Request) -> Response:
    """The auditors' former statistics address leads to the page everyone shares."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/staff/statistics{query}", status_code=303)


routes: list[BaseRoute] = [
    Route("/api/v1/statistics", statistics_api, methods=["GET"]),
    Route("/api/v1/audit/statistics", audit_statistics_api, methods=["GET"]),
    Route("/staff/statistics", staff_page(statistics_page), methods=["GET"]),
    Route("/staff/statistics/annual", staff_page(annual_page), methods=["GET"]),
    Route("/staff/statistics/{table}.csv", staff_page(csv_export), methods=["GET"]),
    Route("/staff/audit/statistics", former_page, methods=["GET"]),
]
