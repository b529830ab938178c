"""Helpers for questionnaire tests: staff log-in over HTTP, a published questionnaire, a DB scan."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.questionnaires.service import QuestionForm, QuestionnaireService
from support.staff_world import SECRET, Person, World

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf(client: Any, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def log_in(client: Any, person: Person, clock: Clock) -> str:
    """Logs a staff member in through the two login forms; returns the CSRF token."""
    token = csrf(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
    )
    client.post("/staff/login/totp", data={"csrf": token, "code": person.code(clock)})
    return token


def every_kind(world: World, admin: Person, db: Session, clock: Clock) -> dict[str, str]:
    """Publishes one question of each kind for every category (the date one required);
    returns their ids by kind."""
    service = QuestionnaireService(db, AuditLog(db, clock, SECRET))
    me = admin.principal(db, clock)
    en, zh = ["Seen", "Heard"], ["看到", "听说"]
    forms = {
        "short_text": QuestionForm("short_text", "Customer?", "客户？"),
        "long_text": QuestionForm("long_text", "How?", "如何？"),
        "single_choice": QuestionForm(
            "single_choice", "Source?", "来源？", choices_en=en, choices_zh=zh
        ),
        "multiple_choice": QuestionForm(
            "multiple_choice", "Which?", "哪些？", choices_en=en, choices_zh=zh
        ),
        "date": QuestionForm("date", "When?", "何时？", required=True),
        "amount": QuestionForm("amount", "Value?", "金额？"),
        "yes_no": QuestionForm("yes_no", "Still going?", "仍在继续？"),
    }
    service.replace_all(me, world.channel.id, [(None, form) for form in forms.values()])
    current = service.current(world.channel.id)
    return {str(q.kind): q.id for q in current.questions}


def clear_holders(engine: Engine, needles: list[str]) -> list[str]:
    """Every table.column whose stored value holds one of the needles in clear."""
    metadata = MetaData()
    metadata.reflect(engine)
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else None
                    text = raw.decode("utf-8", "ignore") if raw is not None else value
                    if isinstance(text, str):
                        found += [f"{table.name}.{column}" for n in needles if n in text]
    return found


def axe_as_served(browser: Any, page: Any, locale: str) -> None:
    """axe on the page as the JS-free browser got it (support/browser.py has the one way)."""
    from support.browser import assert_page_accessible

    assert_page_accessible(browser, page, locale)
