"""Admin pages and API for a channel's extra questions (docs/questionnaires.md).

Plain forms that work without JavaScript: the list with move and delete buttons and a form
to add a question, and one page to change a question. Each change publishes a new version;
reports already filed keep theirs. The rules live in cases/questionnaires/service.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.org.admin import AdminService
from cases.principals import StaffPrincipal
from cases.questionnaires.questions import Kind
from cases.questionnaires.service import QuestionForm, QuestionnaireService, require_admin
from portal.auth import require_staff
from portal.deps import admin_service
from portal.errors import read_json
from portal.i18n import N_
from portal.openapi import api_operation
from portal.routes.admin import FIELD_MESSAGES, action, page
from portal.shapes import answer, parse, schema
from portal.shapes.questionnaires import QuestionIn, QuestionnaireIn, QuestionnaireOut

KIND_LABELS = {
    Kind.SHORT_TEXT: N_("Short text"),
    Kind.LONG_TEXT: N_("Long text"),
    Kind.SINGLE_CHOICE: N_("One choice from a list"),
    Kind.MULTIPLE_CHOICE: N_("Several choices from a list"),
    Kind.DATE: N_("Date"),
    Kind.AMOUNT: N_("Amount with currency"),
    Kind.YES_NO: N_("Yes or no"),
}
QUESTION_MESSAGES = {
    **FIELD_MESSAGES,
    "unknown_category": N_("Choose a category of this channel."),
    "two_choices": N_("Give at least two choices, one per line."),
    "choices_in_step": N_("Give each choice in both languages: as many Chinese lines as English."),
    "too_many": N_("There are too many: remove some first."),
}
TAGS = ("admin",)


def questionnaires(admin: AdminService) -> QuestionnaireService:
    """The questionnaire service on the admin's session, auditing into the same trail."""
    return QuestionnaireService(admin.db, admin.audit)


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name])


def _context(admin: AdminService, me: StaffPrincipal, channel_id: str) -> dict[str, Any]:
    service = questionnaires(admin)
    channel = service.channel(me, channel_id)
    return {
        "channel": channel,
        "questionnaire": service.current(channel.id),
        "versions": service.versions(channel.id),
        "category_names": {c.id: c for c in channel.categories},
        "kinds": KIND_LABELS,
        "field_messages": QUESTION_MESSAGES,
    }


def list_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    return "questionnaires/admin_list.html", _context(admin, me, _param(request, "channel_id"))


def edit_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    channel_id = _param(request, "channel_id")
    context = _context(admin, me, channel_id)
    question = questionnaires(admin).question(me, channel_id, _param(request, "question_id"))
    return "questionnaires/admin_edit.html", {**context, "question": question}


def _form(form: FormData) -> QuestionForm:
    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    return QuestionForm(
        kind=text("kind"),
        label_en=text("label_en"),
        label_zh=text("label_zh"),
        help_en=text("help_en"),
        help_zh=text("help_zh"),
        required=text("required") == "1",
        category_id=text("category"),
        choices_en=text("choices_en").splitlines(),
        choices_zh=text("choices_zh").splitlines(),
    )


def _back(channel_id: str) -> str:
    return f"/admin/channels/{channel_id}/questions"


def add_question(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = _param(request, "channel_id")
    questionnaires(admin).add(me, channel_id, _form(form))
    return _back(channel_id)


def save_question(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id, question_id = _param(request, "channel_id"), _param(request, "question_id")
    questionnaires(admin).change(me, channel_id, question_id, _form(form))
    return _back(channel_id)


def move_question(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id, question_id = _param(request, "channel_id"), _param(request, "question_id")
    step = -1 if form.get("move") == "up" else 1
    questionnaires(admin).move(me, channel_id, question_id, step)
    return _back(channel_id)


def delete_question(
    request: Request, admin: AdminService, me: StaffPrincipal, form: FormData
) -> str:
    channel_id, question_id = _param(request, "channel_id"), _param(request, "question_id")
    questionnaires(admin).delete(me, channel_id, question_id)
    return _back(channel_id)


# --- admin API -------------------------------------------------------------------------------


def _service(request: Request, db: Session) -> tuple[QuestionnaireService, StaffPrincipal]:
    me = require_staff(request, db)
    return questionnaires(admin_service(request, db)), me


@api_operation(
    "getQuestionnaire",
    "Admins: a channel's current extra questions",
    method="GET",
    responses={200: QuestionnaireOut},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
)
@api_operation(
    "replaceQuestionnaire",
    "Admins: the channel's whole list of extra questions, published as its next version "
    "(reports already filed keep the version they were filed with)",
    method="PUT",
    request=schema(QuestionnaireIn),
    responses={200: QuestionnaireOut},
    errors=(400, 401, 403, 404, 415, 422),
    bearer=True,
    tags=TAGS,
)
async def questionnaire_api(request: Request) -> Response:
    if request.method == "GET":
        return answer(await run_in_threadpool(_current, request))
    # The role first: a non-admin learns nothing about what body the endpoint wants.
    await run_in_threadpool(_admin_only, request)
    return answer(await run_in_threadpool(_replace, request, await read_json(request)))


def _admin_only(request: Request) -> None:
    with unit_of_work(request.app.state.db) as db:
        require_admin(require_staff(request, db))


def _current(request: Request) -> QuestionnaireOut:
    with unit_of_work(request.app.state.db) as db:
        service, me = _service(request, db)
        channel = service.channel(me, _param(request, "channel_id"))
        return QuestionnaireOut.of(service.current(channel.id))


def _replace(request: Request, raw: dict[str, Any]) -> QuestionnaireOut:
    with unit_of_work(request.app.state.db) as db:
        service, me = _service(request, db)
        require_admin(me)
        body = parse(QuestionnaireIn, raw)
        forms = [(q.id, _question_form(q)) for q in body.questions]
        published = service.replace_all(me, _param(request, "channel_id"), forms)
        return QuestionnaireOut.of(published)


def _question_form(question: QuestionIn) -> QuestionForm:
    help_text = question.help
    return QuestionForm(
        kind=question.type,
        label_en=question.label.en,
        label_zh=question.label.zh_CN,
        help_en=help_text.en if help_text else "",
        help_zh=help_text.zh_CN if help_text else "",
        required=question.required,
        category_id=question.category or "",
        choices_en=[c.en for c in question.choices],
        choices_zh=[c.zh_CN for c in question.choices],
    )


QUESTIONS = "/admin/channels/{channel_id}/questions"
routes: list[BaseRoute] = [
    Route(QUESTIONS, page(list_view), methods=["GET"]),
    Route(QUESTIONS, action(add_question, list_view), methods=["POST"]),
    Route(QUESTIONS + "/{question_id}", page(edit_view), methods=["GET"]),
    Route(QUESTIONS + "/{question_id}", action(save_question, edit_view), methods=["POST"]),
    Route(QUESTIONS + "/{question_id}/move", action(move_question, list_view), methods=["POST"]),
    Route(
        QUESTIONS + "/{question_id}/delete", action(delete_question, list_view), methods=["POST"]
    ),
    Route(
        "/api/v1/admin/channels/{channel_id}/questionnaire",
        questionnaire_api,
        methods=["GET", "PUT"],
    ),
]
