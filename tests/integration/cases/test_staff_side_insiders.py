"""Insiders on the staff side: an asker moved to finance, an auditor reading a link beside the
keys it removed. Each test failed before its fix."""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, build_world

from cases.access.disclosure import DisclosureService
from cases.access.eligibility import may_hold
from cases.audit.service import AuditLog
from cases.audit.trail import AuditTrail, TrailFilters
from cases.clock import FixedClock
from cases.errors import CaseError
from cases.notify.service import NotifyConfig
from cases.org.admin import AdminConfig, AdminService
from cases.org.approvals import ApprovalService
from cases.reports.intake import IdentityInput, SubjectInput
from cases.reports.keys import IDENTITY
from cases.reports.models import KeyWrap
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import KeyApproval


def test_an_asker_moved_to_finance_is_not_given_the_identity_key(db_session: Session) -> None:
    """An investigator who asked, then became finance only, never receives the identity key."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@example.com", "admin").principal(db_session, world.clock)
    ana = world.staff("ana@example.com", "investigator")
    bo = world.staff("bo@example.com", "investigator")
    cora = world.staff("cora@example.com", "custodian")
    case = world.file(identity=IdentityInput("Li Hua", "li.hua@example.com")).case
    audit = AuditLog(db_session, world.clock, SECRET)
    disclosure = DisclosureService(db_session, world.clock, audit, ZONE)
    asked = disclosure.request(ana.principal(db_session, world.clock), case, "Interview")
    config = AdminConfig(SECRET, PROFILE, "https://x", ZONE)
    AdminService(db_session, world.clock, config).set_roles(boss, ana.account.id, ["finance"])
    row = db_session.scalars(
        select(KeyApproval).where(
            KeyApproval.staff_id == ana.account.id, KeyApproval.status == "pending"
        )
    ).one()
    approvals = ApprovalService(db_session, world.clock, audit, NotifyConfig("https://x", ZONE))
    approvals.approve(bo.principal(db_session, world.clock), row.id)

    # A refusal (Conflict) is what must happen; the key is what counts either way.
    with contextlib.suppress(CaseError):
        disclosure.decide(
            cora.principal(db_session, world.clock), asked.id, approve=True, reason="Agreed"
        )

    assert not may_hold(db_session, ana.account, case, IDENTITY)
    held = select(KeyWrap.key_kind).where(
        KeyWrap.staff_id == ana.account.id, KeyWrap.case_id == case.id
    )
    assert IDENTITY not in list(db_session.scalars(held))


def test_the_trail_does_not_tie_a_linked_account_to_the_case_it_lost(db_session: Session) -> None:
    """An auditor cannot read, from the entries of one link, which case names the linked person."""
    world = build_world(db_session, FixedClock())
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [
            Row("D1", "Director", "director@corp.example", "Sales", ""),
            Row("E3", "Zhang Wei", "zhang.wei@corp.example", "Sales", "D1"),
        ]
    )
    second = world.staff("second.mailbox@corp.example", "investigator")
    world.staff("neutral@corp.example", "investigator")
    case = world.file(subjects=[SubjectInput(name="X", employee_id="E3")]).case
    boss = world.staff("admin@corp.example", "admin").principal(db_session, world.clock)
    auditor = world.staff("auditor@corp.example", "auditor").principal(db_session, world.clock)
    AdminService(db_session, world.clock, AdminConfig(SECRET, PROFILE)).link_employee(
        boss, second.account.id, "D1"
    )

    audit = AuditLog(db_session, world.clock, SECRET)
    rows = AuditTrail(db_session, world.clock, audit, ZONE).page(auditor, TrailFilters()).rows
    linked = next(r for r in rows if r.action == "admin.staff_linked")
    assert linked.detail["target"] == second.account.id
    same_change = [r for r in rows if r.seq > linked.seq and r.action == "access.revoked"]
    assert case.id not in {r.case_id for r in same_change}
