"""The one rule for who may see a case, applied to single cases and to listing queries alike.

A staff member may not see a case when they are inactive, hold no role that reads case
content, were excluded by the reporter or recused themselves, are named as a subject, or
sit above a subject in the directory's management chain. The same rule decides who
receives a wrapped case key, so it is enforced cryptographically as well as here.

An account whose keys a colleague approved (cases/org/approvals.py) is kept away, too, from
every case that keeps that colleague away, and so on up the approvals: otherwise the accused,
who holds the team's other keys, approves an account a colluding admin made for him and
reads the case about himself through it (tests/functional/test_puppet_approval.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CTE

from cases.access.chains import chain_tree
from cases.access.names import staff_hash
from cases.db import server_secret_of
from cases.reports.models import Case, CaseExclusion, CaseSubject, KeyWrap, PendingGrant
from cases.staff.directory import directory_hashes
from cases.staff.models import KeyApproval, StaffAccount
from cases.staff.roles import POLICY_ROLES


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "ok", "inactive", "role", "excluded", "recused", "subject", "manager"

    def __bool__(self) -> bool:
        return self.allowed


def may_see(db: Session, staff: StaffAccount, case: Case) -> Decision:
    """Whether this person may see this case at all (listing, counting, reading, keys)."""
    if not staff.active:
        return Decision(False, "inactive")
    if not (staff.role_names & POLICY_ROLES):
        return Decision(False, "role")
    exclusions, vouched = _exclusions(db, case, [staff.id])
    return _decide(
        exclusions.get(staff.id),
        _subject_hashes(db, case),
        lambda: _chains(db, [staff], vouched)[staff.id],
    )


def _decide(
    exclusion: str | None, subject_hashes: set[str], chain: Callable[[], Chain]
) -> Decision:
    """may_see's rule once the case's exclusion of this person and its subjects are read;
    the person's chain is read only when the case names someone in the directory."""
    if exclusion is not None:
        if exclusion in ("recused", APPROVER):
            return Decision(False, exclusion)
        return Decision(False, "excluded")
    if not subject_hashes:
        return Decision(True, "ok")
    mine = chain()
    if mine.own & subject_hashes:
        return Decision(False, "subject")
    if mine.below & subject_hashes:
        return Decision(False, "manager")
    if mine.approvers & subject_hashes:
        return Decision(False, APPROVER)
    return Decision(True, "ok")


@dataclass(frozen=True)
class Chain:
    """Keyed hashes of a person's own directory entries and of everyone below them."""

    own: frozenset[str]
    below: frozenset[str]  # the own entries included: a chain starts at its head
    # The chains of everyone who approved this account's keys, up the approvals.
    approvers: frozenset[str] = frozenset()

    @property
    def conflicts(self) -> frozenset[str]:
        return self.below | self.approvers


def _chains(
    db: Session, staff: list[StaffAccount], vouched: dict[str, set[str]] | None = None
) -> dict[str, Chain]:
    """Each person's Chain, for any number of people in one recursive query.

    A person's own entries are every entry they have been linked to (by e-mail, or by the
    employee id they carry); below them is everyone who has ever reported to one of those,
    at any depth (chains.py reads the directory's history, migration 0025, so a directory
    change never lifts an exclusion). UNION (not UNION ALL) makes the recursion stop on a
    cyclic management chain.
    Hashed here under the server secret: the database never holds a hash beside an id.
    """
    ids = sorted({person.id for person in staff})
    if vouched is None:
        vouched = vouchers(db, ids)
    everyone = sorted(set(ids).union(*vouched.values()))
    rows = db.execute(_CHAINS, {"ids": everyone}).all() if everyone else []
    hashed = dict(
        zip(
            (r.employee_id for r in rows),
            directory_hashes(server_secret_of(db), [r.employee_id for r in rows]),
            strict=True,
        )
    )
    # Everyone is also the portal account they are: a report can name an account the
    # directory does not know (Matcher.candidates), and it is theirs whatever the directory says.
    secret = server_secret_of(db)
    own: dict[str, set[str]] = {i: {staff_hash(secret, i)} for i in everyone}
    below: dict[str, set[str]] = {i: set(own[i]) for i in everyone}
    for row in rows:
        below[row.staff_id].add(hashed[row.employee_id])
        if row.own:
            own[row.staff_id].add(hashed[row.employee_id])
    return {
        i: Chain(
            frozenset(own[i]),
            frozenset(below[i]),
            frozenset().union(*(below[v] for v in vouched.get(i, ()))),
        )
        for i in ids
    }


def _vouchers_cte() -> CTE:
    """(account, approver) for the accounts `ids` and, recursively, whoever approved the
    approvers; UNION stops on a cycle. Only approved rows: a pending or refused one hands
    out no key. A row forged as approved only adds a constraint here."""
    anchor = (
        select(KeyApproval.staff_id.label("account"), KeyApproval.decided_by.label("approver"))
        .where(
            KeyApproval.staff_id.in_(bindparam("ids", expanding=True)),
            KeyApproval.status == "approved",
            KeyApproval.decided_by.is_not(None),
        )
        .cte("approvers", recursive=True)
    )
    step = (
        select(anchor.c.account, KeyApproval.decided_by)
        .join(anchor, KeyApproval.staff_id == anchor.c.approver)
        .where(KeyApproval.status == "approved", KeyApproval.decided_by.is_not(None))
    )
    return anchor.union(step)


_APPROVERS = _vouchers_cte()
_VOUCHERS = select(_APPROVERS.c.account, _APPROVERS.c.approver)


def vouchers(db: Session, ids: list[str]) -> dict[str, set[str]]:
    """Everyone up the approvals of each of these accounts (themselves left out)."""
    found: dict[str, set[str]] = {}
    if not ids:
        return found
    for account, approver in db.execute(_VOUCHERS, {"ids": ids}):
        if approver != account:
            found.setdefault(account, set()).add(approver)
    return found


def _chains_statement() -> Select[tuple[str, str, bool]]:
    tree = chain_tree()
    return select(tree.c.staff_id, tree.c.employee_id, tree.c.own)


_CHAINS = _chains_statement()


# Built once (each keeps its cache key): every report filed is routed through eligible().
_SUBJECT_HASHES = select(CaseSubject.directory_hash).where(
    CaseSubject.case_id == bindparam("case"), CaseSubject.directory_hash.is_not(None)
)
APPROVER = "approver"
# One statement, so routing a new case to its team reads no more than before: the case's
# exclusions of these people (staff, reason, NULL); as "approver", those of anyone up their
# approvals (account, "approver", NULL); and who those approvers are (account, NULL, approver).
_EXCLUSIONS = union_all(
    select(CaseExclusion.staff_id, CaseExclusion.reason, literal(None, String)).where(
        CaseExclusion.case_id == bindparam("case"),
        CaseExclusion.staff_id.in_(bindparam("ids", expanding=True)),
    ),
    select(_APPROVERS.c.account, literal(APPROVER, String), literal(None, String))
    .join(CaseExclusion, CaseExclusion.staff_id == _APPROVERS.c.approver)
    .where(CaseExclusion.case_id == bindparam("case")),
    select(_APPROVERS.c.account, literal(None, String), _APPROVERS.c.approver),
)


def _exclusions(
    db: Session, case: Case, ids: list[str]
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Why the case keeps each of these people away (their own reason before an approver's),
    and everyone up each one's approvals."""
    reasons: dict[str, str] = {}
    vouched: dict[str, set[str]] = {}
    for staff_id, reason, approver in db.execute(_EXCLUSIONS, {"case": case.id, "ids": ids}):
        if approver is not None:
            if approver != staff_id:
                vouched.setdefault(staff_id, set()).add(approver)
        elif reasons.get(staff_id) in (None, APPROVER):
            # Several reasons may exclude one person; any one is enough, their own first.
            reasons[staff_id] = reason
    return reasons, vouched


def _subject_hashes(db: Session, case: Case) -> set[str]:
    return {h for h in db.scalars(_SUBJECT_HASHES, {"case": case.id}) if h is not None}


def may_open(db: Session, staff: StaffAccount, case: Case) -> Decision:
    """may_see plus holding (or awaiting) the case key, for a case whose hour has come: the
    single-case twin of visible_condition.

    Someone the policy would allow but who was never given the case (not on its team) must
    get the same answer at its URL as in the list: it does not exist for them.
    """
    if case.held_until is not None:
        # A new case before its hour is no case at all for staff (cases/reports/arrivals.py).
        return Decision(False, "held")
    decision = may_see(db, staff, case)
    if not decision:
        return decision
    holds = select(KeyWrap.id).where(
        KeyWrap.case_id == case.id, KeyWrap.staff_id == staff.id, KeyWrap.key_kind == "case"
    )
    awaiting = select(PendingGrant.id).where(
        PendingGrant.case_id == case.id,
        PendingGrant.staff_id == staff.id,
        PendingGrant.key_kind == "case",
    )
    if db.scalars(holds).first() is None and db.scalars(awaiting).first() is None:
        return Decision(False, "unrelated")
    return decision


def own_hashes(db: Session, staff: StaffAccount) -> set[str]:
    """Keyed hashes of this person's own directory entries, computed here: none are stored."""
    return set(_chains(db, [staff])[staff.id].own)


def conflict_hashes(db: Session, staff: StaffAccount) -> set[str]:
    """Keyed hashes of the people whose cases this person may not see: self and all below.

    Hashed in the application under the server secret, so the database never holds a
    hash beside a directory id (docs/access.md, "A stolen database").
    """
    return set(_chains(db, [staff])[staff.id].conflicts)


def _session(staff: StaffAccount, db: Session | None) -> Session:
    session = db if db is not None else object_session(staff)
    if session is None:
        raise RuntimeError("the access policy needs a session to read the directory")
    return session


def visible_condition(staff: StaffAccount, db: Session | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Case for listing and counting: the same rule as may_see, in SQL.

    A case is listed when its hour has come (it is not held as new), the person holds its key
    or is awaiting it, and neither an exclusion nor a subject conflict applies. The directory
    is read through `db` (by default the session `staff` belongs to) to hash the person's
    chain.
    """
    if not staff.active or not (staff.role_names & POLICY_ROLES):
        return literal(False)
    # One EXISTS over both tables, not `holds OR awaiting`: with an OR, PostgreSQL hashes
    # every key the person holds (100,000 for someone on every case) before the first row.
    holds = select(KeyWrap.case_id).where(
        KeyWrap.case_id == Case.id, KeyWrap.staff_id == staff.id, KeyWrap.key_kind == "case"
    )
    awaiting = select(PendingGrant.case_id).where(
        PendingGrant.case_id == Case.id,
        PendingGrant.staff_id == staff.id,
        PendingGrant.key_kind == "case",
    )
    has_key = exists(union_all(holds.correlate(Case), awaiting.correlate(Case)).subquery())
    # A new case is listed from the next full hour after its filing (cases/reports/arrivals.py).
    return and_(Case.held_until.is_(None), has_key, allowed_condition(staff, db))


def allowed_condition(staff: StaffAccount, db: Session | None = None) -> ColumnElement[bool]:
    """may_see as a WHERE clause on Case, without asking for a key: who *could* be given it."""
    if not staff.active or not (staff.role_names & POLICY_ROLES):
        return literal(False)
    session = _session(staff, db)
    vouched = vouchers(session, [staff.id])
    people = [staff.id, *sorted(vouched.get(staff.id, ()))]
    excluded = exists().where(CaseExclusion.case_id == Case.id, CaseExclusion.staff_id.in_(people))
    hashes = set(_chains(session, [staff], vouched)[staff.id].conflicts)
    if not hashes:
        return ~excluded
    conflicted = exists().where(CaseSubject.case_id == Case.id, _subject_among(session, hashes))
    return and_(~excluded, ~conflicted)


def _subject_among(db: Session, hashes: set[str]) -> ColumnElement[bool]:
    """case_subjects.directory_hash IN hashes, sent as one parameter however many there are.

    A manager's chain can be 10,000 people: an expanded IN list costs SQLAlchemy more to
    render on every page than the query costs the database.

    PostgreSQL gets an array it unnests in a subquery, kept inside COALESCE so the planner
    cannot pull the IN up into a join: it guesses 200 rows for the unnest and would loop
    over all 10,000 for every case. As an expression it is one hashed SubPlan, built once
    per statement and probed once per subject row. (`= ANY(array)` compares each row with
    the whole array once the statement is prepared, and costs ~100 ms to plan as a
    constant.) The value is the same: a NULL hash is not among them either way.
    SQLite gets a JSON array it reads with json_each, materialised once per statement as a
    temporary index (EXPLAIN QUERY PLAN: LIST SUBQUERY, not correlated).
    """
    ordered = sorted(hashes)
    if db.get_bind().dialect.name == "postgresql":
        unnested = select(func.unnest(literal(ordered, ARRAY(String))))
        member = CaseSubject.directory_hash.in_(unnested.scalar_subquery())
        return func.coalesce(member, False).is_(True)
    values = func.json_each(literal(json.dumps(ordered), String)).table_valued("value")
    return CaseSubject.directory_hash.in_(select(values.c.value).scalar_subquery())


def eligible(db: Session, staff: list[StaffAccount], case: Case) -> list[StaffAccount]:
    """The subset of candidates the policy lets see this case (used at routing and reassignment).

    may_see for each candidate, with the case's exclusions and subjects read once for all of
    them rather than once per person (a new case is routed to a whole team at filing)."""
    candidates = [p for p in staff if p.active and p.role_names & POLICY_ROLES]
    if not candidates:
        return []
    ids = {p.id for p in candidates}
    exclusions, vouched = _exclusions(db, case, sorted(ids))
    subjects = _subject_hashes(db, case)
    # Everyone's chain in one query (not two per person), and only when the case names
    # someone in the directory at all.
    chains = _chains(db, candidates, vouched) if subjects else {}
    return [
        person
        for person in candidates
        if _decide(exclusions.get(person.id), subjects, partial(chains.__getitem__, person.id))
    ]


__all__ = [
    "Decision",
    "allowed_condition",
    "conflict_hashes",
    "eligible",
    "may_open",
    "may_see",
    "own_hashes",
    "visible_condition",
]
