"""The case list (HTML and JSON): filters in the query string, search words in a POST body,
bulk work and saved views. Every rule is the domain's (cases/workflow, cases/casework).

Why search is a POST: a search word is case content (a customer's name, a product), and a URL
travels into browser history, bookmarks, proxy logs and, where there is one, the server's
access log. The filters are not content, so they stay in the query string (shareable,
bookmarkable, and saved as views); the words never are (docs/caselist.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.casework.bulk import BulkRefused, BulkRequest, BulkWork, selected
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.staff.roles import CASE_READERS
from cases.workflow.listing import PAGE_SIZE, PAGE_SIZES, CaseFilters, CasePage
from cases.workflow.rules import ALLOWED
from cases.workflow.search import SEARCH_WINDOW, SearchResult
from cases.workflow.views import SavedViews
from portal.auth import require_staff
from portal.case_filters import offset_from
from portal.csrf import form_with_csrf
from portal.deps import casework, clock_of, flood_triage
from portal.errors import http_status, read_json
from portal.forms import submit
from portal.i18n import request_locale, translator
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.routes.staff import common, signed_in
from portal.shapes import ErrorOut, answer, parse
from portal.shapes.caselist import BulkIn, BulkOut, BulkRefusalOut, SearchIn
from portal.shapes.staff import CaseList, SearchOut
from portal.templating import render

TO_CASES = "/staff/cases"


def page_size(params: Any) -> int:
    raw = str(params.get("size") or "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else PAGE_SIZE


def list_filters(params: Any) -> CaseFilters:
    """The HTML list's filters: flood-marked reports are set apart unless asked for."""
    filters = CaseFilters.from_params(params)
    return filters if "flood" in params else replace(filters, flood="none")


def filter_query(filters: CaseFilters, size: int) -> str:
    params = filters.to_params()
    if size != PAGE_SIZE:
        params["size"] = str(size)
    return urlencode(params)


# --- HTML ----------------------------------------------------------------------------------


def case_list(request: Request, db: Session, me: StaffPrincipal) -> Response:
    params = request.query_params
    filters, size = list_filters(params), page_size(params)
    work = casework(request, db)
    page = work.page(me, filters, offset_from(params), size)
    context = {
        "page": page,
        "summaries": work.summaries(me, page),
        "prev_href": _page_href(filters, size, page.offset - page.limit) if page.offset else None,
        "next_href": _page_href(filters, size, page.next_offset),
    }
    return _render(request, db, me, filters, size, context)


def _page_href(filters: CaseFilters, size: int, offset: int | None) -> str | None:
    if offset is None:
        return None
    query = filter_query(filters, size)
    return f"{TO_CASES}?{query}{'&' if query else ''}cursor={max(offset, 0)}"


def _render(
    request: Request,
    db: Session,
    me: StaffPrincipal,
    filters: CaseFilters,
    size: int,
    extra: dict[str, Any],
    status_code: int = 200,
) -> Response:
    channels = OrgService(db).active_channels()
    locale = request_locale(request)
    names = {c.id: c.name(locale) for ch in channels for c in ch.categories}
    names.update({ch.id: ch.name(locale) for ch in channels})
    work = casework(request, db)
    colleagues = work.colleagues(me)
    context = {
        "filters": filters,
        "size": size,
        "sizes": PAGE_SIZES,
        "filter_query": filter_query(filters, size),
        "filter_query_for": lambda key, order: filter_query(
            replace(filters, sort=key, order=order), size
        ),
        "channels": channels,
        "names": names,
        "me": me,
        "colleagues": colleagues,
        "staff_names": {p.id: p.name for p in colleagues},
        "views": SavedViews(db, clock_of(request)).list(me),
        "reader": bool(me.account.role_names & CASE_READERS),
        "next_statuses": sorted({s for targets in ALLOWED.values() for s in targets}),
        "window": SEARCH_WINDOW,
        "search": None,
        "query": "",
        "bulk_error": None,
        **extra,
    }
    return render(request, "staff/cases.html", {**common(), **context}, status_code=status_code)


async def search_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    return await run_in_threadpool(_search_page, request, _text(form, "q"), form)


def _search_page(request: Request, query: str, form: FormData) -> Response:
    params = request.query_params
    filters, size = list_filters(params), page_size(params)
    offset = offset_from({"cursor": _text(form, "cursor")})
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        result, summaries = casework(request, db).search(me, filters, query, offset, size)
        extra = {
            "search": result,
            "query": query,
            "summaries": summaries,
            "page": _as_page(result, filters),
        }
        return _render(request, db, me, filters, size, extra)


def _as_page(result: SearchResult, filters: CaseFilters) -> CasePage:
    rows = [hit.row for hit in result.page]
    return CasePage(
        rows, result.total, result.offset, result.limit, result.next_offset, filters, False
    )


async def bulk_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    return await run_in_threadpool(_bulk, request, form)


def _bulk(request: Request, form: FormData) -> Response:
    params = request.query_params
    filters, size = list_filters(params), page_size(params)
    bulk = BulkRequest(
        action=_text(form, "action"),
        case_ids=selected([v for v in form.getlist("case") if isinstance(v, str)]),
        staff_id=_text(form, "staff_id"),
        status=_text(form, "status"),
        reason=_text(form, "reason"),
        outcome=_text(form, "outcome"),
    )

    def act(db: Session, me: StaffPrincipal) -> int:
        return BulkWork(casework(request, db), flood_triage(request, db)).run(me, bulk)

    def again(db: Session, me: StaffPrincipal, refusal: CaseError) -> Response:
        return _refused(request, db, me, filters, size, refusal)

    def done(_db: Session, _me: StaffPrincipal, _changed: int) -> Response:
        query = filter_query(filters, size)
        return RedirectResponse(with_notice(request, f"{TO_CASES}?{query}"), status_code=303)

    return submit(request, require_staff, act, done, again, (BulkRefused, Invalid))


def _refused(
    request: Request,
    db: Session,
    me: StaffPrincipal,
    filters: CaseFilters,
    size: int,
    refusal: CaseError,
) -> Response:
    """The list again, with what refused and why; nothing was changed."""
    _ = translator(request)
    if isinstance(refusal, BulkRefused):
        message = _("Nothing was changed. %(case)s: %(reason)s") % {
            "case": refusal.reference,
            "reason": _(refusal.cause.message),
        }
    else:
        message = _(refusal.message)
    status = http_status(refusal.cause if isinstance(refusal, BulkRefused) else refusal)
    work = casework(request, db)
    page = work.page(me, filters, offset_from(request.query_params), size)
    extra = {"page": page, "summaries": work.summaries(me, page), "bulk_error": message}
    return _render(request, db, me, filters, size, extra, status_code=status)


async def save_view(request: Request) -> Response:
    form = await form_with_csrf(request)
    return await run_in_threadpool(_save_view, request, form)


def _save_view(request: Request, form: FormData) -> Response:
    filters = CaseFilters.from_params(request.query_params)
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        view = SavedViews(db, clock_of(request)).save(me, _text(form, "name"), filters)
    return RedirectResponse(with_notice(request, f"{TO_CASES}?{view.query}"), status_code=303)


async def delete_view(request: Request) -> Response:
    await form_with_csrf(request)
    return await run_in_threadpool(_delete_view, request)


def _delete_view(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        SavedViews(db, clock_of(request)).delete(me, request.path_params["view_id"])
    return RedirectResponse(with_notice(request, TO_CASES), status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- JSON ----------------------------------------------------------------------------------


@api_operation(
    "listCases",
    "The cases this person may see. Filters in the query string: status, category, channel, "
    "assignee (an id, or none), due=overdue|due_soon, flood=only|none, from and to (received, "
    "YYYY-MM-DD), sort=deadline|received|reference|status, order=asc|desc, size=25|50|100|200; "
    "page with cursor. Each item carries its summary when the caller holds the case key",
    responses={200: CaseList},
    errors=(401, 403),
    bearer=True,
    tags=("staff",),
)
async def list_cases(request: Request) -> Response:
    return answer(await run_in_threadpool(_list_cases, request))


def _list_cases(request: Request) -> CaseList:
    params = request.query_params
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        work = casework(request, db)
        filters, size = CaseFilters.from_params(params), page_size(params)
        page = work.page(me, filters, offset_from(params), size)
        return CaseList.of(page, work.summaries(me, page))


@api_operation(
    "searchCases",
    "Search by reference and by words in the cases the caller may open, decrypted for this "
    "request only: the most recent 2,000 such cases the filters (query string, as for "
    "listCases) keep; `cut` says older ones were not searched. The words travel in the body, "
    "never in a URL, and are not stored",
    request=SearchIn,
    responses={200: SearchOut},
    errors=(400, 401, 403, 415, 422),
    bearer=True,
    tags=("staff",),
)
async def search_cases(request: Request) -> Response:
    body = parse(SearchIn, await read_json(request))
    return answer(await run_in_threadpool(_search_cases, request, body))


def _search_cases(request: Request, body: SearchIn) -> SearchOut:
    params = request.query_params
    filters, size = CaseFilters.from_params(params), page_size(params)
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        result, summaries = casework(request, db).search(
            me, filters, body.q, offset_from(params), size
        )
        listed = CaseList.of(_as_page(result, filters), summaries)
        return SearchOut(
            **listed.model_dump(),
            searched=result.searched,
            cut=result.cut,
            window=result.window,
        )


@api_operation(
    "bulkCaseAction",
    "Assign, transition (one reason) or dismiss flood-marked reports for several cases, each "
    "checked as the single action is, all or nothing; a refusal names the case and the reason",
    request=BulkIn,
    responses={
        200: BulkOut,
        403: BulkRefusalOut,
        404: BulkRefusalOut,
        409: BulkRefusalOut,
        422: BulkRefusalOut,
    },
    errors=(400, 401, 415),
    bearer=True,
    tags=("staff",),
)
async def bulk_api(request: Request) -> Response:
    body = parse(BulkIn, await read_json(request))
    try:
        changed = await run_in_threadpool(_bulk_api, request, body)
    except BulkRefused as refusal:
        return _refusal_json(request, refusal)
    return answer(BulkOut(changed=changed))


def _bulk_api(request: Request, body: BulkIn) -> int:
    bulk = BulkRequest(
        body.action, selected(body.cases), body.staff_id, body.status, body.reason, body.outcome
    )
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return BulkWork(casework(request, db), flood_triage(request, db)).run(me, bulk)


def _refusal_json(request: Request, refusal: BulkRefused) -> Response:
    _ = translator(request)
    refused = BulkRefusalOut(
        error=refusal.code,
        message=_(refusal.message),
        case=refusal.reference,
        reason=ErrorOut(error=refusal.cause.code, message=_(refusal.cause.message)),
    )
    return answer(refused, status_code=http_status(refusal.cause))


routes: list[BaseRoute] = [
    Route("/staff/cases", signed_in(case_list), methods=["GET"]),
    Route("/staff/cases/search", search_form, methods=["POST"]),
    Route("/staff/cases/bulk", bulk_form, methods=["POST"]),
    Route("/staff/views", save_view, methods=["POST"]),
    Route("/staff/views/{view_id}/delete", delete_view, methods=["POST"]),
    Route("/api/v1/cases", list_cases, methods=["GET"]),
    Route("/api/v1/cases/search", search_cases, methods=["POST"]),
    Route("/api/v1/cases/bulk", bulk_api, methods=["POST"]),
]
