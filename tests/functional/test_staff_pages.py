"""The staff pages over HTTP: login with TOTP, the list, the case page and its forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, csrf, log_in

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        ana = made.staff("ana@example.com")
        newbie = made.staff("new@example.com", enrol=False)
        filed = made.file()
    return {"clock": clock, "ana": ana, "new": newbie, "case": filed.case}


def test_login_list_and_case_page(client: Any, world: dict[str, Any]) -> None:
    """After password and code the list shows the case and its page decrypts the report."""
    log_in(client, world["ana"], world["clock"])

    listing = client.get("/staff/cases")
    page = client.get(f"/staff/cases/{world['case'].id}")

    assert listing.template.name == "staff/cases.html"
    assert [r.id for r in listing.context["page"].rows] == [world["case"].id]
    assert page.context["view"].report["summary"] == "Orders moved to a rival"


def test_forms_act_and_refuse(client: Any, world: dict[str, Any]) -> None:
    """A reply and a transition succeed; a transition without a reason shows the field error."""
    log_in(client, world["ana"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"
    token = csrf(client, path)

    reply = client.post(
        f"{path}/messages", data={"csrf": token, "body": "Thanks"}, follow_redirects=False
    )
    bad = client.post(
        f"{path}/transition", data={"csrf": token, "status": "acknowledged", "reason": ""}
    )
    forged = client.post(f"{path}/notes", data={"csrf": "0" * 64, "note": "x"})

    assert reply.status_code == 303
    assert bad.status_code == 422
    assert bad.context["errors"] == {"reason": "required"}
    assert forged.status_code == 403
    assert [m.body for m in client.get(path).context["view"].messages] == ["Thanks"]


def test_half_session_cannot_reach_cases(client: Any, world: dict[str, Any]) -> None:
    """After the password alone the case list still sends you to the login."""
    token = csrf(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"csrf": token, "email": "ana@example.com", "password": world["ana"].password},
    )

    answer = client.get("/staff/cases", follow_redirects=False)

    assert answer.headers["location"] == "/staff/login"


def test_unenrolled_account_sees_a_qr_code(client: Any, world: dict[str, Any]) -> None:
    """An account made without TOTP gets the enrolment page with an inline SVG QR code."""
    token = csrf(client, "/staff/login")

    answer = client.post(
        "/staff/login",
        data={"csrf": token, "email": "new@example.com", "password": world["new"].password},
    )

    assert answer.template.name == "staff/enroll.html"
    assert "<svg" in answer.text
    assert re.fullmatch(r"[A-Z2-7]+", answer.context["secret"])
