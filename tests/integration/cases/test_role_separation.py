"""Separation of duties in the domain: the forbidden pairs, refused for every way an account is
made or changed, and content work (masking, redaction) refused to roles that read no case."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.staff_world import PASSWORD, PROFILE, SECRET, ZONE, World, build_world, key_ring

from cases.access.redaction import RedactionService, Span
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Forbidden, Invalid
from cases.org.admin import AdminConfig, AdminService
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseItem
from cases.staff.models import StaffAccount
from cases.staff.roles import accounts_in_conflict, conflicts
from cases.staff.service import StaffService

REFUSED = [
    (("investigator", "custodian"), "reader_custodian"),
    (("retaliation_officer", "custodian"), "reader_custodian"),
    (("investigator", "finance"), "reader_finance"),
    (("retaliation_officer", "admin"), "reader_admin"),
    (("auditor", "admin"), "auditor_other"),
    (("auditor", "investigator"), "auditor_other"),
    (("auditor", "finance"), "auditor_other"),
    (("reward_approver", "finance"), "approver_finance"),
    (("admin", "custodian"), "admin_keyholder"),
    (("analyst", "investigator"), "analyst_keyholder"),
    (("analyst", "retaliation_officer"), "analyst_keyholder"),
    (("analyst", "custodian"), "analyst_keyholder"),
    (("analyst", "reward_approver"), "analyst_keyholder"),
    (("analyst", "finance"), "analyst_keyholder"),
    (("analyst", "auditor"), "auditor_other"),
]
ALLOWED = [
    ("investigator", "retaliation_officer"),
    ("investigator", "reward_approver"),
    ("custodian", "finance"),
    ("custodian", "reward_approver"),
    ("analyst", "admin"),
]


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(StaffAccount)) or 0)


@pytest.mark.parametrize(("roles", "code"), REFUSED)
def test_a_forbidden_pair_is_refused_when_an_account_is_made(
    db_session: Session, roles: tuple[str, str], code: str
) -> None:
    """StaffService.create (the CLI, the setup page, the admin page all use it) refuses the pair
    with the rule's code and writes nothing."""
    staff = StaffService(db_session, FixedClock(), server_secret=SECRET, profile=PROFILE)
    before = _count(db_session)

    with pytest.raises(Invalid) as refused:
        staff.create("pair@corp.example", PASSWORD, list(roles))

    assert refused.value.fields == {"roles": code}
    assert _count(db_session) == before


@pytest.mark.parametrize("roles", ALLOWED)
def test_an_allowed_pair_may_be_held(roles: tuple[str, str]) -> None:
    """The table forbids only what it names: these pairs break no rule."""
    assert conflicts(roles) == []


def test_an_admin_cannot_give_a_forbidden_pair(db_session: Session) -> None:
    """AdminService.set_roles and create_account (web pages and API) refuse investigator +
    custodian; the account keeps its roles."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@corp.example", "admin")
    ana = world.staff("ana@corp.example", "investigator")
    admin = AdminService(db_session, world.clock, AdminConfig(SECRET, PROFILE))
    me = boss.principal(db_session, world.clock)

    with pytest.raises(Invalid) as changed:
        admin.set_roles(me, ana.account.id, ["investigator", "custodian"])
    with pytest.raises(Invalid) as made:
        admin.create_account(me, "new@corp.example", ["auditor", "finance"])

    assert changed.value.fields == {"roles": "reader_custodian"}
    assert made.value.fields == {"roles": "auditor_other"}
    assert ana.account.role_names == {"investigator"}
    assert _count(db_session) == 2


def test_accounts_made_before_the_table_are_named(db_session: Session) -> None:
    """An existing account holding a forbidden pair is found (for the start-up warning and the
    admin banner); accounts that break no rule are not."""
    world = build_world(db_session, FixedClock())
    world.legacy_staff("both@corp.example", "investigator", "custodian")
    world.legacy_staff("pays@corp.example", "reward_approver", "finance")
    world.staff("fine@corp.example", "investigator", "reward_approver")

    found = accounts_in_conflict(db_session)

    assert [(f.email, f.codes) for f in found] == [
        ("both@corp.example", ("reader_custodian",)),
        ("pays@corp.example", ("approver_finance",)),
    ]


def _custodian_with_the_key(world: World) -> tuple[CaseItem, StaffPrincipal, Case, bytes]:
    db, clock = world.db, world.clock
    lead = world.staff("lead@corp.example", "investigator")
    custodian = world.staff("cus@corp.example", "custodian")
    filed = world.file()
    work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
    me = lead.principal(db, clock)
    key = work.require_key(me, filed.case)
    note = work.add_note(me, filed.case.id, "Call Wang Wei on 8123")
    # The strongest case: a custodian who somehow holds the case key is still refused.
    key_ring(db).wrap_for_staff(filed.case.id, CASE, key, custodian.account)
    return note, custodian.principal(db, clock), filed.case, key


def test_redaction_and_masking_by_a_non_reader_are_refused(db_session: Session) -> None:
    """A custodian holding the case key can neither redact nor mask: Forbidden, text intact."""
    world = build_world(db_session, FixedClock())
    note, custodian, case, key = _custodian_with_the_key(world)
    body = note.body
    redaction = RedactionService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    with pytest.raises(Forbidden):
        redaction.redact(custodian, case, key, note.id, Span(0, 4))
    with pytest.raises(Forbidden):
        redaction.mask(custodian, case, key, note.id, Span(0, 4))
    with pytest.raises(Forbidden):
        redaction.items(custodian, case, key)

    assert note.body == body
    assert note.redacted is False
