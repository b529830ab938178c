"""Every domain service method that acts for a staff member checks its own role rule.

Generated, like the authorization matrix: the methods are found by walking cases/ for public
methods taking a StaffPrincipal, and each must be declared in RULES with the roles it serves.
Each is then called as each single role with placeholder arguments: a role outside its rule is
refused with Forbidden before anything else happens (whatever the ids), and a role inside it is
never refused for its role. So a new method without a rule, or with its check after the work,
fails here, whichever path (web page, API, CLI, job) would call it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world, key_ring

import cases
from cases.access.disclosure import DisclosureService
from cases.access.protection import ProtectionService
from cases.access.redaction import RedactionService, Span
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.audit.trail import AuditTrail
from cases.casework.bulk import BulkWork
from cases.casework.export import CaseExport
from cases.casework.intake import RecordedIntake
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Forbidden
from cases.notify.service import NotifyConfig
from cases.org.admin import AdminConfig, AdminService
from cases.org.approvals import ApprovalService
from cases.org.claims import ClaimService
from cases.principals import StaffPrincipal
from cases.questionnaires.service import QuestionnaireService
from cases.reports.intake import IntakeConfig
from cases.reports.keys import KeyRing
from cases.reports.models import Case
from cases.retention import RetentionConfig, RetentionService
from cases.rewards.service import PolicyService, RewardConfig, RewardService
from cases.sessions.service import SessionPolicy, ThrottleRule
from cases.staff.login import LoginConfig, LoginService
from cases.staff.models import Role
from cases.staff.roles import CASE_READERS, IDENTITY_READERS, POLICY_ROLES
from cases.stats.service import StatisticsService
from cases.workflow.flood import FloodTriage
from cases.workflow.search import CaseSearch
from cases.workflow.second_reader import SecondReading
from cases.workflow.service import WorkflowConfig, WorkflowService
from cases.workflow.views import SavedViews

ALL = frozenset(str(r) for r in Role)
READERS = frozenset(str(r) for r in CASE_READERS)
IDENTITY = frozenset(str(r) for r in IDENTITY_READERS)
POLICY = frozenset(str(r) for r in POLICY_ROLES)
ADMIN = frozenset({"admin"})
AUDITOR = frozenset({"auditor"})
CUSTODIAN = frozenset({"custodian"})
INVESTIGATOR = frozenset({"investigator"})
APPROVER = frozenset({"reward_approver"})
FINANCE = frozenset({"finance"})
KEY_HOLDERS = ALL - {"admin", "auditor", "analyst"}
STATISTICS = frozenset({"analyst", "admin", "auditor"})

ADMIN_METHODS = (
    "accounts",
    "add_category",
    "awaiting_approval",
    "awaiting_enrolment",
    "add_member",
    "add_rule",
    "category",
    "channel",
    "channels",
    "create_account",
    "create_channel",
    "deactivate",
    "directory",
    "import_directory",
    "link_employee",
    "members",
    "missing_managers",
    "move_category",
    "outbox",
    "overview",
    "reactivate",
    "remove_member",
    "remove_rule",
    "reset_login",
    "reset_totp",
    "rules",
    "set_roles",
    "update_category",
    "update_account",
    "update_channel",
)

# Which single roles each method serves. ALL means the rule is elsewhere and says so:
# a key the caller must already hold, or the caller's own account.
RULES: dict[str, frozenset[str]] = {
    **{f"AdminService.{name}": ADMIN for name in ADMIN_METHODS},
    "AccessService.add_subject": READERS,
    "AccessService.confirm_subject": READERS,
    "AccessService.reject_subject": READERS,
    "AccessService.recuse": POLICY,
    # Key-holder approval: decided only by roles that hold keys, never admins or auditors.
    "ApprovalService.approve": KEY_HOLDERS,
    "ApprovalService.pending": KEY_HOLDERS,
    "ApprovalService.refuse": KEY_HOLDERS,
    # Asking for approval only withholds keys; whoever changed the account asks.
    "ApprovalService.request": ALL,
    # Directory claims (cases/org/claims.py): decided like approvals; recording one only
    # keeps people away, and its one caller (AdminService) checks the admin role.
    "ClaimService.confirm": KEY_HOLDERS,
    "ClaimService.pending": KEY_HOLDERS,
    "ClaimService.refuse": KEY_HOLDERS,
    "ClaimService.record": ALL,
    "AuditTrail.page": AUDITOR,
    # A channel's extra questions are configuration: admins only (docs/questionnaires.md).
    **{
        f"QuestionnaireService.{name}": ADMIN
        for name in ("add", "change", "channel", "delete", "move", "question", "replace_all")
    },
    "AuditTrail.verify": AUDITOR,
    "CaseExport.case_file": READERS,
    "CaseworkService.add_message": READERS,
    "CaseworkService.add_note": READERS,
    "CaseworkService.agree_second_reading": READERS,
    "CaseworkService.assign": READERS,
    "CaseworkService.candidates": READERS,
    "CaseworkService.case_key": READERS,
    "CaseworkService.download": READERS,
    "CaseworkService.evidence_key": READERS,
    "CaseworkService.link_evidence": READERS,
    "CaseworkService.page": POLICY,
    "CaseworkService.require_key": READERS,
    "CaseworkService.transition": READERS,
    "CaseworkService.unassign": READERS,
    "CaseworkService.view": READERS,
    "CaseworkService.summaries": POLICY,
    "CaseworkService.search": READERS,
    "CaseworkService.colleagues": POLICY,
    "CaseSearch.search": READERS,
    "BulkWork.run": READERS,
    "SavedViews.list": POLICY,
    "SavedViews.save": POLICY,
    "SavedViews.delete": POLICY,
    "CaseworkService.visible_case": POLICY,
    "DisclosureService.decide": CUSTODIAN,
    "DisclosureService.identity": IDENTITY,
    "DisclosureService.pending_for_custodian": CUSTODIAN,
    "DisclosureService.request": READERS,
    "DisclosureService.requests": IDENTITY,
    # The key ring: what a caller can open is what was wrapped for their own key pair.
    "FloodTriage.dismiss": READERS,
    "KeyRing.fulfil_as_staff": ALL,
    "KeyRing.open_for_staff": ALL,
    "KeyRing.open_all_for_staff": ALL,
    "KeyRing.open_to_read": ALL,
    "KeyRing.record_read": ALL,
    "KeyRing.pending_for_staff_holder": ALL,
    # One's own password and sessions.
    "LoginService.change_password": ALL,
    "LoginService.logout_everywhere": ALL,
    "PolicyService.save": ADMIN,
    "ProtectionService.add_measure": READERS,
    "ProtectionService.assess": READERS,
    "ProtectionService.complete_measure": READERS,
    "RecordedIntake.record": INVESTIGATOR,
    # Legal holds: an investigator who may open the case, or an admin by reference.
    "RetentionService.held_cases": ADMIN,
    "RetentionService.hold": READERS,
    "RetentionService.hold_by_reference": ADMIN,
    # Ending a hold: proposed by one, approved or refused by another (cases/retention/release.py).
    "RetentionService.propose_release": READERS,
    "RetentionService.propose_release_by_reference": ADMIN,
    "RetentionService.approve_release": READERS,
    "RetentionService.approve_release_by_reference": ADMIN,
    "RetentionService.refuse_release": READERS,
    "RetentionService.refuse_release_by_reference": ADMIN,
    "RedactionService.agree": READERS,
    "RedactionService.items": READERS,
    "RedactionService.mask": READERS,
    "RedactionService.records": READERS,
    "RedactionService.redact": READERS,
    "RedactionService.span_of": READERS,
    "RedactionService.unmask": READERS,
    "RewardService.decide": APPROVER,
    "RewardService.desk": FINANCE,
    # Rewards on a case: any role, but only on a case the policy shows them (404 otherwise).
    "RewardService.for_case": ALL,
    "RewardService.may_propose": ALL,
    "RewardService.pay": FINANCE,
    "RewardService.propose": INVESTIGATOR,
    "RewardService.suggestion": INVESTIGATOR,
    "RewardService.queue": APPROVER,
    "RewardService.view": ALL,
    "StatisticsService.answer": STATISTICS,
    "WorkflowService.transition": READERS,
    # Agreeing with one reader's unfounded ending (cases/workflow/second_reader.py).
    "SecondReading.agree": READERS,
}

Factory = Callable[[Session, FixedClock], object]


def _audit(db: Session, clock: FixedClock) -> AuditLog:
    return AuditLog(db, clock, SECRET)


FACTORIES: dict[type, Factory] = {
    AccessService: lambda db, clock: AccessService(db, clock, _audit(db, clock)),
    AdminService: lambda db, clock: AdminService(db, clock, AdminConfig(SECRET, PROFILE)),
    ApprovalService: lambda db, clock: ApprovalService(
        db, clock, _audit(db, clock), NotifyConfig("https://testserver", ZONE)
    ),
    AuditTrail: lambda db, clock: AuditTrail(db, clock, _audit(db, clock), ZONE),
    ClaimService: lambda db, clock: ClaimService(
        db, clock, _audit(db, clock), NotifyConfig("https://testserver", ZONE)
    ),
    CaseExport: lambda db, clock: CaseExport(
        db, clock, CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
    ),
    CaseworkService: lambda db, clock: CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET)),
    CaseSearch: lambda db, clock: CaseSearch(db),
    BulkWork: lambda db, clock: BulkWork(
        CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET)),
        FloodTriage(db, clock, SECRET, ZONE),
    ),
    SavedViews: lambda db, clock: SavedViews(db, clock),
    DisclosureService: lambda db, clock: DisclosureService(db, clock, _audit(db, clock), ZONE),
    FloodTriage: lambda db, clock: FloodTriage(db, clock, SECRET, ZONE),
    KeyRing: lambda db, clock: key_ring(db),
    LoginService: lambda db, clock: LoginService(
        db, clock, LoginConfig(SECRET, PROFILE, ThrottleRule(5, 60), SessionPolicy(60, 600))
    ),
    PolicyService: lambda db, clock: PolicyService(db, clock),
    QuestionnaireService: lambda db, clock: QuestionnaireService(db, _audit(db, clock)),
    ProtectionService: lambda db, clock: ProtectionService(db, clock, _audit(db, clock)),
    RecordedIntake: lambda db, clock: RecordedIntake(
        db, clock, IntakeConfig(ZONE, PROFILE, SECRET)
    ),
    RedactionService: lambda db, clock: RedactionService(db, clock, _audit(db, clock)),
    RetentionService: lambda db, clock: RetentionService(db, clock, RetentionConfig(ZONE, SECRET)),
    RewardService: lambda db, clock: RewardService(db, clock, RewardConfig(ZONE, SECRET)),
    StatisticsService: lambda db, clock: StatisticsService(db, clock, _audit(db, clock), ZONE),
    WorkflowService: lambda db, clock: WorkflowService(db, clock, WorkflowConfig(ZONE, SECRET)),
    SecondReading: lambda db, clock: SecondReading(db, _audit(db, clock)),
}


def principal_methods() -> dict[str, tuple[type, str]]:
    """Every public method in cases/ with a StaffPrincipal parameter, by Class.method."""
    found: dict[str, tuple[type, str]] = {}
    for info in pkgutil.walk_packages(cases.__path__, "cases."):
        module = importlib.import_module(info.name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or cls is StaffPrincipal:
                continue
            for name, function in inspect.getmembers(cls, inspect.isfunction):
                if not function.__module__.startswith("cases."):
                    continue  # inherited from a library (cases/db.py's SQLite compiler)
                hints = typing.get_type_hints(function)
                if not name.startswith("_") and StaffPrincipal in hints.values():
                    found[f"{cls_name}.{name}"] = (cls, name)
    return found


def placeholders(function: Any, me: StaffPrincipal, case: Case) -> dict[str, Any]:
    """An argument of the right shape for each parameter; ids name nothing that exists."""
    by_type: dict[Any, Any] = {
        StaffPrincipal: me,
        Case: case,
        str: "0" * 32,
        bytes: bytes(32),
        int: 0,
        bool: True,
        Span: Span(0, 1),
        list[str]: [],
    }
    hints = typing.get_type_hints(function)
    params = list(inspect.signature(function).parameters.values())[1:]
    return {p.name: by_type.get(hints.get(p.name)) for p in params}


def attempt(db: Session, call: Callable[[], object]) -> BaseException | None:
    """Run one call in a savepoint that is always rolled back: no call sees another's work."""
    nested = db.begin_nested()
    try:
        call()
    except Exception as problem:
        return problem
    finally:
        if nested.is_active:
            nested.rollback()
    return None


@pytest.fixture
def world(db_session: Session) -> World:
    made = build_world(db_session, FixedClock())
    for role in ALL:
        made.staff(f"{role}@corp.example", role)
    made.file()
    return made


def test_every_method_acting_for_staff_declares_its_role_rule() -> None:
    """A new service method taking a StaffPrincipal fails here until RULES names its roles."""
    found = principal_methods()

    assert sorted(set(found) - set(RULES)) == []
    assert sorted(set(RULES) - set(found)) == []
    assert {cls for cls, _name in found.values()} <= set(FACTORIES)


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_is_refused_exactly_where_the_rule_says(world: World, role: str) -> None:
    """Called as this role: Forbidden from every method whose rule excludes it, none otherwise."""
    db, clock = world.db, world.clock
    me = world.people[f"{role}@corp.example"].principal(db, clock)
    case = db.query(Case).one()
    wrong = []

    for key, (cls, name) in sorted(principal_methods().items()):
        method = getattr(FACTORIES[cls](db, clock), name)
        args = placeholders(getattr(cls, name), me, case)
        problem = attempt(db, functools.partial(method, **args))
        refused = isinstance(problem, Forbidden)
        if refused == (role in RULES[key]):
            wrong.append(f"{key}: {'refused' if refused else 'allowed'} ({problem!r})")

    assert wrong == []
