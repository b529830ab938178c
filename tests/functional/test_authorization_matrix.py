"""The authorization matrix, generated from the route table: case endpoint × role × relationship.

Precedence (portal/routes/access.py): a role that may never use an endpoint gets 403 whatever the
case id, so the answer says nothing about any case; otherwise a case the caller may not see is 404
and is absent from their list and count; otherwise the endpoint answers as it would for anyone
allowed (2xx, a redirect, or a 409/422 about the request itself). A new route with a case id in
its path fails this test until it is declared in ROUTE_ROLES.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from starlette.routing import Route
from starlette.testclient import TestClient
from support.db import TEST_SECRET
from support.evidence import staff_upload
from support.staff_world import SECRET, ZONE, Person, World, build_world, key_ring

import crypto
from cases.access.protection import ProtectionService
from cases.access.redaction import RedactionService, Span
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import session_factory, unit_of_work
from cases.notify.service import NotifyConfig
from cases.org.approvals import ApprovalService
from cases.org.models import ChannelMember
from cases.reports.intake import IdentityInput, SubjectInput
from cases.reports.keys import CASE, wrap_context
from cases.reports.models import Case, CaseExclusion, CaseSubject, KeyWrap
from cases.retention.models import HoldRelease
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import KeyApproval, Role, StaffAccount
from cases.staff.roles import CASE_READERS, IDENTITY_READERS, POLICY_ROLES, conflicts

SINGLE = tuple(str(r) for r in Role)
# Every pair of roles the separation-of-duties table allows, as one account holding both
# ("investigator+reward_approver"): what each may do is the union of its roles' rights.
COMBOS = tuple("+".join(pair) for pair in combinations(sorted(SINGLE), 2) if not conflicts(pair))
ROLES = SINGLE + COMBOS
# Forbidden pairs: no account holds one, so the matrix proves they cannot be made.
FORBIDDEN_PAIRS = tuple(pair for pair in combinations(sorted(SINGLE), 2) if conflicts(pair))
# "pending": on the team (and even assigned) but an admin's change to the account awaits a key
# holder's approval, so no key reaches it (cases/org/approvals.py).
RELATIONS = (
    "assignee",
    "subject",
    "manager",
    "reporter_excluded",
    "recused",
    "pending",
    "unrelated",
)
# A pair of roles adds nothing to how the policy hides a case; three relations keep it quick.
COMBO_RELATIONS = ("assignee", "manager", "unrelated")
READERS = frozenset(str(r) for r in CASE_READERS)
WORKERS = READERS
IDENTITY = frozenset(str(r) for r in IDENTITY_READERS)
POLICY = frozenset(str(r) for r in POLICY_ROLES)

# Which roles may use each case endpoint at all (method, path) -> roles.
ROUTE_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/cases/{case_id}"): READERS,
    ("POST", "/api/v1/cases/{case_id}/messages"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/notes"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/transition"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/attachments/{file_id}"): READERS,
    # Case files: whoever may read the case (masks applied; identity only if disclosed).
    ("GET", "/api/v1/cases/{case_id}/export.pdf"): READERS,
    ("GET", "/api/v1/cases/{case_id}/export.zip"): READERS,
    ("GET", "/staff/cases/{case_id}/export.pdf"): READERS,
    ("GET", "/staff/cases/{case_id}/export.zip"): READERS,
    ("GET", "/api/v1/cases/{case_id}/subjects"): READERS,
    ("POST", "/api/v1/cases/{case_id}/subjects"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/subjects/{subject_id}/confirm"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/subjects/{subject_id}/reject"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/disclosures"): IDENTITY,
    ("POST", "/api/v1/cases/{case_id}/disclosures"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/identity"): IDENTITY,
    ("GET", "/api/v1/cases/{case_id}/protection"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/risk"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/measures"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/measures/{measure_id}/done"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/items"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/items/{item_id}/masks"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/masks/{mask_id}/remove"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/masks/{mask_id}/agree"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/items/{item_id}/redact"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/recusal"): POLICY,
    ("GET", "/staff/cases/{case_id}"): READERS,
    ("POST", "/staff/cases/{case_id}/messages"): WORKERS,
    ("POST", "/staff/cases/{case_id}/notes"): WORKERS,
    ("POST", "/staff/cases/{case_id}/transition"): WORKERS,
    ("POST", "/staff/cases/{case_id}/assign"): WORKERS,
    ("POST", "/staff/cases/{case_id}/unassign"): WORKERS,
    ("POST", "/staff/cases/{case_id}/evidence"): WORKERS,
    ("GET", "/staff/cases/{case_id}/files/{file_id}"): READERS,
    ("GET", "/staff/cases/{case_id}/access"): READERS,
    ("GET", "/staff/cases/{case_id}/identity"): IDENTITY,
    ("POST", "/staff/cases/{case_id}/subjects"): WORKERS,
    ("POST", "/staff/cases/{case_id}/subjects/{subject_id}/confirm"): WORKERS,
    ("POST", "/staff/cases/{case_id}/subjects/{subject_id}/reject"): WORKERS,
    ("POST", "/staff/cases/{case_id}/disclosures"): WORKERS,
    ("POST", "/staff/cases/{case_id}/risk"): WORKERS,
    ("POST", "/staff/cases/{case_id}/measures"): WORKERS,
    ("POST", "/staff/cases/{case_id}/measures/{measure_id}/done"): WORKERS,
    ("POST", "/staff/cases/{case_id}/items/{item_id}/masks"): WORKERS,
    ("POST", "/staff/cases/{case_id}/masks/{mask_id}/remove"): WORKERS,
    ("POST", "/staff/cases/{case_id}/masks/{mask_id}/agree"): WORKERS,
    ("POST", "/staff/cases/{case_id}/items/{item_id}/redact"): WORKERS,
    ("POST", "/staff/cases/{case_id}/recuse"): POLICY,
    ("POST", "/api/v1/cases/{case_id}/hold"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/hold/release"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/hold/release/approve"): WORKERS,
    ("POST", "/api/v1/cases/{case_id}/hold/release/refuse"): WORKERS,
    ("POST", "/staff/cases/{case_id}/hold"): WORKERS,
    ("POST", "/staff/cases/{case_id}/hold/release"): WORKERS,
    ("POST", "/staff/cases/{case_id}/hold/release/approve"): WORKERS,
    ("POST", "/staff/cases/{case_id}/hold/release/refuse"): WORKERS,
    # Nothing waits for a second reader on the matrix case: an allowed caller gets 409.
    ("POST", "/api/v1/cases/{case_id}/second-reading"): WORKERS,
    ("POST", "/staff/cases/{case_id}/second-reading"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/rewards"): frozenset(SINGLE),
    ("POST", "/api/v1/cases/{case_id}/rewards"): frozenset({"investigator"}),
    ("GET", "/staff/cases/{case_id}/reward"): frozenset(SINGLE),
    ("POST", "/staff/cases/{case_id}/reward"): frozenset({"investigator"}),
}
# Account and approval routes (no case id): the roles that may use them at all; everyone
# else gets 403 whatever the id. Keys are approved only by roles that hold keys.
KEY_HOLDERS = frozenset(r for r in ROLES if set(r.split("+")) & POLICY)
ACCOUNT_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/admin/accounts"): frozenset({"admin"}),
    ("GET", "/api/v1/admin/holds"): frozenset({"admin"}),
    ("POST", "/api/v1/admin/holds"): frozenset({"admin"}),
    ("POST", "/api/v1/admin/holds/release"): frozenset({"admin"}),
    ("POST", "/api/v1/admin/holds/release/approve"): frozenset({"admin"}),
    ("POST", "/api/v1/admin/holds/release/refuse"): frozenset({"admin"}),
    ("PATCH", "/api/v1/admin/accounts/{staff_id}"): frozenset({"admin"}),
    ("GET", "/api/v1/admin/channels/{channel_id}/questionnaire"): frozenset({"admin"}),
    ("PUT", "/api/v1/admin/channels/{channel_id}/questionnaire"): frozenset({"admin"}),
    ("GET", "/api/v1/staff/approvals"): KEY_HOLDERS,
    ("POST", "/api/v1/staff/approvals/{approval_id}/approve"): KEY_HOLDERS,
    ("POST", "/api/v1/staff/approvals/{approval_id}/refuse"): KEY_HOLDERS,
    ("GET", "/staff/approvals"): KEY_HOLDERS,
    ("POST", "/staff/approvals/{approval_id}"): KEY_HOLDERS,
    ("GET", "/api/v1/staff/directory-claims"): KEY_HOLDERS,
    ("POST", "/api/v1/staff/directory-claims/{claim_id}/confirm"): KEY_HOLDERS,
    ("POST", "/api/v1/staff/directory-claims/{claim_id}/refuse"): KEY_HOLDERS,
    ("POST", "/staff/approvals/claims/{claim_id}"): KEY_HOLDERS,
}
# Statistics routes (no case id): counts of clear metadata for analysts, admins and auditors.
STATISTICS = frozenset(r for r in ROLES if set(r.split("+")) & {"analyst", "admin", "auditor"})
STATISTICS_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/statistics"): STATISTICS,
    ("GET", "/api/v1/audit/statistics"): STATISTICS,
    ("GET", "/staff/statistics"): STATISTICS,
    ("GET", "/staff/statistics/annual"): STATISTICS,
    ("GET", "/staff/statistics/{table}.csv"): STATISTICS,
    # The auditors' former address only redirects to /staff/statistics, which decides.
    ("GET", "/staff/audit/statistics"): frozenset(ROLES),
}
# Routes that take case ids in their body (bulk actions), declared and called like the rest:
# the matrix case is not flood-marked, so an allowed dismissal is a 409 that changes nothing.
BODY_CASE_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/flood/dismissals"): WORKERS,
    ("POST", "/staff/flood/dismiss"): WORKERS,
    ("POST", "/api/v1/cases/bulk"): WORKERS,
    ("POST", "/staff/cases/bulk"): WORKERS,
}
ROUTE_ROLES.update(BODY_CASE_ROUTES)
# Routes that check the case before the role: a hidden case is 404 for every role there.
VISIBILITY_FIRST = {("POST", "/staff/cases/{case_id}/reward")}
# Bodies that pass every check before the access checks; none changes who may see the case.
JSON_BODIES: dict[str, dict[str, Any]] = {
    "messages": {"body": "matrix"},
    "notes": {"body": "matrix"},
    "transition": {"status": "closed", "reason": "not allowed from new: 409"},
    "subjects": {"name": "Nobody In The Directory"},
    "disclosures": {"reason": "To arrange protection"},
    "risk": {"likelihood": "low", "who": "", "measures": ""},
    "measures": {"description": "Check in", "follow_up_on": "2026-04-01"},
    "masks": {"start": 0, "end": 4},
    "redact": {"start": 0, "end": 1},
    "rewards": {"recovered_loss": "1000", "exclusions_checked": True},
    "hold": {"reason": "Court proceedings"},
    "bulk": {"action": "transition", "status": "closed", "reason": "not allowed from new: 409"},
}
FORM_BODIES: dict[str, dict[str, str]] = {
    "messages": {"body": "matrix"},
    "notes": {"note": "matrix"},
    "transition": {"status": "closed", "reason": "409"},
    "subjects": {"name": "Nobody In The Directory"},
    "disclosures": {"reason": "To arrange protection"},
    "risk": {"likelihood": "low"},
    "measures": {"description": "Check in", "follow_up_on": "2026-04-01"},
    "masks": {"text": "Note"},
    "redact": {"text": "N"},
    "reward": {"recovered_loss": "1000", "exclusions_checked": "1"},
    "hold": {"reason": "Court proceedings"},
    "bulk": {"action": "transition", "status": "closed", "reason": "409"},
}
RECUSAL = re.compile(r"/(recusal|recuse)$")


@dataclass
class Account:
    role: str
    relation: str
    person: Person
    token: str = ""
    csrf: tuple[str, str] = ("", "")
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self.role.split("+"))


@dataclass
class Matrix:
    client: TestClient
    case_id: str
    reference: str
    accounts: dict[tuple[str, str], Account]
    engine: Engine


def relations(role: str) -> tuple[str, ...]:
    return COMBO_RELATIONS if "+" in role else RELATIONS


def case_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the app whose path carries a case id, under /staff or /api/v1."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        body_case = any(path == route.path for _method, path in BODY_CASE_ROUTES)
        if "{case_id}" not in route.path and not body_case:
            continue
        if not route.path.startswith(("/staff/", "/api/v1/")):
            continue
        found += [(m, route.path) for m in sorted(route.methods or ()) if m in {"GET", "POST"}]
    return sorted(found, key=lambda mp: (bool(RECUSAL.search(mp[1])), mp[1], mp[0]))


def expected(route: tuple[str, str], account: Account) -> str:
    # Admins and auditors hold no key of a case: "assignee" is only a name for them.
    visible = account.relation == "assignee" and bool(account.held & POLICY)
    if route in VISIBILITY_FIRST and not visible:
        return "hidden"
    if not account.held & ROUTE_ROLES[route]:
        return "forbidden"
    return "allowed" if visible else "hidden"


def outcome(status: int) -> str:
    if status == 403:
        return "forbidden"
    if status == 404:
        return "hidden"
    return "allowed" if status < 400 or status in {409, 422} else f"unexpected {status}"


# --- the world, built once for the module through the domain --------------------------------


def build(db: Any, clock: FixedClock) -> tuple[World, dict[tuple[str, str], Account], Person]:
    world = build_world(db, clock)
    directory = []
    for role in ROLES:
        directory += [
            Row(f"E-{role}-{rel}", f"{role} {rel}", f"{role}-{rel}@example.com", "Sales", "")
            for rel in relations(role)
            if rel != "subject"
        ]
        directory.append(
            Row(f"E-{role}-subject", f"{role} subject", "", "Sales", f"E-{role}-manager")
        )
    DirectoryService(db, clock, SECRET).import_rows(directory)
    lead = world.staff("lead@example.com", "investigator")
    accounts = {
        (role, rel): Account(
            role,
            rel,
            world.staff(
                f"{role}-{rel}@example.com", *role.split("+"), employee_id=f"E-{role}-{rel}"
            ),
        )
        for role in ROLES
        for rel in relations(role)
    }
    team = [lead] + [a.person for a in accounts.values() if a.relation != "unrelated"]
    for person in team:
        db.add(ChannelMember(channel_id=world.channel.id, staff_id=person.account.id))
    db.flush()
    return world, accounts, lead


def arrange(
    db: Any, clock: FixedClock, world: World, accounts: dict[Any, Account], lead: Person
) -> Any:
    admin = accounts[("admin", "unrelated")].person.principal(db, clock)
    approvals = ApprovalService(
        db, clock, AuditLog(db, clock, SECRET), NotifyConfig("https://testserver", ZONE)
    )
    for account in accounts.values():
        if account.relation == "pending":
            approvals.request(admin, account.person.account, "team_joined", world.channel.id)
    filed = world.file(
        subjects=[SubjectInput(name=f"{r} subject", employee_id=f"E-{r}-subject") for r in ROLES],
        exclude=[
            a.person.account.id
            for a in accounts.values()
            if a.relation == "reporter_excluded" and a.held == {"investigator"}
        ],
        identity=IdentityInput(name="Li Hua", contact="li.hua@example.com"),
    )
    case = filed.case
    for account in accounts.values():
        if account.relation == "pending":
            assert not key_ring(db).holds(case.id, CASE, account.person.account.id)
    # The form offers only the people a report is routed to (investigators); the policy
    # honours an exclusion of anyone, so the other roles' exclusions are written directly.
    for account in accounts.values():
        if account.relation == "reporter_excluded" and account.held != {"investigator"}:
            db.add(
                CaseExclusion(
                    case_id=case.id, staff_id=account.person.account.id, reason="reporter"
                )
            )
    db.flush()
    audit = AuditLog(db, clock, SECRET)
    work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
    me = lead.principal(db, clock)
    key = work.require_key(me, case)
    shared = {
        "subject_id": db.scalars(
            select(CaseSubject.id).where(CaseSubject.case_id == case.id)
        ).first(),
        "measure_id": ProtectionService(db, clock, audit)
        .add_measure(me, case, key, description="Check in", follow_up_on=clock.now().date())
        .id,
    }
    lead_note = work.add_note(me, case.id, "Note by the lead").id
    shared["item_id"] = lead_note
    shared["mask_id"] = (
        RedactionService(db, clock, audit).mask(me, case, key, lead_note, Span(0, 4)).id
    )
    for account in accounts.values():
        account.ids = dict(shared)
        if account.relation in {"assignee", "pending"} and account.held & WORKERS:
            # A pending account is assigned too: assignment alone must not give it the key.
            work.assign(me, case.id, account.person.account.id)
        elif account.relation == "assignee" and account.held & POLICY:
            # Only case readers are assigned; the other roles the policy covers are made key
            # holders directly, so the matrix proves their role, not a missing key, refuses them.
            key_ring(db).wrap_for_staff(case.id, CASE, key, account.person.account)
        if account.relation == "recused" and account.held & POLICY:
            AccessService(db, clock, audit).recuse(account.person.principal(db, clock), case)
        elif account.relation == "recused":
            # Admins and auditors may not recuse (no case reaches them): the row alone.
            db.add(
                CaseExclusion(case_id=case.id, staff_id=account.person.account.id, reason="recused")
            )
        if account.relation == "assignee" and account.held & WORKERS:
            own = account.person.principal(db, clock)
            note = work.add_note(own, case.id, "Note for masking").id
            account.ids["item_id"] = note
            account.ids["mask_id"] = (
                RedactionService(db, clock, audit).mask(own, case, key, note, Span(0, 4)).id
            )
    return case


@pytest.fixture(scope="module")
def matrix(
    engine: Engine, _seeded_tables: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    from portal.app import create_app
    from portal.settings import Limits, Settings

    clock = FixedClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world, accounts, lead = build(db, clock)
        case = arrange(db, clock, world, accounts, lead)
        case_id, reference = case.id, case.reference
    settings = Settings.for_tests(
        tmp_path_factory.mktemp("matrix"),
        str(engine.url.render_as_string(hide_password=False)),
        # Logging in every account 30 s apart takes longer than the default idle timeout.
        limits=Limits(staff_session_idle=12 * 3600),
    )
    app = create_app(settings, engine=engine)
    app.state.clock = clock
    try:
        with TestClient(app, base_url="https://testserver") as client:
            # The lead's file goes in through the staff evidence form, as any upload does.
            file_id = staff_upload(app, lead, clock, case_id, "a.txt", b"hi", "text/plain")
            for account in accounts.values():
                account.ids["file_id"] = file_id
                log_in(client, account, clock)
            yield Matrix(client, case_id, reference, accounts, engine)
    finally:
        _seeded_tables.restore(engine)


def log_in(client: TestClient, account: Account, clock: FixedClock) -> None:
    person = account.person
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    account.token = answer.json()["token"]
    client.cookies.clear()
    page = client.get("/staff/account", headers={"Cookie": f"__Host-staff={account.token}"})
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None, page.status_code
    account.csrf = (client.cookies["__Host-csrf"], token.group(1))
    client.cookies.clear()


def call(client: TestClient, m: Matrix, account: Account, route: tuple[str, str]) -> int:
    method, template = route
    params = {"case_id": m.case_id, **account.ids}
    if "{mask_id}" in template and expected(route, account) == "allowed":
        params["mask_id"] = fresh_mask(client, m, account)
    if template.endswith("/hold/release/approve") and expected(route, account) == "allowed":
        proposed_by_someone_else(m)
    path = re.sub(r"\{(\w+)\}", lambda g: params[g.group(1)], template)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    client.cookies.clear()
    if template.startswith("/api/"):
        headers = {"Authorization": f"Bearer {account.token}"}
        body = JSON_BODIES.get(last, {}) if method == "POST" else None
        if route in BODY_CASE_ROUTES:
            body = {**JSON_BODIES.get(last, {}), "cases": [m.case_id]}
        return client.request(method, path, headers=headers, json=body).status_code
    cookie, token = account.csrf
    headers = {"Cookie": f"__Host-staff={account.token}; __Host-csrf={cookie}"}
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False).status_code
    if last == "evidence":
        files: list[tuple[str, Any]] = [
            ("csrf", (None, token)),
            ("file", ("e.txt", b"evidence", "text/plain")),
        ]
        return client.post(path, headers=headers, files=files, follow_redirects=False).status_code
    form = {"csrf": token, "staff_id": account.person.account.id, **FORM_BODIES.get(last, {})}
    if route in BODY_CASE_ROUTES:
        form["case"] = m.case_id
    return client.post(path, headers=headers, data=form, follow_redirects=False).status_code


def fresh_mask(client: TestClient, m: Matrix, account: Account) -> str:
    """A mask of this account's own: an earlier call may have lifted or redacted the last one."""
    client.cookies.clear()
    path = f"/api/v1/cases/{m.case_id}/items/{account.ids['item_id']}/masks"
    headers = {"Authorization": f"Bearer {account.token}"}
    answer = client.post(path, headers=headers, json={"start": 0, "end": 4})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def proposed_by_someone_else(m: Matrix) -> None:
    """The case held, its release proposed by someone else: the caller proposed the one before
    (the route before this one), and nobody approves their own proposal."""
    with m.engine.begin() as conn:
        conn.execute(delete(HoldRelease).where(HoldRelease.case_id == m.case_id))
        conn.execute(
            update(Case)
            .where(Case.id == m.case_id)
            .values(hold_reason="matrix", hold_at=datetime(2026, 1, 1))
        )
        conn.execute(
            insert(HoldRelease).values(
                id="f" * 32,
                case_id=m.case_id,
                proposed_by="e" * 32,
                # Ahead of the matrix's clock: it cannot expire during the run.
                proposed_at=datetime(2100, 1, 1),
                status="pending",
            )
        )


def listed(client: TestClient, account: Account) -> tuple[int, list[str], int | None]:
    client.cookies.clear()
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {account.token}"})
    if answer.status_code != 200:
        return answer.status_code, [], None
    data = answer.json()
    return 200, [item["id"] for item in data["items"]], data["total"]


# --- the tests ------------------------------------------------------------------------------


def test_every_case_route_is_declared(matrix: Matrix) -> None:
    """Each route with a case id has a declared answer, so none escapes the matrix."""
    routes = case_routes(matrix.client.app)

    undeclared = [route for route in routes if route not in ROUTE_ROLES]

    assert len(routes) >= 30
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_each_relationship_gets_exactly_the_allowed_answer(matrix: Matrix, role: str) -> None:
    """Role × relationship × case route: 403 for a role never allowed, else 404 unless assigned."""
    routes = case_routes(matrix.client.app)
    wrong = []

    for relation in relations(role):
        account = matrix.accounts[(role, relation)]
        for route in routes:
            want, got = (
                expected(route, account),
                outcome(call(matrix.client, matrix, account, route)),
            )
            if want != got:
                wrong.append(f"{relation} {route[0]} {route[1]}: expected {want}, got {got}")
            if RECUSAL.search(route[1]) and got == "allowed":
                account.relation = "recused"

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_case_is_in_no_list_or_count(matrix: Matrix, role: str) -> None:
    """GET /api/v1/cases: only assignees list and count the case; admins and auditors get 403."""
    answers = {rel: listed(matrix.client, matrix.accounts[(role, rel)]) for rel in relations(role)}

    for relation, (status, ids, total) in answers.items():
        if not matrix.accounts[(role, relation)].held & POLICY:
            assert status == 403, relation
            continue
        visible = matrix.accounts[(role, relation)].relation == "assignee"
        assert (matrix.case_id in ids) is visible, relation
        assert total == len(ids), relation


def test_excluded_staff_hold_no_key_that_opens_the_case(matrix: Matrix) -> None:
    """Every key-wrap row of the case tried with each excluded person's private key: none opens."""
    factory = session_factory(matrix.engine, TEST_SECRET)
    clock = FixedClock()

    with unit_of_work(factory) as db:
        wraps = list(db.scalars(select(KeyWrap).where(KeyWrap.case_id == matrix.case_id)))
        opened = []
        for (role, relation), account in matrix.accounts.items():
            if relation in {"assignee", "unrelated"}:
                continue
            private = account.person.principal(db, clock).private_key
            opened += [(role, relation, w.holder) for w in wraps if opens(private, w)]

    assert len(wraps) > 3
    assert opened == []


def opens(private_key: bytes, wrap: KeyWrap) -> bool:
    context = wrap_context(wrap.case_id, wrap.key_kind, wrap.holder)
    try:
        crypto.unwrap(private_key, wrap.wrapped, context)
    except crypto.CryptoError:
        return False
    return True


def test_no_account_can_be_given_a_forbidden_pair_of_roles(matrix: Matrix) -> None:
    """Every pair the separation-of-duties table forbids: the admin page refuses it (422) and
    the account keeps its roles, so the combinations above are the only ones that exist."""
    admin, target = (
        matrix.accounts[("admin", "unrelated")],
        matrix.accounts[("finance", "unrelated")],
    )
    cookie, token = admin.csrf
    headers = {"Cookie": f"__Host-staff={admin.token}; __Host-csrf={cookie}"}
    path = f"/admin/staff/{target.person.account.id}/roles"

    answers = {}
    for pair in FORBIDDEN_PAIRS:
        matrix.client.cookies.clear()
        form = {"csrf": token, "roles": list(pair)}
        answers[pair] = matrix.client.post(path, headers=headers, data=form).status_code
    with unit_of_work(session_factory(matrix.engine)) as db:
        roles = db.get(StaffAccount, target.person.account.id).role_names  # type: ignore[union-attr]

    assert len(FORBIDDEN_PAIRS) >= 10
    assert set(answers.values()) == {422}
    assert roles == {"finance"}


def account_routes(app: Any) -> list[tuple[str, str]]:
    """Every route that makes accounts or decides approvals (directory claims among them)."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        path = route.path
        if path.startswith("/api/v1/admin/") or "/approvals" in path or "-claims" in path:
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return sorted(found)


def call_account_route(client: TestClient, account: Account, route: tuple[str, str]) -> int:
    method, template = route
    path = re.sub(r"\{(\w+)\}", "missing", template)
    client.cookies.clear()
    if template.startswith("/api/"):
        headers = {"Authorization": f"Bearer {account.token}"}
        body = {} if method in {"POST", "PATCH"} else None
        return client.request(method, path, headers=headers, json=body).status_code
    cookie, token = account.csrf
    headers = {"Cookie": f"__Host-staff={account.token}; __Host-csrf={cookie}"}
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False).status_code
    form = {"csrf": token, "do": "approve"}
    return client.post(path, headers=headers, data=form, follow_redirects=False).status_code


def test_every_account_route_is_declared(matrix: Matrix) -> None:
    """Each route that makes accounts or decides approvals has a declared rule."""
    routes = account_routes(matrix.client.app)

    assert sorted(ACCOUNT_ROUTES) == routes


@pytest.mark.parametrize("role", ROLES)
def test_account_routes_answer_403_to_roles_never_allowed(matrix: Matrix, role: str) -> None:
    """Account routes: 403 for a role never allowed; otherwise the request itself is judged."""
    account = matrix.accounts[(role, "unrelated")]
    wrong = []

    for route, allowed in ACCOUNT_ROUTES.items():
        status = call_account_route(matrix.client, account, route)
        # A pair holding an allowed single role (admin+analyst) is allowed as that role is.
        if (status == 403) == (role in allowed or bool(account.held & allowed)):
            wrong.append(f"{route[0]} {route[1]}: {status}")

    assert not wrong, "\n".join(wrong)


def statistics_routes(app: Any) -> list[tuple[str, str]]:
    """Every route under a statistics path."""
    found = []
    for route in app.routes:
        if isinstance(route, Route) and "statistics" in route.path:
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return sorted(found)


def test_every_statistics_route_is_declared(matrix: Matrix) -> None:
    """Each statistics route has a declared rule."""
    routes = statistics_routes(matrix.client.app)

    assert sorted(STATISTICS_ROUTES) == routes


@pytest.mark.parametrize("role", ROLES)
def test_statistics_routes_answer_403_to_roles_never_allowed(matrix: Matrix, role: str) -> None:
    """Statistics: 403 for every role but analyst, admin and auditor; never 403 for those."""
    account = matrix.accounts[(role, "unrelated")]
    wrong = []

    for route, allowed in STATISTICS_ROUTES.items():
        path = route[1].replace("{table}", "months")
        matrix.client.cookies.clear()
        if path.startswith("/api/"):
            headers = {"Authorization": f"Bearer {account.token}"}
        else:
            headers = {"Cookie": f"__Host-staff={account.token}"}
        status = matrix.client.get(path, headers=headers, follow_redirects=False).status_code
        if (status == 403) == (role in allowed):
            wrong.append(f"{route[0]} {route[1]}: {status}")

    assert not wrong, "\n".join(wrong)


def test_a_pending_account_cannot_decide_its_own_approval(matrix: Matrix) -> None:
    """The account awaiting approval gets 403 on its own row; the admin who asked too."""
    pending = matrix.accounts[("investigator", "pending")]
    admin = matrix.accounts[("admin", "unrelated")]
    with unit_of_work(session_factory(matrix.engine)) as db:
        row = db.scalars(
            select(KeyApproval).where(KeyApproval.staff_id == pending.person.account.id)
        ).one()
        row_id = row.id

    answers = []
    for who in (pending, admin):
        matrix.client.cookies.clear()
        headers = {"Authorization": f"Bearer {who.token}"}
        path = f"/api/v1/staff/approvals/{row_id}/approve"
        answers.append(matrix.client.post(path, headers=headers).status_code)

    assert answers == [403, 403]
