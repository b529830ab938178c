"""Staff conventions over HTTP: start pages, notices, required marks, formats, the outbox."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, csrf, landing, log_in
from support.staff_world import PASSWORD, SECRET, ZONE, build_world

import crypto
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.reports.intake import SubjectInput
from cases.rewards.models import Reward
from cases.staff.models import Role, StaffAccount, StaffRole
from portal.bootstrap import setup_link_if_needed
from portal.settings import Secret
from portal.start_pages import START_PAGES, start_page

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        people = {
            "admin": made.staff("admin@example.com", "admin"),
            "auditor": made.staff("aud@example.com", "auditor"),
            "finance": made.staff("fin@example.com", "finance"),
            "custodian": made.staff("cus@example.com", "custodian"),
            "reward_approver": made.staff("rap@example.com", "reward_approver"),
            "investigator": made.staff("ana@example.com", "investigator"),
            "retaliation_officer": made.staff("ret@example.com", "retaliation_officer"),
            "approver_investigator": made.staff(
                "two@example.com", "investigator", "reward_approver"
            ),
        }
        filed = made.file()
    return {"clock": clock, "people": people, "case": filed.case}


EXPECTED_START = {
    "admin": ("/admin", "admin/overview.html"),
    "auditor": ("/staff/audit", "auditor/trail.html"),
    "finance": ("/staff/rewards/payouts", "rewards/desk.html"),
    "custodian": ("/staff/disclosures", "access/queue.html"),
    "reward_approver": ("/staff/rewards", "rewards/queue.html"),
    "investigator": ("/staff/cases", "staff/cases.html"),
    "retaliation_officer": ("/staff/cases", "staff/cases.html"),
    "approver_investigator": ("/staff/rewards", "rewards/queue.html"),
}


@pytest.mark.parametrize("role", sorted(EXPECTED_START))
def test_each_role_lands_on_its_start_page(client: Any, world: dict[str, Any], role: str) -> None:
    """After the code step each role is sent to its own start page, which it may open."""
    location = landing(client, world["people"][role], world["clock"])[1]
    page = client.get(location)
    again = client.get("/staff", follow_redirects=False)

    path, template = EXPECTED_START[role]
    assert location == path
    assert page.status_code == 200
    assert page.template.name == template
    assert again.headers["location"] == path


def test_start_order_is_one_documented_table() -> None:
    """Several roles land on the first in START_PAGES; the table names every role once."""
    assert start_page(["investigator", "reward_approver"]) == "/staff/rewards"
    assert start_page(["finance", "custodian"]) == "/staff/rewards/payouts"
    assert start_page([]) == "/staff/cases"
    assert start_page(["analyst"]) == "/staff/statistics"
    assert start_page(["admin", "analyst"]) == "/admin"
    assert len({role for role, _path in START_PAGES}) == len(START_PAGES) == len(Role)


def test_not_allowed_page_keeps_staff_navigation_translated(
    client: Any, world: dict[str, Any]
) -> None:
    """A 403 on a staff page shows the staff navigation and is in the chosen language."""
    log_in(client, world["people"]["investigator"], world["clock"])
    client.get("/lang/zh-CN")

    refused = client.get("/staff/audit")

    assert refused.status_code == 403
    assert refused.template.name == "errors/error.html"
    assert refused.context["me"] is not None
    assert 'class="staff-nav"' in refused.text
    assert "不允许" in refused.text or "无权" in refused.text


def test_case_action_ends_with_translated_success_notice(
    client: Any, world: dict[str, Any]
) -> None:
    """A status change answers with ?done=<code>; the page shows that code's message only."""
    log_in(client, world["people"]["investigator"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"
    token = csrf(client, path)

    changed = client.post(
        f"{path}/transition",
        data={"csrf": token, "status": "acknowledged", "reason": "Read it"},
        follow_redirects=False,
    )
    shown = client.get(changed.headers["location"])
    forged = client.get(f"{path}?done=Send+your+password+to+evil")

    assert changed.headers["location"] == f"{path}?done=status"
    assert shown.context["done_notice"] == "The status was changed."
    assert "The status was changed." in shown.text
    assert forged.context["done_notice"] is None
    assert "evil" not in forged.text.split("<main", 1)[-1].split("</nav>", 1)[-1]


def test_reason_is_marked_required_and_colleague_not_preselected(
    client: Any, world: dict[str, Any]
) -> None:
    """The status reason carries a visible mark and aria-required; the assignee list starts
    with an empty placeholder, so no colleague is chosen by default."""
    log_in(client, world["people"]["investigator"], world["clock"])
    page = client.get(f"/staff/cases/{world['case'].id}")

    reason = re.search(r'<label for="reason">(.*?)</label>\s*<textarea([^>]*)>', page.text, re.S)
    assignee = re.search(r'<select id="staff_id"[^>]*>\s*<option value="">', page.text)
    assert reason is not None
    assert "required-mark" in reason.group(1)
    assert 'aria-required="true"' in reason.group(2)
    assert assignee is not None


def conclude(app_db: sessionmaker[Any], world: dict[str, Any]) -> str:
    """Concludes the case as substantiated; its reward page path."""
    clock, case_id = world["clock"], world["case"].id
    with unit_of_work(app_db) as db:
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        ana = world["people"]["investigator"].principal(db, clock)
        work.transition(ana, case_id, "acknowledged", "Received")
        work.transition(ana, case_id, "concluded", "Proven", "substantiated")
    return f"/staff/cases/{case_id}/reward"


def test_failed_reward_form_keeps_ticks_and_shows_every_error(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """A refused proposal keeps the ticked box and names the loss and amount problems together."""
    path = conclude(app_db, world)
    log_in(client, world["people"]["investigator"], world["clock"])
    token = csrf(client, path)

    bad = client.post(
        path,
        data={
            "csrf": token,
            "recovered_loss": "lots",
            "amount": "-5",
            "explanation": "",
            "exclusions": "checked",
            "step": "propose",
        },
    )
    unticked = client.post(
        path, data={"csrf": token, "recovered_loss": "x", "amount": "", "step": "propose"}
    )

    assert bad.status_code == 422
    assert bad.template.name == "rewards/propose.html"
    assert set(bad.context["errors"]) == {"recovered_loss", "amount"}
    assert re.search(r'id="exclusions"[^>]* checked', bad.text)
    assert set(unticked.context["errors"]) == {"recovered_loss", "exclusions"}


def test_policy_suggestion_shown_before_proposing(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """ "Show the suggestion" answers the form with the policy's amount and proposes nothing."""
    path = conclude(app_db, world)
    log_in(client, world["people"]["investigator"], world["clock"])
    token = csrf(client, path)

    shown = client.post(
        path, data={"csrf": token, "recovered_loss": "300000", "amount": "", "step": "suggest"}
    )
    with unit_of_work(app_db) as db:
        stored = db.scalar(select(func.count()).select_from(Reward))

    assert shown.status_code == 200
    assert shown.template.name == "rewards/propose.html"
    assert isinstance(shown.context["suggestion"], int)
    assert shown.context["suggestion"] > 0
    assert shown.context["values"]["recovered_loss"] == "300000"
    assert 'id="suggestion"' in shown.text
    assert stored == 0


def test_outbox_says_when_mail_is_off(client: Any, world: dict[str, Any], app: Any) -> None:
    """Without PORTAL_SMTP_URL the outbox says mail is off; with it, it does not."""
    log_in(client, world["people"]["admin"], world["clock"])

    off = client.get("/admin/outbox")
    app.state.settings = replace(app.state.settings, smtp_url=Secret(b"smtp://127.0.0.1:2525"))
    on = client.get("/admin/outbox")

    assert off.context["mail_on"] is False
    assert 'id="mail-off"' in off.text
    assert on.context["mail_on"] is True
    assert 'id="mail-off"' not in on.text


def test_audit_trail_in_zone_with_translated_actions(client: Any, world: dict[str, Any]) -> None:
    """The trail shows times in the organisation's zone and actions in the reader's language."""
    person = world["people"]["auditor"]
    log_in(client, person, world["clock"])
    client.get("/lang/zh-CN")

    page = client.get("/staff/audit")

    login = next(r for r in page.context["page"].rows if r.action == "staff.login")
    local = login.at.replace(tzinfo=UTC).astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")
    assert local in page.text
    assert "已登录" in page.text
    assert "时间（Asia/Shanghai）" in page.text


def test_sizes_and_amounts_follow_the_conventions() -> None:
    """Sizes read in B, KiB and MiB; amounts carry the currency and the locale's grouping."""
    from portal.templating import file_size, format_money

    assert [file_size(n) for n in (512, 2048, 3 * 1024 * 1024)] == ["512 B", "2.0 KiB", "3.0 MiB"]
    assert format_money(123456789, "CNY", locale="zh_CN") == "¥1,234,567.89"
    assert format_money(123456789, "CNY", locale="en") == "CN¥1,234,567.89"


def test_recovery_key_saves_as_a_file_and_is_not_an_echo(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """The setup page's key posts back as an attachment (no-store); other text is refused."""
    with unit_of_work(app_db) as db:
        db.execute(delete(StaffRole))
        db.execute(delete(StaffAccount))
    link = setup_link_if_needed(app.state.settings, app.state.engine)
    assert link is not None
    path = link.removeprefix(app.state.settings.base_url)
    token = csrf(client, path)
    body = {"email": "boss@example.com", "name": "Boss", "password": PASSWORD}
    done = client.post(path, data={"csrf": token, **body, "password_again": PASSWORD})
    text = done.context["recovery"]["text"]

    saved = client.post("/setup/recovery-key", data={"csrf": token, "key": text})
    echo = client.post("/setup/recovery-key", data={"csrf": token, "key": "<script>hi</script>"})

    assert 'action="/setup/recovery-key"' in done.text
    assert "data:text/plain" not in done.text
    assert saved.status_code == 200
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert saved.headers["cache-control"] == "no-store"
    assert crypto.import_recovery_key(saved.text).public_bytes == (
        crypto.import_recovery_key(text).public_bytes
    )
    assert echo.status_code == 422
    assert "<script>hi" not in echo.text


def test_people_named_once_on_the_case_page(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """A person named twice (spacing, case, an empty number) is one row on the case page."""
    with unit_of_work(app_db) as db:
        made = build_world(db, world["clock"])
        twice = [
            SubjectInput(name="Wang Wei"),
            SubjectInput(name=" wang  wei ", employee_id=""),
            SubjectInput(name="Li Na"),
        ]
        case_id = made.file(subjects=twice).case.id
    log_in(client, world["people"]["investigator"], world["clock"])

    page = client.get(f"/staff/cases/{case_id}")

    names = sorted(s["name"].strip().casefold() for s in page.context["view"].subjects)
    assert names == ["li na", "wang wei"]
