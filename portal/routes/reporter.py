"""The reporter's pages: the report form, the receipt page, the status page and its actions.

Everything works without JavaScript. The receipt appears once, in the answer to the form's
POST (never behind a redirect, in a URL or in a cookie). The check step verifies a typed
receipt against the database by the same path as logging in, without opening a session,
and counts towards the same throttles.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

import crypto
from cases.access.reporting import access_summary
from cases.db import unit_of_work
from cases.errors import CaseError, Conflict, Invalid, NotFound, Unauthorized
from cases.org.models import Channel
from cases.org.service import OrgService
from cases.principals import ReporterPrincipal
from cases.reports.attachments import delete_files
from cases.reports.intake import Draft, IdentityInput, SubjectInput, Submission
from cases.reports.reporter import ReporterView
from cases.retention import DeletedUnderRetention
from portal.auth import REPORTER_COOKIE, require_reporter
from portal.csrf import delete_host_cookie, form_with_csrf, set_host_cookie
from portal.deps import (
    handovers,
    intake_service,
    reporter_service,
    retention_service,
    settings_of,
)
from portal.errors import BadRequest, http_status
from portal.form_refusals import BACK_PAGES, REFUSALS, REFUSED_PATH
from portal.forms import submit
from portal.i18n import LANG_COOKIE, N_, locale_from_tag, request_locale, tag_for, translator
from portal.questionnaire_form import ANSWER_MESSAGES, answers_from_fields, form_questions
from portal.reporter_flow import (
    check_receipt,
    file_opener,
    link_evidence,
    prepared_draft,
    reporter_case,
    upload_target,
    write,
)
from portal.templating import render
from portal.uploads import ParsedUpload, UploadLimits, read_upload

SUBJECT_ROWS = 3
HONEYPOT = "website"

# Field error codes of the domain, in words a person can act on.
FIELD_MESSAGES = {
    "required": N_("Please fill this in."),
    "too_long": N_("This is too long. Please shorten it."),
    "unknown_channel": N_("Please choose where to send your report."),
    "unknown_category": N_("Please choose what the report is about."),
    "name_required": N_("Give a name for each person, or leave the whole row empty."),
    "too_many": N_("Name at most 20 people."),
    "unknown_recipient": N_("Choose only people from the list."),
    "invalid": N_("This is not valid."),
    "receipt_typo": N_(
        "This code has a typing mistake. Check each group of four characters and try again."
    ),
    "wrong_receipt": N_("We could not find a report with this code. Check it and try again."),
    "receipt_replaced": N_(
        "This code was replaced by a new one the first time it was used, as every code given "
        "over the phone, in a meeting or by letter is. Log in with the new code. If you never "
        "used this code before, someone else did, perhaps the person who took your report: "
        "the team handling your report has been told. You can file a new report to say so."
    ),
    "throttled": N_("Too many attempts with this code. Please wait 15 minutes and try again."),
    "empty_file": N_("A file you chose is empty."),
    "file_too_large": N_(
        "A file is larger than allowed. Nothing was sent yet: choose smaller files, or fewer."
    ),
    "too_large": N_(
        "Together, the files are larger than allowed for one report. Nothing was sent yet: "
        'choose fewer or smaller files. You can add more later from "Check a report".'
    ),
    "too_many_files": N_(
        "Too many files for one report. Nothing was sent yet: choose fewer files. You can add "
        'more later from "Check a report".'
    ),
    **ANSWER_MESSAGES,
}
# The handover kinds of the receipt page and of the form handed back; where a form sent
# again lands; the check page's answer for a right code; the statuses a wrong one may be
# answered with (carried in the redirect, checked against this list).
DONE_PAGE = "receipt-page"
FORM_AGAIN = "report-form"
REPLY_AGAIN = "reply-again"
WORDS_KEPT = "words-kept"
FILED_ALREADY = "/report/filed"
CORRECT = "correct"
CHECK_STATUSES = frozenset({"401", "413", "422", "429"})
FILE_REFUSALS = ("file_too_large", "too_large", "too_many_files")
HONEYPOT_MESSAGE = N_(
    "This form could not be accepted. If you are a person, leave the last field empty."
)


@dataclass
class FormState:
    """What the form shows: the values typed so far and a message per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


# --- the report form -----------------------------------------------------------------------


async def report_form(request: Request) -> Response:
    """The intake form, in the channel the query names (the first one otherwise); with
    `again`, the form handed back after a refusal or a language switch, words and all."""
    return await run_in_threadpool(_form_page, request, request.query_params.get("again", ""))


def _form_page(request: Request, token: str) -> Response:
    if token:
        with unit_of_work(request.app.state.db) as db:
            kept = handovers(request, db).take(FORM_AGAIN, token)
        if kept is not None:
            state = FormState(kept["values"], kept["errors"])
            return _render_form(request, state, int(kept["status"]))
    return _render_form(request, FormState(), 200)


def _hand_back(request: Request, state: FormState, status: int) -> Response:
    """The form again with every typed word, as a redirect to a page behind a short-lived
    link: answered directly, the browser would keep the form's body (cases/reports/handover.py)."""
    kept = {"values": state.values, "errors": state.errors, "status": status}
    with unit_of_work(request.app.state.db) as db:
        token = handovers(request, db).put(FORM_AGAIN, kept)
    return RedirectResponse(f"/report?{urlencode({'again': token})}", status_code=303)


async def already_filed(request: Request) -> Response:
    """Where a form sent again lands: it was filed once."""
    return render(request, "reporter/already_filed.html")


def _render_form(request: Request, state: FormState, status: int) -> Response:
    locale = request_locale(request)
    _ = translator(request)
    with unit_of_work(request.app.state.db) as db:
        org = OrgService(db)
        channels = org.active_channels()
        chosen = state.values.get("channel") or request.query_params.get("channel", "")
        channel = next((c for c in channels if c.id == chosen), channels[0] if channels else None)
        recipients = _recipients(request, db, channel)
        context = {
            "channels": [{"id": c.id, "name": c.name(locale)} for c in channels],
            "channel": channel,
            "channel_name": channel.name(locale) if channel else "",
            "categories": [
                {"id": c.id, "name": c.name(locale)}
                for c in (channel.categories if channel else [])
                if c.active
            ],
            "recipients": recipients,
            "questions": form_questions(db, channel, locale),
            "values": state.values,
            "errors": state.errors,
            "subject_rows": _subject_rows(state.values),
            "once": secrets.token_urlsafe(24),
            "limits": settings_of(request).limits,
            "max_file": size_text(settings_of(request).limits.upload_max_file),
            "max_report": size_text(settings_of(request).limits.upload_max_report),
            "file_messages": {code: _(FIELD_MESSAGES[code]) for code in FILE_REFUSALS},
        }
    return render(request, "reporter/form.html", context, status_code=status)


def size_text(size: int) -> str:
    """A byte count as people read it: whole MiB, KiB below a MiB, bytes below a KiB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MiB"
    if size >= 1024:
        return f"{size / 1024:.3g} KiB"
    return f"{size} B"


def _recipients(request: Request, db: Any, channel: Channel | None) -> list[dict[str, str]]:
    if channel is None:
        return []
    people = intake_service(request, db).recipients(channel)
    return [{"id": s.id, "name": s.name or s.email} for s in people]


def _subject_rows(values: dict[str, Any]) -> list[dict[str, str]]:
    names = list(values.get("subject_name", []))
    ids = list(values.get("subject_id", []))
    rows = max(SUBJECT_ROWS, len(names))
    names += [""] * (rows - len(names))
    ids += [""] * (rows - len(ids))
    return [{"name": n, "id": i} for n, i in zip(names, ids, strict=True)]


async def submit_report(request: Request) -> Response:
    """Files the report, attachments streamed and encrypted on the way in; shows the receipt."""
    draft = await prepared_draft(request)
    target = upload_target(request, draft.case_id, draft.case_key)
    parsed = await read_upload(
        request,
        UploadLimits.of(settings_of(request)),
        file_opener(request, target, "files"),
        before_file=_refuse_bots,
        keep_fields=True,
    )
    try:
        _refuse_bots(parsed)
        if parsed.refused is not None:
            if await run_in_threadpool(_once_used, request, parsed.get("once")):
                # A reload of the receipt page may resend the files empty: it was filed.
                return RedirectResponse(FILED_ALREADY, status_code=303)
            # Nothing is filed: the form comes back with every word and the file problem.
            refusal = Invalid(fields={"files": parsed.refused}, code=parsed.refused)
            status = 422 if parsed.refused == "empty_file" else 413
            return await _form_again(request, parsed, refusal, status)
        return await write(request, _file, parsed, draft)
    except Invalid as exc:
        await run_in_threadpool(delete_files, request.app.state.db, parsed.file_ids)
        return await _form_again(request, parsed, exc)
    except Conflict as exc:
        await run_in_threadpool(delete_files, request.app.state.db, parsed.file_ids)
        if exc.code != "replayed":
            raise
        # The same form sent again (a reload of the receipt page): the report WAS filed.
        return RedirectResponse(FILED_ALREADY, status_code=303)
    except BaseException:
        await run_in_threadpool(delete_files, request.app.state.db, parsed.file_ids)
        raise


def _once_used(request: Request, token: str) -> bool:
    with unit_of_work(request.app.state.db) as db:
        return reporter_service(request, db).once_used(token)


async def switch_form_language(request: Request) -> Response:
    """The language switch of the report form: the same form again, in the chosen language,
    with every typed field carried over (files are never sent by the switch)."""
    form = await form_with_csrf(request)
    tag = str(form.get("switch_lang", ""))
    locale = locale_from_tag(tag)
    if locale is None:
        raise BadRequest(N_("This language is not offered."), code="bad_language")
    parsed = ParsedUpload()
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in {"switch_lang", "files", "csrf", "once"}:
            parsed.fields.setdefault(name, []).append(value)
    values = _typed_values(parsed)
    response = await run_in_threadpool(_hand_back, request, FormState(values, {}), 200)
    set_host_cookie(response, LANG_COOKIE, tag_for(locale))
    return response


def _refuse_bots(parsed: ParsedUpload) -> None:
    """The honeypot field is hidden from people; anything in it means a script filled it."""
    if parsed.get(HONEYPOT).strip():
        raise BadRequest(HONEYPOT_MESSAGE, code="rejected")


def _file(request: Request, parsed: ParsedUpload, draft: Draft) -> Response:
    submission = submission_from_form(parsed)
    with unit_of_work(request.app.state.db) as db:
        filed = reporter_service(request, db).file(submission, draft, once=parsed.get("once"))
        case = filed.case
        months = retention_service(request, db).months_for(case.channel_id)
        # The receipt page is not the form's answer: a browser would keep the form's body
        # (the report) in its session files. It is a GET page behind a short-lived link.
        token = handovers(request, db).put(
            DONE_PAGE,
            {
                "receipt": filed.receipt.formatted(),
                "acknowledge_by": case.acknowledge_by.isoformat(),
                "feedback_by": case.feedback_by.isoformat(),
                "files_count": len(parsed.files),
                "files_dropped": filed.files_dropped,
                "retention_months": months,
            },
        )
    return RedirectResponse(f"/report/done/{token}", status_code=303)


async def done_page(request: Request) -> Response:
    """The receipt page the filing redirected to: shown once, then its link opens nothing."""
    return await run_in_threadpool(_done, request, str(request.path_params["token"]))


def _done(request: Request, token: str) -> Response:
    with unit_of_work(request.app.state.db) as db:
        values = handovers(request, db).take(DONE_PAGE, token)
    if values is None:
        return render(request, "reporter/shown.html", status_code=410)
    context = {
        **values,
        "acknowledge_by": date.fromisoformat(values["acknowledge_by"]),
        "feedback_by": date.fromisoformat(values["feedback_by"]),
    }
    return render(request, "reporter/done.html", context)


async def _form_again(
    request: Request, parsed: ParsedUpload, exc: Invalid, status: int = 422
) -> Response:
    _ = translator(request)
    errors = {
        name: _(FIELD_MESSAGES.get(code, FIELD_MESSAGES["invalid"]))
        for name, code in exc.fields.items()
    }
    values = _typed_values(parsed)
    values["had_files"] = bool(parsed.files) or parsed.refused is not None
    return await run_in_threadpool(_hand_back, request, FormState(values, errors), status)


def _typed_values(parsed: ParsedUpload) -> dict[str, Any]:
    values: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in parsed.fields.items()}
    values["subject_name"] = parsed.getlist("subject_name")
    values["subject_id"] = parsed.getlist("subject_id")
    values["exclude"] = parsed.getlist("exclude")
    return values


def submission_from_form(parsed: ParsedUpload) -> Submission:
    """The form's fields as a Submission; blank subject rows are left out."""
    rows = zip(parsed.getlist("subject_name"), parsed.getlist("subject_id"), strict=False)
    subjects = [
        SubjectInput(name=name, employee_id=ident)
        for name, ident in rows
        if name.strip() or ident.strip()
    ]
    identity = None
    if parsed.get("mode") == "confidential":
        identity = IdentityInput(parsed.get("identity_name"), parsed.get("identity_contact"))
    return Submission(
        channel_id=parsed.get("channel"),
        category_id=parsed.get("category"),
        summary=parsed.get("summary"),
        details=parsed.get("details"),
        loss_estimate=parsed.get("loss_estimate"),
        subjects=subjects,
        exclude=parsed.getlist("exclude"),
        identity=identity,
        attachment_ids=parsed.file_ids,
        answers=answers_from_fields(parsed.fields.items()),
    )


async def save_receipt(request: Request) -> Response:
    """The receipt, sent back in the POST body, answered as a text file to keep (never stored).

    The code travels only in the bodies of this request and its answer: no URL, no cookie,
    no log. Anything that is not a well-formed receipt is refused rather than echoed.
    """
    form = await form_with_csrf(request)
    try:
        receipt = crypto.parse_receipt(str(form.get("receipt", ""))).formatted()
    except crypto.ReceiptFormatError:
        raise BadRequest(N_("This is not a receipt code."), code="bad_receipt") from None
    _ = translator(request)
    lines = [
        _("Speak Up"),
        "",
        _("Your receipt code"),
        receipt,
        "",
        _(
            "It is the only way back to your report. We do not keep it, and nobody can send "
            "it to you again."
        ),
        _('Come back to "Check a report" with your code to read replies and answer questions.'),
        _("Keep this file somewhere only you can open, or print it and delete the file."),
        "",
    ]
    return Response(
        "\r\n".join(lines),
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="receipt.txt"',
            "Cache-Control": "no-store",
        },
    )


async def check_typed_receipt(request: Request) -> Response:
    """The type-it-back step: whether the typed code opens the report (no session opens).
    The answer is a redirect carrying the result only, so the browser keeps no typed code
    in its session files."""
    form = await form_with_csrf(request)
    outcome = await check_receipt(request, str(form.get("receipt", "")), open_session=False)
    query: dict[str, str] = {"result": CORRECT}
    if outcome.error is not None:
        query = {"result": outcome.error.code, "status": str(http_status(outcome.error))}
    return RedirectResponse(f"/report/check?{urlencode(query)}", status_code=303)


async def checked_page(request: Request) -> Response:
    """What the check found (from the redirect's query: a result code, never the code)."""
    result = request.query_params.get("result", "")
    if not result:
        return RedirectResponse("/status", status_code=303)
    if result == CORRECT:
        return render(request, "reporter/check.html", {"error": None})
    _ = translator(request)
    error = _(FIELD_MESSAGES.get(result, FIELD_MESSAGES["wrong_receipt"]))
    status = request.query_params.get("status", "")
    code = int(status) if status in CHECK_STATUSES else 422
    return render(request, "reporter/check.html", {"error": error}, status_code=code)


def _receipt_error(request: Request, error: CaseError | None) -> str | None:
    if error is None:
        return None
    _ = translator(request)
    return _(FIELD_MESSAGES.get(error.code, FIELD_MESSAGES["wrong_receipt"]))


# --- a form refused before it was read ----------------------------------------------------


async def refused_page(request: Request) -> Response:
    """Why a reporter's form was refused before it was read (portal/form_refusals.py), with
    the refusal's own status; the words typed into the form are not shown (never read)."""
    refusal = REFUSALS.get(str(request.path_params["why"]))
    if refusal is None:
        raise NotFound
    back = BACK_PAGES.get(request.query_params.get("back", ""), BACK_PAGES["report"])
    context = {"title": refusal.title, "message": refusal.message, "back": back}
    return render(request, "reporter/refused.html", context, status_code=refusal.status)


# --- the status page -----------------------------------------------------------------------


async def status_page(request: Request) -> Response:
    """The case when a reporter session is open; the receipt form otherwise."""
    return await run_in_threadpool(_status, request)


def _status(request: Request) -> Response:
    if not request.cookies.get(REPORTER_COOKIE):
        return _login_page(request)
    with unit_of_work(request.app.state.db) as db:
        try:
            principal = require_reporter(request, db)
        except CaseError:
            principal = None
        if principal is not None:
            again = request.query_params.get("again", "")
            kept = handovers(request, db).take(REPLY_AGAIN, again) if again else None
            if kept is not None:
                return _status_in(request, db, principal, kept["error"], 422, kept["body"])
            return _status_in(request, db, principal, None, 200)
    response = render(request, "reporter/login.html", {"error": None})
    delete_host_cookie(response, REPORTER_COOKIE)
    return response


def _status_in(
    request: Request,
    db: Any,
    principal: ReporterPrincipal,
    reply_error: str | None,
    status: int,
    reply_body: str = "",
) -> Response:
    """The status page from the request's one session; a refused reply keeps its words."""
    view = reporter_service(request, db).view(principal)
    context = {**_status_context(request, db, view, reply_error), "reply_body": reply_body}
    return render(request, "reporter/status.html", context, status_code=status)


def _login_page(request: Request) -> Response:
    """The receipt form; with `kept`, the words of a form sent after the session ended."""
    token = request.query_params.get("kept", "")
    if token:
        with unit_of_work(request.app.state.db) as db:
            kept = handovers(request, db).take(WORDS_KEPT, token)
        if kept is not None:
            context = {"error": None, "kept_words": kept["words"]}
            return render(request, "reporter/login.html", context, status_code=401)
    return render(request, "reporter/login.html", {"error": None})


def words_kept(request: Request, words: str) -> Response:
    """The receipt form, with the words of a form sent after the session had ended.

    Nothing was sent or stored as a message: the words wait sealed behind a short-lived
    link (cases/reports/handover.py) that this redirect leads to, so the reporter can copy
    them and send them after logging in again, and the browser keeps no form body."""
    with unit_of_work(request.app.state.db) as db:
        token = handovers(request, db).put(WORDS_KEPT, {"words": words})
    response = RedirectResponse(f"/status?{urlencode({'kept': token})}", status_code=303)
    delete_host_cookie(response, REPORTER_COOKIE)
    return response


def _status_context(
    request: Request, db: Any, view: ReporterView, error: str | None
) -> dict[str, Any]:
    locale = request_locale(request)
    # The case's own channel, switched off since or not: the reporter still sees the topic.
    channel = db.get(Channel, view.case.channel_id)
    names = {c.id: c.name(locale) for c in channel.categories} if channel else {}
    return {
        "view": view,
        "category_name": names.get(view.case.category_id, ""),
        "category_names": names,
        "reply_error": error,
        "access": access_summary(db, view.case, settings_of(request).timezone),
        "limits": settings_of(request).limits,
        "retention": retention_service(request, db).schedule(view.case),
    }


async def login(request: Request) -> Response:
    """Takes the receipt by POST, opens a session in a cookie and shows the case."""
    form = await form_with_csrf(request)
    outcome = await check_receipt(request, str(form.get("receipt", "")), open_session=True)
    if isinstance(outcome.error, DeletedUnderRetention):
        return render(request, "reporter/deleted.html", status_code=410)
    if outcome.token is None:
        error = _receipt_error(request, outcome.error)
        status = http_status(outcome.error) if outcome.error is not None else 401
        return render(request, "reporter/login.html", {"error": error}, status_code=status)
    response: Response = RedirectResponse("/status", status_code=303)
    if outcome.new_receipt is not None:
        # A staff-issued receipt was replaced: the new one is shown once, on this answer only.
        response = render(request, "reporter/new_receipt.html", {"receipt": outcome.new_receipt})
    set_host_cookie(response, REPORTER_COOKIE, outcome.token)
    return response


async def reply(request: Request) -> Response:
    form = await form_with_csrf(request)
    body = str(form.get("body", ""))
    return await write(request, _reply, body)


def _reply(request: Request, body: str) -> Response:
    def act(db: Session, me: ReporterPrincipal) -> None:
        reporter_service(request, db).reply(me, body)

    def again(db: Session, me: ReporterPrincipal, problem: Invalid) -> Response:
        _ = translator(request)
        code = problem.fields.get("body", "invalid")
        error = _(FIELD_MESSAGES.get(code, FIELD_MESSAGES["invalid"]))
        # The status page again with the words, behind a redirect (cases/reports/handover.py).
        token = handovers(request, db).put(REPLY_AGAIN, {"error": error, "body": body})
        return RedirectResponse(f"/status?{urlencode({'again': token})}#body", status_code=303)

    def done(db: Session, me: ReporterPrincipal, _: None) -> Response:
        return RedirectResponse("/status#conversation", status_code=303)

    try:
        return submit(request, require_reporter, act, done, again, (Invalid,))
    except Unauthorized:
        # The session ended while the reporter wrote: nothing was sent; the words come back.
        return words_kept(request, body)


async def add_evidence(request: Request) -> Response:
    """Streams the chosen files into the reporter's case, CSRF field first."""
    principal, case_id, key = await run_in_threadpool(reporter_case, request)
    parsed = await read_upload(
        request,
        UploadLimits.of(settings_of(request)),
        file_opener(request, upload_target(request, case_id, key), "files"),
    )
    await write(request, link_evidence, principal, parsed.file_ids)
    return RedirectResponse("/status#files", status_code=303)


async def logout(request: Request) -> Response:
    await form_with_csrf(request)
    await write(request, _logout)
    response = render(request, "reporter/logged_out.html")
    delete_host_cookie(response, REPORTER_COOKIE)
    return response


def _logout(request: Request) -> None:
    token = request.cookies.get(REPORTER_COOKIE)
    if token:
        with unit_of_work(request.app.state.db) as db:
            reporter_service(request, db).logout(token)


routes: list[BaseRoute] = [
    Route("/report", report_form, methods=["GET"], name="report_form"),
    Route("/report", submit_report, methods=["POST"], name="submit_report"),
    Route("/report/language", switch_form_language, methods=["POST"], name="report_language"),
    Route("/report/receipt.txt", save_receipt, methods=["POST"], name="save_receipt"),
    Route("/report/done/{token}", done_page, methods=["GET"], name="report_done"),
    Route(FILED_ALREADY, already_filed, methods=["GET"], name="report_filed"),
    Route("/report/check", check_typed_receipt, methods=["POST"], name="check_receipt"),
    Route("/report/check", checked_page, methods=["GET"], name="checked_receipt"),
    Route(f"{REFUSED_PATH}/{{why}}", refused_page, methods=["GET"], name="form_refused"),
    Route("/status", status_page, methods=["GET"], name="status"),
    Route("/status", login, methods=["POST"], name="status_login"),
    Route("/status/reply", reply, methods=["POST"], name="status_reply"),
    Route("/status/evidence", add_evidence, methods=["POST"], name="status_evidence"),
    Route("/status/logout", logout, methods=["POST"], name="status_logout"),
]
